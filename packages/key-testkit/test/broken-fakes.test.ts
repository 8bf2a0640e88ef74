import { createHash, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  CosignkitError,
  parseKeyRef,
  type BackendCapabilities,
  type KeyAlgorithm,
  type KeyInfo,
  type KeyManager,
} from '@cosignkit/core';
import {
  ConformanceError,
  SecretWatch,
  checkSecretHygiene,
  checkAbortedSigning,
  checkCloseIdempotent,
  checkConcurrentSigning,
  checkContractShape,
  checkDelete,
  checkDeleteRefused,
  checkDigestLength,
  checkDuplicateLabelRefused,
  checkGenerate,
  checkGenerateRefused,
  checkKeyInfo,
  checkListed,
  checkNonExtractable,
  checkPublicKeyViews,
  checkRefReopens,
  checkSelection,
  checkSignature,
  checkSignMessage,
  checkUndeclaredAlgorithmRefused,
  checkUnknownKey,
  checkVerifySignature,
  defaultContext,
  uniqueLabel,
  type Subject,
} from '../src/index.js';
import { fakeBrokenBackend, type Breakage } from './fakes/broken-backend.js';
import { fakeMemoryBackend } from '../src/fakes/fake-memory-backend.js';

// A kit that cannot fail is worthless: every check here meets a fake with one deliberate fault, and must
// reject it with a message naming that fault. The same checks pass on the healthy fake (fake-memory.conformance).

interface Setup {
  subject: Subject;
  info: KeyInfo;
}

async function setUp(
  breakage: Breakage,
  algorithm: KeyAlgorithm = 'ecdsa-p256-sha256',
  caps: Partial<BackendCapabilities> = {},
): Promise<Setup> {
  const healthy = fakeMemoryBackend(caps);
  const backend = fakeBrokenBackend(healthy, breakage);
  const storeRef = `memory:broken-${randomUUID()}`;
  const context = defaultContext();
  const seeding = await healthy.open(parseKeyRef(storeRef), context);
  const label = uniqueLabel(algorithm);
  // Seed through the healthy manager (a read-only fake refuses generate): the fault is in what is checked.
  const info =
    caps.generate === false
      ? (seeding as unknown as { add(a: KeyAlgorithm, l: string): KeyInfo }).add(algorithm, label)
      : await seeding.generateKeyPair({ algorithm, label });
  const manager = await backend.open(parseKeyRef(storeRef), context);
  return { subject: { backend, manager, context, storeRef }, info };
}

async function expectFailure(action: Promise<unknown>, message: RegExp): Promise<void> {
  const error = await action.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'the check passed a broken backend').toBeInstanceOf(ConformanceError);
  expect((error as Error).message).toMatch(message);
}

const flipLastByte = (bytes: Uint8Array): Uint8Array => {
  const copy = new Uint8Array(bytes);
  copy[copy.length - 1]! ^= 0x01;
  return copy;
};

/** DER → raw r‖s, what a PKCS#11 token returns before conversion. */
function derToRaw(der: Uint8Array, size: number): Uint8Array {
  const rLength = der[3]!;
  const r = der.subarray(4, 4 + rLength);
  const s = der.subarray(6 + rLength);
  const pad = (x: Uint8Array) => Buffer.concat([Buffer.alloc(size), Buffer.from(x)]).subarray(-size);
  return new Uint8Array(Buffer.concat([pad(r), pad(s)]));
}

describe('contract shape catches', () => {
  const healthy = fakeMemoryBackend();
  it.each([
    ['specVersion 2', { specVersion: 2 }, /specVersion is 2/],
    ['an upper-case name', { name: 'Memory' }, /name "Memory"/],
    ['empty schemes', { schemes: [] }, /schemes is empty/],
    ['a one-letter scheme (a drive letter)', { schemes: ['m'] }, /scheme "m"/],
    ['a scheme twice', { schemes: ['memory', 'memory'] }, /twice/],
    ['a missing keyIdOf', { keyIdOf: undefined }, /keyIdOf is not a function/],
    [
      'a non-boolean capability',
      { capabilities: { ...healthy.capabilities, generate: 'yes' } },
      /generate is not a boolean/,
    ],
    ['no algorithms', { capabilities: { ...healthy.capabilities, algorithms: [] } }, /algorithms is empty/],
    [
      'an unknown algorithm',
      { capabilities: { ...healthy.capabilities, algorithms: ['rsa-2048'] } },
      /unknown algorithm "rsa-2048"/,
    ],
  ] as const)('%s', (_name, fields, message) => {
    const backend = fakeBrokenBackend(healthy, { backend: fields as Breakage['backend'] });
    expect(() => checkContractShape(backend)).toThrow(message);
  });

  it('a store reference of another scheme, an undeclared selected algorithm', () => {
    const backend = fakeMemoryBackend({ algorithms: ['ecdsa-p256-sha256'] });
    expect(() => checkSelection(backend, 'file:/tmp/keys/', ['ecdsa-p256-sha256'])).toThrow(/scheme "file:"/);
    expect(() => checkSelection(backend, 'memory:x', ['ed25519'])).toThrow(/ed25519 was selected/);
    expect(() => checkSelection(backend, 'memory:x', ['ecdsa-p256-sha256'])).not.toThrow();
  });
});

describe('KeyInfo and listing checks catch', () => {
  it('a fingerprint over the PEM text instead of the SPKI DER', async () => {
    const { subject, info } = await setUp({});
    const wrong = createHash('sha256').update(info.publicKeyPem).digest('hex');
    expect(() => checkKeyInfo(subject, { ...info, fingerprint: wrong })).toThrow(/not the SHA-256 of the SPKI DER/);
  });

  it('an upper-case fingerprint', async () => {
    const { subject, info } = await setUp({});
    expect(() => checkKeyInfo(subject, { ...info, fingerprint: info.fingerprint.toUpperCase() })).toThrow(
      /lower-case hex/,
    );
  });

  it('a KeyInfo whose algorithm does not match its public key', async () => {
    const { subject, info } = await setUp({});
    expect(() => checkKeyInfo(subject, { ...info, algorithm: 'ecdsa-p384-sha384' })).toThrow(
      /holds a ecdsa-p256-sha256 key/,
    );
  });

  it('a ref whose keyIdOf is not the id', async () => {
    const { subject, info } = await setUp({ backend: { keyIdOf: (ref: { path: string }) => ref.path } });
    expect(() => checkKeyInfo(subject, info)).toThrow(/keyIdOf\(parseKeyRef\(ref\)\)/);
  });

  it('a PKCS#1/SEC1-style or private PEM', async () => {
    const { subject, info } = await setUp({});
    const privatePem = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    expect(() => checkKeyInfo(subject, { ...info, publicKeyPem: privatePem })).toThrow(/not an SPKI "PUBLIC KEY" PEM/);
  });

  it('listKeys missing a key', async () => {
    const { subject, info } = await setUp({ manager: () => ({ listKeys: async () => [] }) });
    await expectFailure(checkListed(subject, info), /listKeys does not contain/);
  });

  it('listKeys with the wrong fingerprint', async () => {
    const { subject, info } = await setUp({
      manager: (real) => ({
        listKeys: async () => (await real.listKeys()).map((k) => ({ ...k, fingerprint: '0'.repeat(64) })),
      }),
    });
    await expectFailure(checkListed(subject, info), /fingerprint/);
  });

  it('listKeys listing a key twice', async () => {
    const { subject, info } = await setUp({
      manager: (real) => ({ listKeys: async () => [...(await real.listKeys()), ...(await real.listKeys())] }),
    });
    await expectFailure(checkListed(subject, info), /same id twice/);
  });
});

describe('generate checks catch', () => {
  it('an ignored algorithm', async () => {
    const { subject } = await setUp({
      manager: (real) => ({ generateKeyPair: (o: { label: string }) => real.generateKeyPair({ label: o.label }) }),
    });
    await expectFailure(checkGenerate(subject, 'ecdsa-p384-sha384'), /made a ecdsa-p256-sha256 key/);
  });

  it('an ignored label', async () => {
    const { subject } = await setUp({
      manager: (real) => ({
        generateKeyPair: (o: { algorithm: KeyAlgorithm }) => real.generateKeyPair({ ...o, label: `k${randomUUID()}` }),
      }),
    });
    await expectFailure(checkGenerate(subject, 'ecdsa-p256-sha256'), /ignored the label/);
  });

  it('a taken label silently replaced', async () => {
    const { subject, info } = await setUp({
      manager: (real) => ({
        generateKeyPair: async (o: { algorithm: KeyAlgorithm; label: string }) => {
          await real.deleteKey(o.label).catch(() => {});
          return real.generateKeyPair(o);
        },
      }),
    });
    await expectFailure(
      checkDuplicateLabelRefused(subject, info, info.id),
      /expected code KEY_EXISTS, but it succeeded/,
    );
  });

  it('an undeclared algorithm generated anyway', async () => {
    const healthy = fakeMemoryBackend();
    const { subject } = await setUp({
      backend: { capabilities: { ...healthy.capabilities, algorithms: ['ecdsa-p256-sha256'] } },
    });
    await expectFailure(
      checkUndeclaredAlgorithmRefused(subject, 'ed25519'),
      /not in capabilities.algorithms.*succeeded/,
    );
  });

  it('generate: false declared, but keys generated', async () => {
    const healthy = fakeMemoryBackend();
    const { subject } = await setUp({ backend: { capabilities: { ...healthy.capabilities, generate: false } } });
    await expectFailure(checkGenerateRefused(subject), /without the generate capability.*succeeded/);
  });
});

describe('public key checks catch', () => {
  it('getPublicKeyFingerprint disagreeing with getPublicKey', async () => {
    const { subject, info } = await setUp({
      manager: () => ({ getPublicKeyFingerprint: async () => 'ab'.repeat(32) }),
    });
    await expectFailure(checkPublicKeyViews(subject, info), /getPublicKeyFingerprint is abab/);
  });

  it('getPublicKeyPem of another key', async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    const { subject, info } = await setUp({ manager: () => ({ getPublicKeyPem: async () => other }) });
    await expectFailure(checkPublicKeyViews(subject, info), /different keys/);
  });

  it('getPublicKey handing out the private KeyObject (an extractable lie)', async () => {
    const privateKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    const { subject, info } = await setUp({ manager: () => ({ getPublicKey: async () => privateKey }) });
    await expectFailure(checkPublicKeyViews(subject, info), /returned a private KeyObject/);
  });

  it('getAlgorithm lying', async () => {
    const { subject, info } = await setUp({ manager: () => ({ getAlgorithm: async () => 'ed25519' }) });
    await expectFailure(checkPublicKeyViews(subject, info), /getAlgorithm says ed25519/);
  });

  it('a ref that reopens another key', async () => {
    let opened = false;
    const { subject, info } = await setUp({
      backend: {
        // The first open (the store) is honest; later ones (KeyInfo.ref) land in a store of look-alikes.
        async open(ref: ReturnType<typeof parseKeyRef>, context: ReturnType<typeof defaultContext>) {
          if (!opened) {
            opened = true;
            return fakeMemoryBackend().open(ref, context);
          }
          const elsewhere = await fakeMemoryBackend().open(parseKeyRef(`memory:other-${randomUUID()}`), context);
          await elsewhere.generateKeyPair({ algorithm: 'ecdsa-p256-sha256', label: fakeMemoryBackend().keyIdOf(ref) });
          return elsewhere;
        },
      },
    });
    await expectFailure(checkRefReopens(subject, info), /reopens a different key/);
  });
});

describe('signing checks catch', () => {
  it('wrong signature bytes', async () => {
    const { subject, info } = await setUp({
      manager: (real) => ({
        signDigest: async (id: string, d: Uint8Array) => flipLastByte(await real.signDigest(id, d)),
      }),
    });
    await expectFailure(checkSignature(subject, info), /node:crypto rejects/);
  });

  it('a raw r||s signature where DER is due', async () => {
    const { subject, info } = await setUp({
      manager: (real) => ({
        signDigest: async (id: string, d: Uint8Array) => derToRaw(await real.signDigest(id, d), 32),
      }),
    });
    await expectFailure(checkSignature(subject, info), /not ASN\.1 DER.*raw r\|\|s/);
  });

  it('a digest hashed a second time', async () => {
    const { subject, info } = await setUp({
      manager: (real) => ({
        signDigest: (id: string, d: Uint8Array) => real.signDigest(id, createHash('sha256').update(d).digest()),
      }),
    });
    await expectFailure(checkSignature(subject, info), /node:crypto rejects/);
  });

  it('a P-384 key signing with SHA-256 in signMessage', async () => {
    const { subject, info } = await setUp(
      {
        manager: (real) => ({
          signMessage: (id: string, m: Uint8Array) =>
            real.signDigest(id, createHash('sha384').update(createHash('sha256').update(m).digest()).digest()),
        }),
      },
      'ecdsa-p384-sha384',
    );
    await expectFailure(checkSignMessage(subject, info), /node:crypto rejects/);
  });

  it('an Ed25519 key without signMessage', async () => {
    const { subject, info } = await setUp({ manager: () => ({ signMessage: undefined }) }, 'ed25519');
    await expectFailure(checkSignature(subject, info), /need signMessage/);
  });

  it('an Ed25519 signature of the wrong message', async () => {
    const { subject, info } = await setUp(
      {
        manager: (real) => ({ signMessage: (id: string, m: Uint8Array) => real.signMessage!(id, m.subarray(1)) }),
      },
      'ed25519',
    );
    await expectFailure(checkSignature(subject, info), /node:crypto rejects the ed25519 signature/);
  });

  it('no digest-length check (any bytes signed)', async () => {
    const { subject, info } = await setUp({
      manager: (real) => ({
        signDigest: (id: string, d: Uint8Array) =>
          real.signDigest(id, new Uint8Array(Buffer.concat([Buffer.from(d), Buffer.alloc(32)]).subarray(0, 32))),
      }),
    });
    await expectFailure(checkDigestLength(subject, info), /-byte digest.*but it succeeded/);
  });

  it('a digest-length refusal with the wrong code or a plain Error', async () => {
    const usage = await setUp({
      manager: () => ({
        signDigest: async () => {
          throw new CosignkitError('USAGE', 'bad digest');
        },
      }),
    });
    await expectFailure(checkDigestLength(usage.subject, usage.info), /expected code DIGEST_LENGTH, got USAGE/);
    const plain = await setUp({
      manager: () => ({
        signDigest: async () => {
          throw new RangeError('bad digest');
        },
      }),
    });
    await expectFailure(checkDigestLength(plain.subject, plain.info), /expected a CosignkitError.*RangeError/);
  });

  it('an Ed25519 key accepting signDigest', async () => {
    const { subject, info } = await setUp(
      {
        manager: (real) => ({ signDigest: (id: string, d: Uint8Array) => real.signMessage!(id, d) }),
      },
      'ed25519',
    );
    await expectFailure(checkDigestLength(subject, info), /signDigest on a ed25519 key.*succeeded/);
  });

  it('concurrent requests mixed up (shared state across awaits)', async () => {
    let pending: Uint8Array | undefined;
    const { subject, info } = await setUp({
      manager: (real) => ({
        signDigest: async (id: string, d: Uint8Array) => {
          pending = d; // one "session buffer" for every caller
          await new Promise((resolve) => setTimeout(resolve, 1));
          return real.signDigest(id, pending);
        },
      }),
    });
    await checkSignature(subject, info); // one at a time it works
    await expectFailure(checkConcurrentSigning(subject, info, 32), /concurrent signature \d+ of 32 does not verify/);
  });

  it('concurrent requests failing under load', async () => {
    let active = 0;
    const { subject, info } = await setUp({
      manager: (real) => ({
        signDigest: async (id: string, d: Uint8Array) => {
          active++;
          try {
            if (active > 4) throw new CosignkitError('BACKEND_FAILURE', 'session pool exhausted');
            await new Promise((resolve) => setTimeout(resolve, 1));
            return await real.signDigest(id, d);
          } finally {
            active--;
          }
        },
      }),
    });
    await expectFailure(
      checkConcurrentSigning(subject, info, 32),
      /of 32 concurrent signatures failed; first: .*session pool exhausted/,
    );
  });
});

describe('abort checks catch', () => {
  it('a signer that ignores the signal', async () => {
    const { subject, info } = await setUp({
      manager: (real) => ({ signDigest: (id: string, d: Uint8Array) => real.signDigest(id, d) }),
    });
    await expectFailure(
      checkAbortedSigning(subject, info),
      /signDigest with an aborted signal: expected code ABORTED, but it succeeded/,
    );
  });

  it('a signer that lets the raw AbortError through', async () => {
    const { subject, info } = await setUp(
      {
        manager: (real) => ({
          signMessage: (id: string, m: Uint8Array, o: { signal?: AbortSignal } = {}) => {
            o.signal?.throwIfAborted();
            return real.signMessage!(id, m);
          },
        }),
      },
      'ed25519',
    );
    await expectFailure(
      checkAbortedSigning(subject, info),
      /expected a CosignkitError with code ABORTED, got AbortError/,
    );
  });
});

describe('verifySignature checks catch', () => {
  it('a verifier that always says true', async () => {
    const { subject, info } = await setUp({ manager: () => ({ verifySignature: async () => true }) });
    await expectFailure(checkVerifySignature(subject, info), /tampered message/);
  });

  it('a verifier that caches by message, not by signature (accepts another key’s signature)', async () => {
    const verified = new Set<string>();
    const { subject, info } = await setUp({
      manager: (real) => ({
        verifySignature: async (id: string, s: Uint8Array, m: Uint8Array) => {
          const cacheKey = `${id}:${createHash('sha256').update(m).digest('hex')}`;
          if (verified.has(cacheKey)) return true;
          const ok = await real.verifySignature(id, s, m);
          if (ok) verified.add(cacheKey);
          return ok;
        },
      }),
    });
    await expectFailure(checkVerifySignature(subject, info), /signature made by another key/);
  });

  it('a verifier that says false to its own signature', async () => {
    const { subject, info } = await setUp({ manager: () => ({ verifySignature: async () => false }) });
    await expectFailure(checkVerifySignature(subject, info), /returned false for a signature the key just made/);
  });

  it('a verifier that crashes on garbage', async () => {
    const { subject, info } = await setUp({
      manager: (real) => ({
        verifySignature: async (id: string, s: Uint8Array, m: Uint8Array) => {
          if (s.every((b) => b === 0x30)) throw new TypeError('cannot read properties of undefined');
          return real.verifySignature(id, s, m);
        },
      }),
    });
    await expectFailure(checkVerifySignature(subject, info), /threw on a malformed signature/);
  });
});

describe('key-lifecycle checks catch', () => {
  it('an unknown id answered with a plain Error', async () => {
    const { subject } = await setUp({
      manager: (real) => ({
        getPublicKey: async (id: string) =>
          real.getPublicKey(id).catch(() => {
            throw new Error('ENOENT');
          }),
      }),
    });
    await expectFailure(checkUnknownKey(subject), /getPublicKey on an unknown key id: expected a CosignkitError/);
  });

  it('an unknown id answered with another code', async () => {
    const { subject } = await setUp({
      manager: () => ({
        getAlgorithm: async () => {
          throw new CosignkitError('BACKEND_FAILURE', 'oops');
        },
      }),
    });
    await expectFailure(
      checkUnknownKey(subject),
      /getAlgorithm on an unknown key id: expected code KEY_NOT_FOUND, got BACKEND_FAILURE/,
    );
  });

  it('signDigest on an unknown id signing with some other key', async () => {
    const { subject } = await setUp({
      manager: (real) => ({
        signDigest: async (_id: string, d: Uint8Array) => real.signDigest((await real.listKeys())[0]!.id, d),
      }),
    });
    await expectFailure(checkUnknownKey(subject), /signDigest on an unknown key id.*succeeded/);
  });

  it('deleteKey that deletes nothing', async () => {
    const { subject, info } = await setUp({ manager: () => ({ deleteKey: async () => {} }) });
    await expectFailure(checkDelete(subject, info), /still contains/);
  });

  it('deleteKey that unlists but still signs', async () => {
    const { subject, info } = await setUp({
      manager: (real) => ({
        deleteKey: async () => {},
        listKeys: async () => (await real.listKeys()).filter((k) => k.id !== info.id),
      }),
    });
    await expectFailure(checkDelete(subject, info), /a deleted key: expected code KEY_NOT_FOUND, but it succeeded/);
  });

  it('delete: false declared, but the key deleted', async () => {
    const healthy = fakeMemoryBackend();
    const { subject, info } = await setUp({ backend: { capabilities: { ...healthy.capabilities, delete: false } } });
    await expectFailure(checkDeleteRefused(subject, info), /without the delete capability.*succeeded/);
  });

  it('close() that fails the second time', async () => {
    const { subject } = await setUp({
      manager: () => {
        let closed = false;
        return {
          close: async () => {
            if (closed) throw new CosignkitError('INTERNAL', 'session already closed');
            closed = true;
          },
        };
      },
    });
    await expectFailure(checkCloseIdempotent(subject), /a second close\(\) failed/);
  });
});

describe('non-extractability checks catch', () => {
  // The lie: declares extractable: false, yet hands the private key out through a side door.
  const lie: Breakage = {
    manager: () => ({
      exportPrivateKey: async () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey,
    }),
  };
  const probe = async (manager: KeyManager, keyId: string): Promise<void> => {
    const side = manager as KeyManager & { exportPrivateKey?: (id: string) => Promise<unknown> };
    let exported: unknown;
    try {
      exported = await side.exportPrivateKey?.(keyId);
    } catch {
      return;
    }
    if (exported !== undefined) throw new Error('the private key could be exported');
  };

  it('an extractable lie caught by the backend’s probe', async () => {
    const { subject, info } = await setUp(lie, 'ecdsa-p256-sha256', { extractable: false });
    await expectFailure(
      checkNonExtractable(subject, info, probe),
      /proveNonExtractable failed: Error: the private key could be exported/,
    );
  });

  it('a non-extractable declaration without a probe', async () => {
    const { subject, info } = await setUp({}, 'ecdsa-p256-sha256', { extractable: false });
    await expectFailure(checkNonExtractable(subject, info, undefined), /no proveNonExtractable probe/);
  });

  it('(control) the same probe passes an honest non-extractable fake', async () => {
    const { subject, info } = await setUp({}, 'ecdsa-p256-sha256', { extractable: false });
    await expect(checkNonExtractable(subject, info, probe)).resolves.toBeUndefined();
  });
});

describe('the DER check itself', () => {
  it('accepts what node:crypto makes and refuses its raw form', async () => {
    const { assertDerEcdsaSignature } = await import('../src/index.js');
    for (let i = 0; i < 20; i++) {
      const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
      const der = new Uint8Array(sign('sha256', Buffer.from(`m${i}`), { key, dsaEncoding: 'der' }));
      expect(() => assertDerEcdsaSignature(der, 32)).not.toThrow();
      const raw = new Uint8Array(sign('sha256', Buffer.from(`m${i}`), { key, dsaEncoding: 'ieee-p1363' }));
      expect(() => assertDerEcdsaSignature(raw, 32)).toThrow(ConformanceError);
      expect(() => assertDerEcdsaSignature(new Uint8Array([...der, 0]), 32)).toThrow(/SEQUENCE length|trailing/);
    }
    // r with a needless leading zero
    expect(() =>
      assertDerEcdsaSignature(new Uint8Array([0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x01]), 32),
    ).toThrow(/minimally/);
    // a P-384-sized r for a P-256 key
    const big = [0x02, 48, ...Array(48).fill(0x11)];
    expect(() => assertDerEcdsaSignature(new Uint8Array([0x30, big.length + 3, ...big, 0x02, 0x01, 0x01]), 32)).toThrow(
      /longer than 32/,
    );
  });
});

describe('secret hygiene catches', () => {
  const password = `pw-${randomUUID()}`;
  type Leak = 'none' | 'error' | 'error-cause' | 'log' | 'label';

  async function leaky(leak: Leak): Promise<{ subject: Subject; watch: SecretWatch }> {
    const healthy = fakeMemoryBackend();
    const backend = fakeBrokenBackend(healthy, {
      backend: {
        async open(ref: ReturnType<typeof parseKeyRef>, context: ReturnType<typeof defaultContext>) {
          const secret = await context.secrets({ kind: 'password', purpose: 'unlock', subject: ref.text });
          if (leak === 'log') context.logger.debug('unlocked the store', { password: secret });
          const real = await healthy.open(ref, context);
          return fakeBrokenBackend(healthy, {
            manager: () => ({
              getPublicKey: async (id: string) => {
                const plain = new CosignkitError('KEY_NOT_FOUND', `no key ${id}`);
                if (leak === 'error')
                  throw new CosignkitError('KEY_NOT_FOUND', `no key ${id} (store unlocked with ${secret})`);
                if (leak === 'error-cause')
                  throw new CosignkitError('KEY_NOT_FOUND', `no key ${id}`, { cause: new Error(`bad pw ${secret}`) });
                return real.getPublicKey(id).catch(() => {
                  throw plain;
                });
              },
              listKeys: async () =>
                (await real.listKeys()).map((k) => (leak === 'label' ? { ...k, label: `${k.label} ${secret}` } : k)),
            }),
          }).open(ref, context);
        },
      },
    });
    const watch = new SecretWatch();
    const context = {
      ...defaultContext(),
      secrets: watch.secrets(async () => password),
      logger: watch.logger(defaultContext().logger),
    };
    const storeRef = `memory:leaky-${randomUUID()}`;
    const manager = watch.manager(await backend.open(parseKeyRef(storeRef), context));
    await manager.generateKeyPair({ algorithm: 'ecdsa-p256-sha256', label: uniqueLabel('ecdsa-p256-sha256') });
    return { subject: { backend, manager, context, storeRef }, watch };
  }

  it.each([
    ['a password in an error message', 'error', /an error from getPublicKey\(\) contains a password or PIN/],
    ['a password in the cause of an error', 'error-cause', /an error from getPublicKey\(\) contains/],
    ['a password in a log line', 'log', /a debug log line contains/],
    ['a password in a KeyInfo label', 'label', /a KeyInfo from listKeys\(\) contains/],
  ] as const)('%s', async (_name, leak, message) => {
    const { subject, watch } = await leaky(leak);
    const error = await checkSecretHygiene(subject, watch).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(ConformanceError);
    expect(error!.message).toMatch(message);
    expect(error!.message).not.toContain(password);
  });

  it('(control) a backend that asks for a password and keeps it to itself', async () => {
    const { subject, watch } = await leaky('none');
    expect(watch.secretsHandedOut).toBe(1);
    await expect(checkSecretHygiene(subject, watch)).resolves.toBeUndefined();
  });

  it('redacts a leaked password from a failure before the runner prints it', () => {
    const watch = new SecretWatch();
    return watch
      .secrets(async () => password)({ kind: 'password', purpose: 'unlock', subject: 'x' })
      .then(() => {
        const error = new ConformanceError(`expected KEY_NOT_FOUND, got USAGE (bad password ${password})`, {
          cause: new Error(`inner ${password}`),
        });
        watch.redact(error);
        expect(error.message).toBe('expected KEY_NOT_FOUND, got USAGE (bad password REDACTED)');
        expect(error.stack).not.toContain(password);
        expect((error.cause as Error).message).toBe('inner REDACTED');
      });
  });
});
