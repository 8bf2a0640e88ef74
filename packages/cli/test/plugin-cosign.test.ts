import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSoftHsm, type SoftHsm } from '../../key-pkcs11/test/softhsm.js';
import { EMPTY_TRUSTED_ROOT, PASSWORD, cosign, cosignkit, requireCosign, tempHome, type Run } from './helpers.js';
import { PATH_WITH_PLUGIN, startAgent, type TestAgent } from './plugin-harness.js';

// Stock cosign with `--key cosignkit://…`: it runs bin/sigstore-kms-cosignkit from PATH, which works alone or
// through the agent. File keys and PKCS#11 keys on a SoftHSM2 token of this test's own.
const PIN = '7351-plugin-pin';
let home: ReturnType<typeof tempHome>;
let hsm: SoftHsm;

beforeAll(async () => {
  requireCosign();
  home = tempHome();
  hsm = await startSoftHsm([]);
  await hsm.initToken('plug', PIN);
  writeFileSync(join(home.dir, 'trusted_root.json'), EMPTY_TRUSTED_ROOT);
});
afterAll(async () => {
  await hsm?.stop();
  home?.cleanup();
});

function expectOk(run: Run, what: string): void {
  expect(run.code, `${what}: ${run.stderr}`).toBe(0);
  expect(run.stdout + run.stderr, what).not.toContain(PASSWORD);
  expect(run.stdout + run.stderr, what).not.toContain(PIN);
}

const KINDS = {
  file: { ref: (name: string) => `keys/${name}.key`, secret: () => ({ COSIGN_PASSWORD: PASSWORD }) },
  pkcs11: {
    ref: (name: string) => `pkcs11:token=plug;object=${name}?module-path=${hsm.modulePath}`,
    secret: () => ({ COSIGN_PKCS11_PIN: PIN }),
  },
} as const;

describe.each(['without the agent', 'with the agent'] as const)('cosign with the plugin, %s', (mode) => {
  const withAgent = mode === 'with the agent';
  let agent: TestAgent | undefined;
  let base: Record<string, string>;

  beforeAll(async () => {
    const dir = join(home.dir, withAgent ? 'agent-mode' : 'direct-mode');
    mkdirSync(dir, { recursive: true });
    if (withAgent) {
      agent = await startAgent(dir, { SOFTHSM2_CONF: hsm.conf });
      base = { ...agent.env, PATH: PATH_WITH_PLUGIN, SOFTHSM2_CONF: hsm.conf };
    } else {
      base = {
        COSIGNKIT_AGENT_SOCKET: join(dir, 'none', 'agent.sock'),
        PATH: PATH_WITH_PLUGIN,
        SOFTHSM2_CONF: hsm.conf,
      };
    }
  });
  afterAll(async () => {
    await agent?.stop();
  });

  it.each(Object.keys(KINDS) as (keyof typeof KINDS)[])(
    '%s key: generate-key-pair --kms, public-key, sign-blob, verify-blob (cosign and cosignkit)',
    async (kind) => {
      const name = withAgent ? 'agented' : 'direct';
      const cwd = join(home.dir, `${kind}-${name}`);
      mkdirSync(cwd, { recursive: true });
      writeFileSync(join(cwd, 'artifact.txt'), `signed by cosign through cosignkit (${kind}, ${mode})\n`);
      const key = `cosignkit://${KINDS[kind].ref(name)}`;
      const env = { ...base, ...KINDS[kind].secret() };
      const run = (args: string[], extra: Record<string, string | undefined> = {}) =>
        cosign(args, { cwd, env: { ...env, ...extra } });

      expectOk(await run(['generate-key-pair', '--kms', key]), 'generate-key-pair --kms');
      expect(readFileSync(join(cwd, 'cosign.pub'), 'utf8')).toContain('BEGIN PUBLIC KEY');
      expectOk(await run(['public-key', '--key', key, '--outfile', 'key.pub']), 'public-key');
      expect(readFileSync(join(cwd, 'key.pub'), 'utf8')).toBe(readFileSync(join(cwd, 'cosign.pub'), 'utf8'));

      expectOk(
        await run([
          'sign-blob',
          '--key',
          key,
          '--tlog-upload=false',
          '--yes',
          '--bundle',
          'new.bundle',
          '--new-bundle-format',
          'artifact.txt',
        ]),
        'sign-blob new bundle',
      );
      expectOk(
        await run([
          'sign-blob',
          '--key',
          key,
          '--tlog-upload=false',
          '--yes',
          '--bundle',
          'old.bundle',
          '--output-signature',
          'artifact.sig',
          'artifact.txt',
        ]),
        'sign-blob .sig',
      );

      const verifyNew = [
        'verify-blob',
        '--key',
        'key.pub',
        '--insecure-ignore-tlog=true',
        '--trusted-root',
        '../trusted_root.json',
        '--bundle',
        'new.bundle',
        '--new-bundle-format',
        'artifact.txt',
      ];
      expectOk(await run(verifyNew), 'cosign verify-blob new bundle');
      expectOk(
        await run([
          'verify-blob',
          '--key',
          'key.pub',
          '--insecure-ignore-tlog=true',
          '--signature',
          'artifact.sig',
          'artifact.txt',
        ]),
        'cosign verify-blob .sig',
      );
      expectOk(
        await run([
          'verify-blob',
          '--key',
          key,
          '--insecure-ignore-tlog=true',
          '--signature',
          'artifact.sig',
          'artifact.txt',
        ]),
        'cosign verify-blob --key cosignkit://',
      );
      expectOk(
        await cosignkit(['verify-blob', '--key', 'key.pub', '--bundle', 'new.bundle', 'artifact.txt'], { cwd, env }),
        'cosignkit verify-blob bundle',
      );
      expectOk(
        await cosignkit(['verify-blob', '--key', 'key.pub', '--signature', 'artifact.sig', 'artifact.txt'], {
          cwd,
          env,
        }),
        'cosignkit verify-blob .sig',
      );

      // The verifiers can say no: a changed file fails both.
      writeFileSync(join(cwd, 'artifact.txt'), 'changed\n');
      expect((await run(verifyNew)).code).not.toBe(0);
      expect(
        (await cosignkit(['verify-blob', '--key', 'key.pub', '--bundle', 'new.bundle', 'artifact.txt'], { cwd, env }))
          .code,
      ).toBe(2);

      if (withAgent) {
        // The agent holds the store open: signing again needs no password or PIN, and status lists the store.
        const secretless = await run(
          [
            'sign-blob',
            '--key',
            key,
            '--tlog-upload=false',
            '--yes',
            '--output-signature',
            'again.sig',
            'artifact.txt',
          ],
          { COSIGN_PASSWORD: undefined, COSIGN_PKCS11_PIN: undefined },
        );
        expectOk(secretless, 'sign-blob through the agent without a secret');
        const status = await cosignkit(['--json', 'agent', 'status'], { cwd, env });
        const stores = (JSON.parse(status.stdout) as { stores: { backend: string }[] }).stores;
        expect(stores.map((s) => s.backend)).toContain(kind);
      } else {
        // Without the agent every call opens the key itself: no secret, no signature.
        const secretless = await run(
          [
            'sign-blob',
            '--key',
            key,
            '--tlog-upload=false',
            '--yes',
            '--output-signature',
            'again.sig',
            'artifact.txt',
          ],
          { COSIGN_PASSWORD: undefined, COSIGN_PKCS11_PIN: undefined },
        );
        expect(secretless.code).not.toBe(0);
        expect(secretless.stderr).toMatch(/PASSWORD_REQUIRED/);
      }
    },
  );
});
