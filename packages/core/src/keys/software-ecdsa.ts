import { createECDH, randomBytes, type KeyObject } from 'node:crypto';
import type { KeyAlgorithm } from '../contracts/key-manager.js';
import { CosignkitError } from '../errors.js';
import { assertDigestLength } from './algorithms.js';

/**
 * ECDSA over a digest the caller already computed, for software keys (files, keyring). node:crypto cannot
 * do this: `sign(null, …)` hashes its input once more. The expensive, secret-dependent step, k·G, runs in
 * OpenSSL's constant-time fixed-base multiplication (reached through ECDH: setting k as an ECDH private key
 * computes k·G); the scalar step s = k⁻¹(e + r·d) mod n uses @noble/curves' field and is blinded exactly as
 * noble's own signer does it (a random b: s = (bk)⁻¹(be + bd·r)), so the inversion never sees k itself.
 * This is ~30× faster than noble's pure-JS point multiplication and needs no 50 ms precomputed table.
 * The nonce k is drawn from the CSPRNG (as OpenSSL and Go's crypto/ecdsa do), not derived by RFC 6979, so
 * nonces can be made ahead of the signatures that use them (NoncePool).
 * Loaded on first use: most commands never sign a digest.
 */
export async function signEcdsaDigest(
  privateKey: KeyObject,
  algorithm: KeyAlgorithm,
  digest: Uint8Array,
): Promise<Uint8Array> {
  assertDigestLength(algorithm, digest);
  const curve = await curveFor(algorithm);
  return signWith(curve, scalarOf(privateKey, curve), digest);
}

interface Curve {
  /** OpenSSL's name for createECDH. */
  ecdhName: string;
  /** Bytes of a scalar / coordinate. */
  size: number;
  Fn: FieldOfOrder;
  mapHashToField: (key: Uint8Array, order: bigint) => Uint8Array;
  bytesToNumberBE: (bytes: Uint8Array) => bigint;
  derOf: (r: bigint, s: bigint) => Uint8Array;
  nonces: NoncePool;
}

type FieldOfOrder = ReturnType<typeof import('@noble/curves/abstract/modular.js').Field>;

/** The group orders (FIPS 186-5 / SEC 2); public constants. */
const ORDERS = {
  'ecdsa-p256-sha256': {
    ecdhName: 'prime256v1',
    size: 32,
    n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  },
  'ecdsa-p384-sha384': {
    ecdhName: 'secp384r1',
    size: 48,
    n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
  },
} as const;

const curves = new Map<KeyAlgorithm, Promise<Curve>>();

function curveFor(algorithm: KeyAlgorithm): Promise<Curve> {
  let curve = curves.get(algorithm);
  if (!curve) {
    curve = loadCurve(algorithm);
    curves.set(algorithm, curve);
    curve.catch(() => curves.delete(algorithm));
  }
  return curve;
}

/** Only noble's field and DER modules: its curve module (nist.js) costs ~100 ms to load and is not needed. */
async function loadCurve(algorithm: KeyAlgorithm): Promise<Curve> {
  const params = algorithm === 'ed25519' ? undefined : ORDERS[algorithm];
  if (!params) throw new CosignkitError('NOT_SUPPORTED', `${algorithm} keys sign messages, not digests`);
  const [{ Field, mapHashToField }, { DER }, { bytesToNumberBE }] = await Promise.all([
    import('@noble/curves/abstract/modular.js'),
    import('@noble/curves/abstract/der.js'),
    import('@noble/curves/utils.js'),
  ]);
  const arithmetic = {
    ecdhName: params.ecdhName,
    size: params.size,
    Fn: Field(params.n),
    mapHashToField,
    bytesToNumberBE,
    derOf: (r: bigint, s: bigint) => Buffer.from(DER.hexFromSig({ r, s }), 'hex'),
  };
  return { ...arithmetic, nonces: new NoncePool(arithmetic) };
}

/**
 * The private scalar of a key, kept beside the KeyObject for as long as the key lives (a JWK export costs
 * more than the signature itself). The managers already keep the decrypted key in memory until close().
 */
const scalars = new WeakMap<KeyObject, bigint>();

function scalarOf(privateKey: KeyObject, curve: Curve): bigint {
  let d = scalars.get(privateKey);
  if (d === undefined) {
    const jwk = privateKey.export({ format: 'jwk' });
    if (typeof jwk.d !== 'string') throw new CosignkitError('KEY_MALFORMED', 'the private key has no private scalar');
    const bytes = Buffer.from(jwk.d, 'base64url');
    d = curve.bytesToNumberBE(bytes);
    bytes.fill(0);
    if (!curve.Fn.isValidNot0(d)) throw new CosignkitError('KEY_MALFORMED', 'the private scalar is out of range');
    scalars.set(privateKey, d);
  }
  return d;
}

function signWith(curve: Curve, d: bigint, digest: Uint8Array): Uint8Array {
  const { Fn } = curve;
  // The digest is as long as the order (checked), so bits2int is the plain integer; reduce it mod n.
  const e = Fn.create(curve.bytesToNumberBE(digest));
  for (;;) {
    const { r, b, ibk } = curve.nonces.take();
    // Blinded as noble's own signer is: s = (bk)⁻¹(be + bd·r) = k⁻¹(e + d·r).
    let s = Fn.mul(ibk, Fn.add(Fn.mul(b, e), Fn.mul(Fn.mul(b, d), r)));
    if (s === 0n) continue;
    // Low-S, as the signer before this one (noble) wrote: some verifiers reject the high form.
    if (s > Fn.ORDER >> 1n) s = Fn.neg(s);
    return new Uint8Array(curve.derOf(r, s));
  }
}

/** What a signature needs of its nonce k: r = (k·G).x mod n, a blinding factor b, and (bk)⁻¹. */
interface Nonce {
  r: bigint;
  b: bigint;
  ibk: bigint;
}

/** The most nonces made at once; a process holds at most one fewer unused, per curve. */
const MAX_BATCH = 16;

/**
 * Nonces made a batch at a time, so that one modular inversion serves the whole batch (Montgomery's trick,
 * noble's invertBatch): the inversion was a third of a signature's time, and batches of 16 double the rate.
 * Each nonce is taken once and dropped. The first batch is one nonce and each next one twice the last, up to
 * MAX_BATCH: a one-shot command makes only the nonce it uses, and unused nonces (secrets, as the key beside
 * them is) are never more than MAX_BATCH − 1 per curve.
 */
class NoncePool {
  readonly #ready: Nonce[] = [];
  #batch = 1;

  constructor(private readonly curve: Omit<Curve, 'nonces'>) {}

  take(): Nonce {
    if (this.#ready.length === 0) {
      this.#make(this.#batch);
      this.#batch = Math.min(MAX_BATCH, this.#batch * 2);
    }
    return this.#ready.pop()!;
  }

  #make(count: number): void {
    const { Fn, size, ecdhName, mapHashToField, bytesToNumberBE } = this.curve;
    // One ECDH object per batch, dropped with it: no nonce outlives its batch in a long-lived object.
    const ecdh = createECDH(ecdhName);
    // 1.5× the order's length of CSPRNG bytes mapped to [1, n−1]: negligible bias (FIPS 186-5 A.3.1). One
    // draw gives the nonce and the blinding factor.
    const wide = size + size / 2;
    const made: { r: bigint; b: bigint; bk: bigint }[] = [];
    while (made.length < count) {
      const random = randomBytes(2 * wide);
      const kBytes = mapHashToField(random.subarray(0, wide), Fn.ORDER);
      const k = bytesToNumberBE(kBytes);
      ecdh.setPrivateKey(kBytes);
      kBytes.fill(0);
      const point = ecdh.getPublicKey(); // 04 ‖ x ‖ y: k·G, computed by OpenSSL
      const r = Fn.create(bytesToNumberBE(point.subarray(1, 1 + size)));
      const b = bytesToNumberBE(mapHashToField(random.subarray(wide), Fn.ORDER));
      random.fill(0);
      if (r !== 0n) made.push({ r, b, bk: Fn.mul(b, k) });
    }
    // The inversion's input is the product of the blinded bk, independent of any k.
    const inverses = Fn.invertBatch(made.map((m) => m.bk));
    for (const [i, { r, b }] of made.entries()) this.#ready.push({ r, b, ibk: inverses[i]! });
  }
}

/**
 * Loads the signer ahead of the first signature (KeyManager.prepare), e.g. while a key is being decrypted in
 * the thread pool.
 */
export async function prepareEcdsaDigestSigner(algorithm: KeyAlgorithm): Promise<void> {
  if (algorithm === 'ed25519') return;
  await curveFor(algorithm);
}
