import { generateKeyPairSync, sign } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  attestationId,
  canonicalJson,
  gitBindingProblems,
  parseGitSubject,
  trustedKey,
  verifyEnvelope,
  verifyKeyManifest,
  type Envelope,
  type Statement,
} from '../src/index.js';

/** Seed 003's ReleaseGate forms, at the library level (the CLI tests cover the same through the binary). */
const SHA = 'abcdef0123456789abcdef0123456789abcdef01';

function statement(name: string, predicate: unknown = {}): Statement {
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name, digest: { sha256: '0'.repeat(64) } }],
    predicateType: 'https://releasegate.dev/attestation/v1',
    predicate,
  };
}

describe('git subjects', () => {
  it('parses git+https://github.com/<repo>@<sha> and nothing looser', () => {
    expect(parseGitSubject(`git+https://github.com/o/r@${SHA.toUpperCase()}`)).toEqual({ repo: 'o/r', commit: SHA });
    for (const bad of [
      `https://github.com/o/r@${SHA}`,
      `git+https://github.com/o@${SHA}`,
      'git+https://github.com/o/r@zz',
      `git+https://gitlab.com/o/r@${SHA}`,
    ])
      expect(parseGitSubject(bad)).toBeUndefined();
  });

  it('repo and commit must hold on one subject; a contradicting predicate fails', () => {
    const two: Statement = {
      ...statement(`git+https://github.com/o/a@${SHA}`),
      subject: [
        { name: `git+https://github.com/o/a@${SHA}`, digest: {} },
        { name: `git+https://github.com/o/b@${'f'.repeat(40)}`, digest: {} },
      ],
    };
    expect(gitBindingProblems(two, 'o/a', SHA)).toEqual([]);
    expect(gitBindingProblems(two, 'o/b', SHA).map((p) => p.rule)).toEqual(['require-commit']);
    const lying = statement(`git+https://github.com/o/a@${SHA}`, { subject: { repo: 'x/y', commit_sha: SHA } });
    expect(gitBindingProblems(lying, 'o/a', undefined).map((p) => p.rule)).toEqual(['require-repo']);
  });
});

describe('attestation_id', () => {
  const envelope = (payload: object): Envelope => ({
    payloadType: 'application/vnd.in-toto+json',
    payload: Buffer.from(JSON.stringify(payload)),
    signatures: [],
  });
  it('is the signed_payload_hash hex, lower-cased; else the payload sha256, said so', () => {
    const hex = 'AB'.repeat(32);
    expect(attestationId(envelope(statement('x', { signature: { signed_payload_hash: `sha256:${hex}` } })))).toEqual({
      id: hex.toLowerCase(),
      source: 'signed_payload_hash',
    });
    const other = attestationId(envelope(statement('x', { signature: { signed_payload_hash: 'md5:abc' } })));
    expect(other.source).toBe('payload');
    expect(other.id).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('raw-payload signatures and key manifests', () => {
  const ed = generateKeyPairSync('ed25519');
  const key = trustedKey(ed.publicKey, 'rg');
  const payload = Buffer.from('{"a":1}');
  const env: Envelope = {
    payloadType: 'application/vnd.in-toto+json',
    payload,
    signatures: [{ keyid: 'rg', sig: sign(null, payload, ed.privateKey) }],
  };

  it('verify only over the payload when asked', () => {
    expect(verifyEnvelope(env, [key]).allValid).toBe(false);
    expect(verifyEnvelope(env, [key], { signatureOver: 'payload' }).allValid).toBe(true);
  });

  it('a manifest is trusted only with a root signature over its exact bytes', () => {
    const root = generateKeyPairSync('ed25519');
    const manifest = JSON.stringify({ rg: ed.publicKey.export({ type: 'spki', format: 'pem' }) });
    const sig = sign(null, Buffer.from(manifest), root.privateKey).toString('base64');
    expect(verifyKeyManifest(manifest, sig, root.publicKey, 'm').map((k) => k.keyid)).toEqual(['rg']);
    expect(() => verifyKeyManifest(manifest, undefined, root.publicKey, 'm')).toThrow(/unsigned/);
    expect(() => verifyKeyManifest(`${manifest} `, sig, root.publicKey, 'm')).toThrow(/pinned root key/);
    expect(() => verifyKeyManifest(manifest, 'not base64!', root.publicKey, 'm')).toThrow(/pinned root key/);
  });
});

describe('canonicalJson (RFC 8785)', () => {
  it('is idempotent and independent of key order', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.oneof(fc.integer(), fc.string(), fc.boolean())), (obj) => {
        const once = canonicalJson(Buffer.from(JSON.stringify(obj)));
        const reversed = Object.fromEntries(Object.entries(obj).reverse());
        expect(canonicalJson(once).equals(once)).toBe(true);
        expect(canonicalJson(Buffer.from(JSON.stringify(reversed))).equals(once)).toBe(true);
      }),
    );
  });
});
