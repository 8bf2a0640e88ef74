import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DevStack, STACK_FILES, type StackInfo } from '@cosignkit/dev-stack';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cosignkit, cosignVerifiesKeyless, expectFailure, expectOk, requireCosign, tempHome } from './helpers.js';

// A keyless sign-blob's Fulcio requests, as Fulcio sees them: the CLI is pointed at a counting relay on loopback
// in front of the stack's Fulcio (@sigstore/mock served by @cosignkit/dev-stack over real HTTP), which counts
// the signingCert requests it passes on. A certificate is issued for every such request (a real Fulcio logs it
// in its CT log), so a line the command refuses must cause none, and a keyless signature exactly one. A
// request started before the command loads was tried (branch w8-keyless, bd6bc6d) and measured no faster on
// two cores: these tests pin what any such change must keep.
let stack: DevStack;
let info: StackInfo;
let relay: http.Server;
let relayUrl: string;
let signingCertRequests = 0;
/** When set, the relay answers signingCert with this status instead of passing the request on. */
let refuseWith: number | undefined;
const home = tempHome();
const cwd = home.dir;
const trust = (name: keyof typeof STACK_FILES) => join(cwd, 'stack', STACK_FILES[name]);

beforeAll(async () => {
  requireCosign();
  stack = await DevStack.start();
  info = await stack.writeFiles(join(cwd, 'stack'));
  writeFileSync(join(cwd, 'blob.txt'), 'keyless on the local stack\n');
  relay = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.url === '/api/v2/signingCert') signingCertRequests++;
      if (refuseWith !== undefined) {
        response.writeHead(refuseWith, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ message: 'refused by the test' }));
        return;
      }
      const onward = http.request(
        `${info.fulcioUrl}${request.url}`,
        { method: request.method, headers: { 'content-type': 'application/json' } },
        (answer) => {
          response.writeHead(answer.statusCode ?? 502, { 'content-type': 'application/json' });
          answer.pipe(response);
        },
      );
      onward.on('error', () => response.destroy());
      onward.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  relayUrl = `http://127.0.0.1:${(relay.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => relay?.close(resolve));
  await stack?.close();
  home.cleanup();
});

beforeEach(() => {
  signingCertRequests = 0;
  refuseWith = undefined;
});

const token = () => ({ SIGSTORE_ID_TOKEN: info.token });
const keyless = (
  bundle: string,
  extra: string[] = [],
  options: { env?: Record<string, string | undefined>; dir?: string } = {},
) =>
  cosignkit(
    ['sign-blob', '--fulcio-url', relayUrl, '--rekor-url', info.rekorUrl, '--bundle', bundle, ...extra, 'blob.txt'],
    { cwd: options.dir ?? cwd, env: options.env ?? token() },
  );

describe("a keyless sign-blob's code caches", () => {
  // The bin runs the sign-blob bundle and the two keyless files with code caches made after a run
  // (core's src/shared/code-cached-bundle.ts); a keyless run keeps its own cache of the bundle, apart from a keyed run's.
  it('are written by the first run (the bundle’s keyless one and both keyless files) and used by the next', async () => {
    const cache = join(cwd, 'keyless-cache');
    mkdirSync(cache, { mode: 0o700 });
    const env = { ...token(), XDG_CACHE_HOME: cache };
    expectOk(await keyless('cached.json', [], { env }));
    const dir = join(cache, 'cosignkit', 'code-cache');
    const names = readdirSync(dir).sort();
    expect(names.map((name) => name.replace(/\.v\d+\.\d+\.\d+-\w+$/, ''))).toEqual([
      'cosignkit-sigstore-keyless.cjs',
      'cosignkit-sigstore-signing.cjs',
      'sign-blob-main.cjs.keyless',
    ]);
    const before = names.map((name) => statSync(join(dir, name)));
    expectOk(await keyless('cached.json', [], { env }));
    // Used as they are: a cache V8 rejected (or one made from another file) would have been rewritten.
    const after = names.map((name) => statSync(join(dir, name)));
    expect(after.map((s) => [s.ino, s.mtimeMs])).toEqual(before.map((s) => [s.ino, s.mtimeMs]));
    expect(signingCertRequests).toBe(2);
  });
});

describe("a keyless sign-blob's Fulcio requests", () => {
  it('are one per signature, and the real cosign verifies the bundle', async () => {
    expectOk(await keyless('one.json'));
    expect(signingCertRequests).toBe(1);
    const bundle = JSON.parse(readFileSync(join(cwd, 'one.json'), 'utf8')) as Record<string, any>;
    expect(bundle.verificationMaterial.certificate.rawBytes).toBeTypeOf('string');
    expect(bundle.verificationMaterial.tlogEntries).toHaveLength(1);
    expectOk(
      await cosignVerifiesKeyless(
        { trustedRoot: trust('trustedRoot'), identity: info.identity, issuer: info.issuerUrl },
        'one.json',
        'blob.txt',
        cwd,
      ),
    );
    // Global flags anywhere, --flag=value, --output-signature: still one request.
    expectOk(
      await cosignkit(
        [
          '--json',
          'sign-blob',
          `--fulcio-url=${relayUrl}`,
          `--rekor-url=${info.rekorUrl}`,
          '--bundle=two.json',
          '--output-signature',
          'two.sig',
          'blob.txt',
          '--no-agent',
        ],
        { cwd, env: token() },
      ),
    );
    expect(signingCertRequests).toBe(2);
  });

  it('are not made for a line the command refuses', async () => {
    const refused: [string, string[], Record<string, string | undefined>, string][] = [
      ['--key with --fulcio-url', ['--key', 'cosign.key'], token(), 'USAGE'],
      ['a flag sign-blob does not know', ['--no-such-flag'], token(), 'USAGE'],
      ['a boolean flag with a bad value', ['--tlog-upload=maybe'], token(), 'USAGE'],
      ['--push (keyless cannot push)', ['--push', '127.0.0.1:1/x'], token(), 'USAGE'],
      ['--new-bundle-format=false', ['--new-bundle-format=false'], token(), 'USAGE'],
      ['no log and no timestamp authority', ['--tlog-upload=false'], token(), 'USAGE'],
      ['a --rekor-url that is not a URL', ['--rekor-url', 'not a url'], token(), 'USAGE'],
      ['an --engine that does not exist', ['--engine', 'warp'], token(), 'USAGE'],
      ['no token at all', [], { SIGSTORE_ID_TOKEN: undefined }, 'USAGE'],
      ['a token that is not a JWT', [], { SIGSTORE_ID_TOKEN: 'not-a-jwt' }, 'IDENTITY_TOKEN'],
    ];
    for (const [why, extra, env, code] of refused) {
      const bundle = `refused-${signingCertRequests}.json`;
      const run = await keyless(bundle, extra, { env });
      expectFailure(run, 1, code);
      expect(signingCertRequests, why).toBe(0);
      expect(existsSync(join(cwd, bundle)), why).toBe(false);
    }
    // Two files, a missing --bundle, a file that is not there.
    for (const args of [
      ['sign-blob', '--fulcio-url', relayUrl, '--bundle', 'b.json', 'blob.txt', 'blob.txt'],
      ['sign-blob', '--fulcio-url', relayUrl, 'blob.txt'],
      ['sign-blob', '--fulcio-url', relayUrl, '--bundle', 'b.json', 'missing.txt'],
    ]) {
      expect((await cosignkit(args, { cwd, env: token() })).code).not.toBe(0);
      expect(signingCertRequests, args.join(' ')).toBe(0);
    }
  });

  it('are not made by other commands, help, or with a config file the command cannot read', async () => {
    expect(
      (
        await cosignkit(['verify-blob', '--fulcio-url', relayUrl, '--bundle', 'one.json', 'blob.txt'], {
          cwd,
          env: token(),
        })
      ).code,
    ).not.toBe(0);
    expect(
      (await cosignkit(['attest-blob', '--fulcio-url', relayUrl, 'blob.txt'], { cwd, env: token() })).code,
    ).not.toBe(0);
    expectOk(
      await cosignkit(['sign-blob', '--fulcio-url', relayUrl, '--bundle', 'h.json', '--help', 'blob.txt'], {
        cwd,
        env: token(),
      }),
    );
    expect(signingCertRequests).toBe(0);
    const project = join(cwd, 'broken-config');
    mkdirSync(project);
    writeFileSync(join(project, 'blob.txt'), 'x');
    writeFileSync(join(project, 'cosignkit.config.json'), '{ not json');
    expectFailure(await keyless('c.json', [], { dir: project }), 1, 'USAGE');
    expect(signingCertRequests).toBe(0);
    expect(existsSync(join(project, 'c.json'))).toBe(false);
  });

  it('that Fulcio refuses end in exit 1, one line with its code, no bundle', async () => {
    refuseWith = 403;
    const run = await keyless('r403.json');
    expectFailure(run, 1, 'IDENTITY_TOKEN');
    expect(run.stderr).toMatch(/Fulcio at http:\/\/127\.0\.0\.1:\d+ refused: 403/);
    expect(run.stderr).not.toContain(info.token);
    // Asked once: the refusal is final for the command, signing does not ask again.
    expect(signingCertRequests).toBe(1);
    expect(existsSync(join(cwd, 'r403.json'))).toBe(false);
    refuseWith = 503;
    expectFailure(await keyless('r503.json'), 1, 'BACKEND_FAILURE');
    expect(existsSync(join(cwd, 'r503.json'))).toBe(false);
  });

  it('with a token Fulcio refuses (wrong audience) or an expired one end the same way', async () => {
    const tokenFromEndpoint = async (params: Record<string, string>) => {
      const answer = await fetch(`${info.issuerUrl}/token`, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'client_credentials', ...params }),
      });
      return ((await answer.json()) as { id_token: string }).id_token;
    };
    const wrongAudience = await tokenFromEndpoint({ audience: 'not-sigstore' });
    const refused = await keyless('aud.json', [], { env: { SIGSTORE_ID_TOKEN: wrongAudience } });
    expectFailure(refused, 1, 'IDENTITY_TOKEN');
    expect(refused.stderr).toMatch(/refused: 401/);
    expect(refused.stderr).not.toContain(wrongAudience);
    expect(signingCertRequests).toBe(1);
    expect(existsSync(join(cwd, 'aud.json'))).toBe(false);
    signingCertRequests = 0;
    const expired = await keyless('exp.json', [], {
      env: { SIGSTORE_ID_TOKEN: await tokenFromEndpoint({ ttl: '-120' }) },
    });
    expectFailure(expired, 1, 'IDENTITY_TOKEN');
    expect(expired.stderr).toMatch(/expired/);
    expect(signingCertRequests).toBe(0);
    expect(existsSync(join(cwd, 'exp.json'))).toBe(false);
  });

  it('to a Fulcio that is down end the same way', async () => {
    const down = http.createServer();
    await new Promise<void>((resolve) => down.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(down.address() as AddressInfo).port}`;
    await new Promise((resolve) => down.close(resolve));
    const run = await cosignkit(
      ['sign-blob', '--fulcio-url', url, '--rekor-url', info.rekorUrl, '--bundle', 'down.json', 'blob.txt'],
      { cwd, env: token() },
    );
    expectFailure(run, 1, 'BACKEND_UNAVAILABLE');
    expect(existsSync(join(cwd, 'down.json'))).toBe(false);
  });
});
