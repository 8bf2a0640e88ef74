import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CosignkitError, silentLogger } from '@cosignkit/core';
import { FileKeyManager } from '@cosignkit/key-file';
import { arbitraryText, fuzzParams, hostileValue, mutatedJson, mutatedText } from '../../../core/test/helpers/fuzz.js';
import { clientProof, newNonce } from '../../src/handshake.js';
import { agentPaths } from '../../src/paths.js';
import { handleKeyRequest, type PluginKeys } from '../../src/plugin/handle.js';
import { errorResponse, parseRequest } from '../../src/plugin/protocol.js';
import { AgentServer } from '../../src/server.js';
import { LineReader, decode, encode } from '../../src/wire.js';

// Property tests (issue 11) of what reaches the agent package from outside: the KMS plugin's request (argv
// from cosign: `v1 <json>`, with its method options) and the agent's frames on its socket (handshake and
// request lines, mutated from valid ones and sent to a real AgentServer on a private socket). Every answer is
// a value or an error with a documented code (never INTERNAL: a Node TypeError is a bug) and a one-line
// message with no raw control character.
const RAW_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
const DOCUMENTED = new Set([
  'USAGE',
  'KEY_REF_INVALID',
  'KEY_NOT_FOUND',
  'KEY_EXISTS',
  'KEY_MALFORMED',
  'ALGORITHM_UNSUPPORTED',
  'DIGEST_LENGTH',
  'NOT_SUPPORTED',
  'BACKEND_NOT_INSTALLED',
  'AGENT_UNTRUSTED',
  'VERIFICATION_FAILED',
  'PASSWORD_INCORRECT',
  'FILE_NOT_FOUND',
  'NOT_A_FILE',
]);

let root: string;
let storeDir: string;
let keyRef: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'cosignkit-agent-fuzz-'));
  storeDir = join(root, 'keys');
  const manager = new FileKeyManager(storeDir, { secrets: async () => 'fuzz-password' });
  await manager.generateKeyPair({ label: 'k' });
  keyRef = `file:${join(storeDir, 'k.key')}`;
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function checkError(code: unknown, message: unknown): void {
  expect(typeof code === 'string' && DOCUMENTED.has(code), `code ${String(code)}: ${String(message)}`).toBe(true);
  expect(typeof message).toBe('string');
  expect(RAW_CONTROL.test(message as string), JSON.stringify(message)).toBe(false);
}

describe('KMS plugin requests', () => {
  const digest = createHash('sha256').update('x').digest('base64');
  const valid = JSON.stringify({
    initOptions: { protocolVersion: 'v1', keyResourceID: 'file:k.key', hashFunc: 5 },
    methodName: 'signMessage',
    signMessage: { signOptions: { messageOptions: { digest, hashFunc: 5 } } },
  });
  const manager = () => new FileKeyManager(storeDir, { secrets: async () => 'fuzz-password' });
  const keys: PluginKeys = {
    // Every reference opens the one test key: a fuzzed reference must not reach any other file.
    open: async () => ({ manager: manager(), keyId: 'k' }),
    algorithms: async () => ['ecdsa-p256-sha256'],
  };

  it('parseRequest + handleKeyRequest: a response, or a CosignkitError with a documented code', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(mutatedJson(valid), arbitraryText),
        fc.constantFrom('v1', '1', 'v2', ''),
        async (json, version) => {
          try {
            const request = parseRequest([version, json]);
            await handleKeyRequest(request, keys, (async function* () {})());
          } catch (error) {
            if (!CosignkitError.isInstance(error)) {
              throw new Error(`not a CosignkitError: ${String(error)}`, { cause: error });
            }
            checkError(error.code, error.message);
            expect(errorResponse(error).errorMessage).not.toMatch(RAW_CONTROL);
          }
        },
      ),
      fuzzParams(300),
    );
  });

  it('a hashFunc or digest of the wrong type is USAGE, not a Node TypeError', async () => {
    for (const [hashFunc, d] of [
      ['5', digest],
      [{}, digest],
      [5.5, digest],
      [5, 123],
      [5, { a: 1 }],
      [5, 'not base64!'],
    ] as const) {
      const json = JSON.stringify({
        initOptions: { keyResourceID: 'file:k.key' },
        methodName: 'signMessage',
        signMessage: { signOptions: { messageOptions: { digest: d, hashFunc } } },
      });
      const error = await Promise.resolve()
        .then(() => handleKeyRequest(parseRequest(['v1', json]), keys, (async function* () {})()))
        .then(
          () => undefined,
          (e: unknown) => e as CosignkitError,
        );
      expect(CosignkitError.isInstance(error), `${String(hashFunc)} ${String(d)}`).toBe(true);
      expect(error!.code).toBe('USAGE');
    }
    const init = JSON.stringify({
      initOptions: { keyResourceID: 'file:k.key', hashFunc: 'sha256' },
      methodName: 'signMessage',
    });
    expect(() => parseRequest(['v1', init])).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });
});

describe('agent frames on a real socket', () => {
  let agent: AgentServer;
  beforeAll(async () => {
    agent = new AgentServer({
      paths: agentPaths({ COSIGNKIT_AGENT_DIR: join(root, 'agent') }),
      ttlMs: 60_000,
      config: {},
      env: {},
      logger: silentLogger,
      requestTimeoutMs: 2000,
    });
    await agent.listen();
  });
  afterAll(async () => {
    await agent.stop('test');
  });

  /** One exchange: hello (maybe mutated), then the request line; the agent's answer, parsed. */
  async function exchange(hello: string | undefined, request: (serverNonce: string, clientNonce: string) => string) {
    const token = Buffer.from(readFileSync(agent.paths.tokenFile, 'latin1').trim(), 'hex');
    const socket = connect(agent.paths.socket);
    socket.on('error', () => undefined);
    const reader = new LineReader(socket);
    const clientNonce = newNonce();
    socket.write(`${hello ?? JSON.stringify({ v: 2, hello: clientNonce })}\n`);
    const first = await reader.next().catch(() => undefined);
    if (first === undefined) return { closed: true as const };
    const challenge = decode(first) as { nonce?: string; ok?: boolean };
    if (challenge.ok === false || typeof challenge.nonce !== 'string') {
      socket.destroy();
      return { response: challenge as Record<string, unknown> };
    }
    socket.write(`${request(challenge.nonce, clientNonce).replace(/\n/g, ' ')}\n`);
    void token;
    const line = await reader.next().catch(() => undefined);
    socket.destroy();
    if (line === undefined) return { closed: true as const };
    return { response: decode(line) as Record<string, unknown> };
  }

  const proofFor = (serverNonce: string, clientNonce: string) =>
    clientProof(Buffer.from(readFileSync(agent.paths.tokenFile, 'latin1').trim(), 'hex'), clientNonce, serverNonce);

  function checkResponse(response: Record<string, unknown>): void {
    if (response.ok === true || 'needSecret' in response) return;
    const error = response.error as { code?: unknown; message?: unknown } | undefined;
    checkError(error?.code, error?.message);
  }

  it('mutated request frames get an answer with a documented code (never INTERNAL)', async () => {
    const digest = createHash('sha256').update('x').digest();
    const seeds = [
      encode({ v: 2, op: 'key', ref: 'REF', method: 'signDigest', args: [null, digest] }).trim(),
      encode({ v: 2, op: 'key', ref: 'REF', method: 'generateKeyPair', args: [{ algorithm: 'ed25519', label: 'g' }] }),
      encode({ v: 2, op: 'open', ref: 'REF', secrets: { password: 'fuzz-password' } }),
      encode({ v: 2, op: 'key', ref: 'REF', method: 'verifySignature', args: ['k', digest, digest] }),
    ].map((s) => s.trim());
    await fc.assert(
      fc.asyncProperty(fc.oneof(...seeds.map(mutatedJson), arbitraryText), fc.boolean(), async (text, withProof) => {
        const outcome = await exchange(undefined, (serverNonce, clientNonce) => {
          let value: unknown;
          try {
            value = JSON.parse(text);
          } catch {
            return text;
          }
          if (!value || typeof value !== 'object' || Array.isArray(value)) return text;
          const request = value as Record<string, unknown>;
          // Only the test's own key store: a fuzzed reference must not open or create files elsewhere.
          if (typeof request.ref === 'string') request.ref = keyRef;
          if (withProof) request.proof = proofFor(serverNonce, clientNonce);
          return JSON.stringify(request);
        });
        if ('response' in outcome) checkResponse(outcome.response!);
      }),
      fuzzParams(200, 3000),
    );
  });

  it('a malformed token proof (a number, an object, non-hex, the wrong length) is AGENT_UNTRUSTED', async () => {
    for (const proof of [123, {}, [], null, 'zz', 'ab'.repeat(40), { $b64: 'AA==' }]) {
      const outcome = await exchange(undefined, () => JSON.stringify({ v: 2, op: 'ping', proof }));
      expect('response' in outcome && (outcome.response!.error as { code: string }).code).toBe('AGENT_UNTRUSTED');
    }
  });

  it('mutated handshake lines are refused with a documented code or the connection is closed', async () => {
    const hello = JSON.stringify({ v: 2, hello: newNonce() });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          mutatedJson(hello),
          mutatedText(hello),
          hostileValue.map((v) => JSON.stringify(v) ?? ''),
        ),
        async (line) => {
          const outcome = await exchange(line.replace(/\n/g, ' '), () => '{}');
          if ('response' in outcome) checkResponse(outcome.response!);
        },
      ),
      fuzzParams(150),
    );
  });
});
