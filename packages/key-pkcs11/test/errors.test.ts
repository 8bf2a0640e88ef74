import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  BackendRegistry,
  CosignkitError,
  parseKeyRef,
  type BackendContext,
  type ErrorCode,
  type Logger,
} from '@cosignkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend, type Pkcs11KeyManager } from '../src/index.js';
import { graphene, probeSession, proveValueUnreadable } from './probe.js';
import { TEST_PIN, errorText, startSoftHsm, type SoftHsm } from './softhsm.js';

const WRONG_PIN = 'Wrong-Pin-Distinctive-5521';
const TOKEN = 'errors';
let hsm: SoftHsm;
const seen: unknown[] = []; // every error and log line this suite provoked, checked for PINs at the end
const logger: Logger = {
  debug: (m, f) => seen.push(`${m} ${JSON.stringify(f ?? {})}`),
  info: (m, f) => seen.push(`${m} ${JSON.stringify(f ?? {})}`),
  warn: (m, f) => seen.push(`${m} ${JSON.stringify(f ?? {})}`),
};
const noSecrets: BackendContext['secrets'] = async () => {
  throw new CosignkitError('PASSWORD_REQUIRED', 'no PIN in this test');
};
const context = (over: Partial<BackendContext> = {}): BackendContext => ({
  options: {},
  secrets: noSecrets,
  logger,
  env: {},
  ...over,
});
const open = (ref: string, over: Partial<BackendContext> = {}) =>
  backend.open(parseKeyRef(ref), context(over)) as Promise<Pkcs11KeyManager>;

async function expectCode(code: ErrorCode, action: () => Promise<unknown>): Promise<CosignkitError> {
  let caught: unknown;
  try {
    await action();
  } catch (error) {
    caught = error;
  }
  seen.push(caught);
  expect(CosignkitError.isInstance(caught), `expected a CosignkitError, got ${String(caught)}`).toBe(true);
  expect((caught as CosignkitError).code, (caught as Error).message).toBe(code);
  return caught as CosignkitError;
}

beforeAll(async () => {
  hsm = await startSoftHsm([TOKEN]);
});
afterAll(async () => {
  await hsm?.stop();
});

describe('opening a token (before any login in this process)', () => {
  it('a wrong PIN from pin-source is PIN_INCORRECT', async () => {
    const wrong = join(hsm.dir, 'wrong.pin');
    await writeFile(wrong, WRONG_PIN, { mode: 0o600 });
    const ref = `pkcs11:token=${TOKEN}?module-path=${hsm.modulePath}&pin-source=file:${wrong}`;
    const error = await expectCode('PIN_INCORRECT', () => open(ref));
    expect(error.message).toMatch(/PIN is incorrect/);
  });

  it('a wrong pin-value is PIN_INCORRECT and the message shows no PIN', async () => {
    const ref = `pkcs11:token=${TOKEN}?module-path=${hsm.modulePath}&pin-value=${WRONG_PIN}`;
    const error = await expectCode('PIN_INCORRECT', () => open(ref));
    expect(errorText(error)).not.toContain(WRONG_PIN);
  });

  it('a missing token is TOKEN_NOT_FOUND', async () => {
    const error = await expectCode('TOKEN_NOT_FOUND', () => open(hsm.ref('no-such-token')));
    expect(error.message).toContain('no-such-token');
  });

  it('a bad module path is BACKEND_UNAVAILABLE naming the path', async () => {
    const path = join(hsm.dir, 'missing-module.so');
    const error = await expectCode('BACKEND_UNAVAILABLE', () =>
      open(`pkcs11:token=${TOKEN}?module-path=${path}&pin-value=${TEST_PIN}`),
    );
    expect(error.message).toContain(path);
  });

  it('a library that is not a PKCS#11 module is BACKEND_UNAVAILABLE', async () => {
    const path = join(hsm.dir, 'not-a-module.so');
    await writeFile(path, 'not an ELF file');
    await expectCode('BACKEND_UNAVAILABLE', () => open(`pkcs11:token=${TOKEN}?module-path=${path}`));
  });

  it('no module path anywhere is USAGE', async () => {
    await expectCode('USAGE', () => open(`pkcs11:token=${TOKEN}`));
  });

  it('a missing PIN file is FILE_NOT_FOUND', async () => {
    await expectCode('FILE_NOT_FOUND', () =>
      open(`pkcs11:token=${TOKEN}?module-path=${hsm.modulePath}&pin-source=file:${join(hsm.dir, 'nope.pin')}`),
    );
  });

  it('no PIN source at all asks the secret provider, whose error stands', async () => {
    await expectCode('PASSWORD_REQUIRED', () => open(`pkcs11:token=${TOKEN}?module-path=${hsm.modulePath}`));
  });
});

describe('with the token open', () => {
  let manager: Pkcs11KeyManager;
  beforeAll(async () => {
    manager = await open(hsm.ref(TOKEN));
  });
  afterAll(async () => {
    await manager?.close();
  });

  it('a second opener with a wrong PIN is PIN_INCORRECT, though the token is logged in', async () => {
    await expectCode('PIN_INCORRECT', () =>
      open(`pkcs11:token=${TOKEN}?module-path=${hsm.modulePath}&pin-value=${WRONG_PIN}`),
    );
  });

  it('PINs and module paths also come from COSIGN_PKCS11_*, the config options and the secret provider', async () => {
    const bare = `pkcs11:token=${TOKEN}`;
    const managers = [
      await open(bare, { env: { COSIGN_PKCS11_MODULE_PATH: hsm.modulePath, COSIGN_PKCS11_PIN: TEST_PIN } }),
      await open(bare, { options: { modulePath: hsm.modulePath, pinSource: `file:${hsm.pinFile}` } }),
      await open(bare, { options: { modulePath: hsm.modulePath }, secrets: async () => TEST_PIN }),
    ];
    for (const m of managers) await m.close();
    const registry = new BackendRegistry({
      config: { backends: { pkcs11: { modulePath: hsm.modulePath, pinSource: hsm.pinFile } } },
      env: {},
      logger,
    }).register(backend);
    const info = await manager.generateKeyPair({ label: 'via-registry' });
    const opened = await registry.open(`pkcs11:token=${TOKEN};object=via-registry`);
    expect(opened.keyId).toBe('via-registry');
    expect(await opened.manager.getPublicKeyFingerprint(opened.keyId)).toBe(info.fingerprint);
    await registry.close();
    await manager.deleteKey('via-registry');
  });

  it('a label matching no key is KEY_NOT_FOUND', async () => {
    const error = await expectCode('KEY_NOT_FOUND', () => manager.getPublicKeyPem('no-such-label'));
    expect(error.message).toContain('no-such-label');
    await expectCode('KEY_NOT_FOUND', () => manager.signDigest('no-such-label', new Uint8Array(32)));
    await expectCode('KEY_NOT_FOUND', () => manager.deleteKey('no-such-label'));
  });

  it('a non-EC key is ALGORITHM_UNSUPPORTED and is not listed', async () => {
    const session = probeSession(hsm.modulePath, TOKEN);
    try {
      session.generateKeyPair(
        graphene.KeyGenMechanism.RSA,
        {
          keyType: graphene.KeyType.RSA,
          token: true,
          verify: true,
          modulusBits: 2048,
          publicExponent: Buffer.from([1, 0, 1]),
          label: 'rsa-key',
        },
        {
          keyType: graphene.KeyType.RSA,
          token: true,
          private: true,
          sensitive: true,
          extractable: false,
          sign: true,
          label: 'rsa-key',
        },
      );
    } finally {
      session.close();
    }
    await expectCode('ALGORITHM_UNSUPPORTED', () => manager.getPublicKey('rsa-key'));
    await expectCode('ALGORITHM_UNSUPPORTED', () => manager.signDigest('rsa-key', new Uint8Array(32)));
    expect((await manager.listKeys()).map((k) => k.id)).not.toContain('rsa-key');
  });

  it('an EC key on another curve (P-521) is ALGORITHM_UNSUPPORTED', async () => {
    const session = probeSession(hsm.modulePath, TOKEN);
    try {
      const paramsEC = graphene.NamedCurve.getByName('secp521r1').value;
      session.generateKeyPair(
        graphene.KeyGenMechanism.EC,
        { keyType: graphene.KeyType.EC, token: true, verify: true, paramsEC, label: 'p521-key' },
        { keyType: graphene.KeyType.EC, token: true, private: true, sensitive: true, sign: true, label: 'p521-key' },
      );
    } finally {
      session.close();
    }
    await expectCode('ALGORITHM_UNSUPPORTED', () => manager.getAlgorithm('p521-key'));
  });

  it('a digest of the wrong length is DIGEST_LENGTH', async () => {
    const p256 = await manager.generateKeyPair({ label: 'digest-p256' });
    const p384 = await manager.generateKeyPair({ label: 'digest-p384', algorithm: 'ecdsa-p384-sha384' });
    await expectCode('DIGEST_LENGTH', () => manager.signDigest(p256.id, new Uint8Array(48)));
    await expectCode('DIGEST_LENGTH', () => manager.signDigest(p384.id, new Uint8Array(20))); // a SHA-1 digest
    await expectCode('DIGEST_LENGTH', () => manager.signDigest(p384.id, new Uint8Array(64)));
    await expectCode('DIGEST_LENGTH', () => manager.signDigest(p256.id, new Uint8Array(0)));
    await manager.deleteKey(p256.id);
    await manager.deleteKey(p384.id);
  });

  it('generating an unsupported algorithm or an existing label is refused', async () => {
    await expectCode('ALGORITHM_UNSUPPORTED', () => manager.generateKeyPair({ algorithm: 'ed25519', label: 'ed' }));
    await manager.generateKeyPair({ label: 'taken' });
    await expectCode('KEY_EXISTS', () => manager.generateKeyPair({ label: 'taken' }));
    await manager.deleteKey('taken');
  });

  it('KeyInfo.ref drops pin-value, keeps module-path and pin-source, and names the key', async () => {
    const inline = await open(`pkcs11:token=${TOKEN}?module-path=${hsm.modulePath}&pin-value=${TEST_PIN}`);
    const info = await inline.generateKeyPair({ label: 'ref; odd/label' });
    await inline.close();
    expect(info.ref).not.toContain(TEST_PIN);
    expect(info.ref).not.toMatch(/pin-value/);
    expect(backend.keyIdOf(parseKeyRef(info.ref))).toBe(info.id);
    const withSource = await manager.listKeys();
    const listed = withSource.find((k) => k.id === info.id)!;
    expect(listed.ref).toContain(`pin-source=file:${hsm.pinFile}`);
    expect(listed.ref).toContain(`module-path=${hsm.modulePath}`);
    await manager.deleteKey(info.id);
  });

  it('a key with a CKA_ID and no label is named id:<hex>', async () => {
    const session = probeSession(hsm.modulePath, TOKEN);
    try {
      const paramsEC = graphene.NamedCurve.getByName('secp256r1').value;
      const id = Buffer.from('c0ffee01', 'hex');
      session.generateKeyPair(
        graphene.KeyGenMechanism.EC,
        { keyType: graphene.KeyType.EC, token: true, verify: true, paramsEC, id },
        {
          keyType: graphene.KeyType.EC,
          token: true,
          private: true,
          sensitive: true,
          extractable: false,
          sign: true,
          id,
        },
      );
    } finally {
      session.close();
    }
    expect(backend.keyIdOf(parseKeyRef(`pkcs11:token=${TOKEN};id=%c0%ff%ee%01`))).toBe('id:c0ffee01');
    const listed = (await manager.listKeys()).find((k) => k.id === 'id:c0ffee01');
    expect(listed?.ref).toContain('id=%c0%ff%ee%01');
    const digest = createHash('sha256').update('x').digest();
    const signature = await manager.signDigest('id:c0ffee01', digest);
    expect(await manager.verifySignature('id:c0ffee01', signature, Buffer.from('x'))).toBe(true);
    await manager.deleteKey('id:c0ffee01');
    await expectCode('KEY_NOT_FOUND', () => manager.getPublicKey('id:c0ffee01'));
  });

  it('a key replaced behind its back (stale handle) is looked up again when signing', async () => {
    const before = await manager.generateKeyPair({ label: 'replaced' });
    const digest = createHash('sha256').update('stale').digest();
    await manager.signDigest('replaced', digest); // caches the handle
    const session = probeSession(hsm.modulePath, TOKEN);
    try {
      session.destroy({ label: 'replaced' });
      const paramsEC = graphene.NamedCurve.getByName('secp256r1').value;
      const id = Buffer.from('5a1e', 'hex');
      session.generateKeyPair(
        graphene.KeyGenMechanism.EC,
        { keyType: graphene.KeyType.EC, token: true, verify: true, paramsEC, label: 'replaced', id },
        {
          keyType: graphene.KeyType.EC,
          token: true,
          private: true,
          sensitive: true,
          extractable: false,
          sign: true,
          label: 'replaced',
          id,
        },
      );
    } finally {
      session.close();
    }
    const signature = await manager.signDigest('replaced', digest);
    const after = await manager.getPublicKeyFingerprint('replaced');
    expect(after).not.toBe(before.fingerprint);
    expect(await manager.verifySignature('replaced', signature, Buffer.from('stale'))).toBe(true);
    await manager.deleteKey('replaced');
  });

  it('the non-extractability probe does fail on an extractable key', async () => {
    const session = probeSession(hsm.modulePath, TOKEN);
    try {
      const paramsEC = graphene.NamedCurve.getByName('secp256r1').value;
      session.generateKeyPair(
        graphene.KeyGenMechanism.EC,
        { keyType: graphene.KeyType.EC, token: true, verify: true, paramsEC, label: 'leaky' },
        {
          keyType: graphene.KeyType.EC,
          token: true,
          private: true,
          sensitive: false,
          extractable: true,
          sign: true,
          label: 'leaky',
        },
      );
      expect(() => proveValueUnreadable(session, 'leaky')).toThrow(/attributes|readable/);
    } finally {
      session.close();
    }
  });

  it('a closed manager refuses work; the others on the token go on', async () => {
    const other = await open(hsm.ref(TOKEN));
    await other.close();
    await expectCode('BACKEND_UNAVAILABLE', () => other.listKeys());
    expect(Array.isArray(await manager.listKeys())).toBe(true);
  });
});

describe('secrecy', () => {
  it('no error or log line of this suite contains a PIN', () => {
    expect(seen.length).toBeGreaterThan(15);
    for (const item of seen) {
      const text = typeof item === 'string' ? item : errorText(item);
      expect(text).not.toContain(TEST_PIN);
      expect(text).not.toContain(WRONG_PIN);
    }
  });
});
