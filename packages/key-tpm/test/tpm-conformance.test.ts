import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyBackendConformance } from '@cosignkit/key-testkit';
import { backend } from '../src/index.js';
import { testContext } from './context.js';
import { proveTpmNonExtractable } from './non-extractable-probe.js';
import { startSwtpm, type Swtpm } from './swtpm-harness.js';

// One swtpm and one keystore home per suite; the kit calls storeRef once.
function suite(
  name: string,
  query: string,
  algorithms: Parameters<typeof keyBackendConformance>[0]['algorithms'],
): void {
  let tpm: Swtpm | undefined;
  // The kit takes the context when the file loads, so the keystore home exists before the swtpm does.
  const home = mkdtempSync(join(tmpdir(), 'cosignkit-tpm-home-'));
  keyBackendConformance({
    name,
    backend,
    algorithms,
    storeRef: async () => {
      tpm = await startSwtpm();
      return `tpm:?${query}tcti=${tpm.tcti}`;
    },
    context: testContext(home),
    proveNonExtractable: proveTpmNonExtractable,
    teardown: async () => {
      await tpm?.stop();
      await rm(home, { recursive: true, force: true });
    },
  });
}

suite('tpm (swtpm, P-256 and P-384)', '', ['ecdsa-p256-sha256', 'ecdsa-p384-sha384']);
suite('tpm (swtpm, store opened with curve=p384)', 'curve=p384&', ['ecdsa-p384-sha384']);
