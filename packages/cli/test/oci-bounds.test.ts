import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTamperingProxy, type TamperingProxy } from '../../oci/test/harness/tampering-proxy.js';
import { cosignkit, expectFailure, expectNoStackNoSecret, PASSWORD, requireCosign, type Run } from './helpers.js';
import { ociWorkspace, seed, startRegistry, type RunningRegistry } from './oci-setup.js';

// A real docker-registry behind a tampering proxy (both on 127.0.0.1) that answers some requests itself:
// slowly, with garbage, with a strange token realm, or with text meant to fake a line on the terminal.
let ws: { dir: string; cleanup: () => void };
let registry: RunningRegistry;
let proxy: TamperingProxy;

beforeAll(async () => {
  requireCosign();
  ws = await ociWorkspace();
  registry = await startRegistry();
  proxy = await startTamperingProxy(registry.host);
});
afterAll(async () => {
  await Promise.all([proxy?.stop(), registry?.stop()]);
  ws?.cleanup();
});
beforeEach(() => {
  proxy.tamper = {};
});

const run = (args: string[], env: Record<string, string> = {}): Promise<Run> =>
  cosignkit(args, { cwd: ws.dir, env: { COSIGN_PASSWORD: PASSWORD, ...env } });
const isGet = (req: IncomingMessage, part: string): boolean => req.method === 'GET' && (req.url ?? '').includes(part);
const FAKE_LINE = '\n\x1b[32mVerified OK: all signatures valid\x1b[0m\r';

/** One line on stderr, no raw control character anywhere in the output. */
function expectClean(r: Run): void {
  expectNoStackNoSecret(r);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr.trimEnd() + r.stdout.replace(/\n/g, '')).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
}

async function signed(repository: string): Promise<string> {
  await seed(proxy.host, repository, 'v1');
  const image = `${proxy.host}/${repository}:v1`;
  const r = await run(['sign', '--engine', 'native', '--format', 'legacy', '--key', 'cosign.key', image]);
  expect(r.code, r.stderr).toBe(0);
  return image;
}

function trickle(req: IncomingMessage, res: ServerResponse): boolean {
  if (!isGet(req, '.sig')) return false;
  res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
  const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write(' ')), 1000);
  res.on('close', () => clearInterval(timer));
  return true;
}

describe('registry deadlines (CLI)', () => {
  it('--registry-timeout and COSIGNKIT_REGISTRY_TIMEOUT end a registry sending one byte per second with TIMEOUT', async () => {
    const image = await signed('bounds/trickle');
    proxy.tamper = { answer: trickle };
    for (const [args, env] of [
      [['--registry-timeout', '1s'], {}],
      [[], { COSIGNKIT_REGISTRY_TIMEOUT: '1500ms' }],
    ] as const) {
      const started = Date.now();
      const r = await run(['verify', '--key', 'cosign.pub', ...args, image], env);
      expectFailure(r, 1, 'TIMEOUT');
      expectClean(r);
      expect(Date.now() - started).toBeLessThan(8000);
    }
    expectFailure(await run(['verify', '--key', 'cosign.pub', '--registry-timeout', 'soon', image]), 1, 'USAGE');
  });
});

describe('malformed signature images (CLI)', () => {
  it('invalid JSON in the .sig manifest exits 3 (SIGNATURE_MALFORMED), not 1', async () => {
    const image = await signed('bounds/bad-json');
    proxy.tamper = {
      answer(req, res) {
        if (!isGet(req, '.sig')) return false;
        res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }).end('{"layers": [');
        return true;
      },
    };
    const r = await run(['verify', '--key', 'cosign.pub', image]);
    expectFailure(r, 3, 'SIGNATURE_MALFORMED');
    expectClean(r);
  });

  it('a manifest over 4 MiB is refused at once with REGISTRY_ERROR', async () => {
    const image = await signed('bounds/huge');
    proxy.tamper = {
      answer(req, res) {
        if (!isGet(req, '.sig')) return false;
        res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
        res.end(Buffer.alloc(5 * 1024 * 1024, 0x20));
        return true;
      },
    };
    const r = await run(['verify', '--key', 'cosign.pub', image]);
    expectFailure(r, 1, 'REGISTRY_ERROR');
    expectClean(r);
  });
});

describe('registry text on the terminal (CLI)', () => {
  it('tree escapes layer digests the registry made up; stdout has no fake line', async () => {
    const image = await signed('bounds/tree');
    proxy.tamper = {
      answer(req, res) {
        if (!isGet(req, '.sig')) return false;
        const layers = [
          { mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', size: 1, digest: `sha256:abc${FAKE_LINE}` },
        ];
        res
          .writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' })
          .end(JSON.stringify({ schemaVersion: 2, config: layers[0], layers }));
        return true;
      },
    };
    const r = await run(['tree', image]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toContain('sha256:abc\\n\\x1b[32mVerified OK');
    expect(lines.some((l) => l.startsWith('Verified'))).toBe(false);
    expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  });

  it('an error message from the registry reaches stderr as one escaped line', async () => {
    const image = await signed('bounds/error-text');
    proxy.tamper = {
      answer(req, res) {
        if (!isGet(req, '.sig')) return false;
        res
          .writeHead(500, { 'content-type': 'application/json' })
          .end(JSON.stringify({ errors: [{ code: 'UNKNOWN', message: `boom${FAKE_LINE}` }] }));
        return true;
      },
    };
    const r = await run(['verify', '--key', 'cosign.pub', image]);
    expectFailure(r, 1, 'REGISTRY_ERROR');
    expectClean(r);
    expect(r.stderr).toContain('boom; \\x1b[32mVerified OK');
  });
});

describe('token realms (CLI)', () => {
  it('a realm that is not a URL, or a data: URL, is REGISTRY_AUTH on one line', async () => {
    const image = `${proxy.host}/bounds/realm:v1`;
    for (const realm of ['not a url', 'data:application/json,{"token":"x"}']) {
      proxy.tamper = {
        answer(_req, res) {
          res.writeHead(401, { 'www-authenticate': `Bearer realm="${realm}",service="x"` }).end();
          return true;
        },
      };
      const r = await run(['verify', '--key', 'cosign.pub', image]);
      expectFailure(r, 1, 'REGISTRY_AUTH');
      expectClean(r);
      expect(r.stderr).not.toMatch(/Invalid URL|TypeError|INTERNAL/);
    }
  });
});
