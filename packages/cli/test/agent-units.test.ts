import { describe, expect, it } from 'vitest';
import { absoluteRef } from '../src/agent/client.js';
import { parseDuration } from '../src/agent/duration.js';
import { agentPaths } from '../src/agent/paths.js';
import { decode, encode } from '../src/agent/wire.js';
import { cosignkitAlgorithm, defaultAlgorithmOf, errorResponse, hashOf, messageOptionsOf, parseRequest } from '../src/plugin/protocol.js';

describe('agent and plugin helpers', () => {
  it('absoluteRef: relative file paths, pin-source and module-path become absolute; the rest is kept', () => {
    expect(absoluteRef('keys/release.key', '/work')).toBe('file:/work/keys/release.key');
    expect(absoluteRef('cosignkit://keys/release.key', '/work')).toBe('file:/work/keys/release.key');
    expect(absoluteRef('file:keys/', '/work')).toBe('file:/work/keys/');
    expect(absoluteRef('/abs/a.key', '/work')).toBe('/abs/a.key');
    expect(absoluteRef('pkcs11:token=ci;object=r?module-path=/m.so&pin-source=pin.txt', '/work'))
      .toBe('pkcs11:token=ci;object=r?module-path=/m.so&pin-source=/work/pin.txt');
    expect(absoluteRef('pkcs11:token=ci?pin-source=file:/p', '/work')).toBe('pkcs11:token=ci?pin-source=file:/p');
    expect(absoluteRef('tpm:release?curve=p384', '/work')).toBe('tpm:release?curve=p384');
  });

  it('parseDuration', () => {
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('5')).toBe(5000);
    expect(parseDuration('0')).toBe(0);
    expect(parseDuration('ten minutes')).toBeUndefined();
  });

  it('agentPaths: the override, COSIGNKIT_AGENT_DIR, XDG_RUNTIME_DIR, then a per-uid temp dir (the only shared one)', () => {
    expect(agentPaths({ COSIGNKIT_AGENT_SOCKET: '/x/y.sock' }))
      .toEqual({ dir: '/x', socket: '/x/y.sock', tokenFile: '/x/y.sock.token', logFile: '/x/y.sock.log', sharedTemp: false });
    expect(agentPaths({ COSIGNKIT_AGENT_DIR: '/d', XDG_RUNTIME_DIR: '/run/user/1000' }).socket).toBe('/d/agent.sock');
    expect(agentPaths({ XDG_RUNTIME_DIR: '/run/user/1000' })).toMatchObject({ socket: '/run/user/1000/cosignkit/agent.sock', sharedTemp: false });
    expect(agentPaths({})).toMatchObject({ dir: expect.stringMatching(/cosignkit-agent-\d+$/), sharedTemp: true });
  });

  it('wire: bytes survive the JSON round trip', () => {
    const value = { digest: Buffer.from([0, 1, 255]), nested: [new Uint8Array([7])], text: 'a' };
    const back = decode(encode(value).trim()) as { digest: Uint8Array; nested: Uint8Array[]; text: string };
    expect([...back.digest]).toEqual([0, 1, 255]);
    expect([...back.nested[0]!]).toEqual([7]);
    expect(back.text).toBe('a');
  });

  it('protocol helpers', () => {
    expect(hashOf(5)).toEqual({ name: 'sha256', length: 32 });
    expect(hashOf(undefined).name).toBe('sha256');
    expect(() => hashOf(4)).toThrow(/hash function 4/);
    expect(cosignkitAlgorithm('ecdsa-sha2-384-nistp384')).toBe('ecdsa-p384-sha384');
    expect(cosignkitAlgorithm('ecdsa-p256-sha256')).toBe('ecdsa-p256-sha256');
    expect(defaultAlgorithmOf('keys/a.key')).toBe('ecdsa-sha2-256-nistp256');
    expect(messageOptionsOf({ messageOptions: { digest: 'AA==', hashFunc: 6 } })).toEqual({ digest: 'AA==', hashFunc: 6 });
    expect(messageOptionsOf({ digest: null })).toEqual({ digest: null, hashFunc: undefined });
    expect(() => parseRequest(['v1', '[]'])).toThrow(/not a JSON object/);
    expect(errorResponse(Object.assign(new Error('boom\nsecond line'), { code: 'KEY_NOT_FOUND' }))).toEqual({ errorMessage: 'cosignkit: boom [KEY_NOT_FOUND]' });
  });
});
