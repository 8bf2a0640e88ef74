import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyBackendConformance } from '@cosignkit/key-testkit';
import { backend } from '../src/index.js';

let dir: string | undefined;

keyBackendConformance({
  name: 'file',
  backend,
  storeRef: async () => {
    dir ??= await mkdtemp(join(tmpdir(), 'cosignkit-key-file-conformance-'));
    return `file:${dir}/`;
  },
  teardown: async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  },
});
