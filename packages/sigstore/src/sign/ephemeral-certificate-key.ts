import { createHash, generateKeyPairSync, sign as signMessage, X509Certificate, type KeyObject } from 'node:crypto';
import { signEcdsaDigest, type KeyAlgorithm } from '@cosignkit/core';
import { requestSigningCertificate } from './fulcio-client.js';
import { parseIdentityToken } from '../identity/identity-token.js';
import { serviceError } from './service-error.js';
import type { SigningKey, SigningKeyMaterial } from './signing-key.js';

export interface EphemeralCertificateKeyOptions {
  fulcioUrl: string;
  /** Gives the identity token when a certificate is needed (again, after the previous one expired). */
  getToken: () => Promise<string>;
  /** Per request; default 10 s. */
  timeoutMs?: number;
  retries?: number;
  /**
   * After a failed request, whether the next call asks Fulcio again (default true: a service or a batch may
   * get a fresh token meanwhile). A command signing once passes false: the failure is its answer, and asking
   * again would only repeat the refusal.
   */
  askAgainAfterFailure?: boolean;
}

/** A certificate this close to its notAfter is not used for a new signature: a log entry must land inside it. */
const RENEW_MARGIN_MS = 60_000;

/** A key with its Fulcio certificate. */
interface CertifiedKey {
  privateKey: KeyObject;
  material: SigningKeyMaterial & { kind: 'certificate'; fingerprint: string };
  notAfter: number;
  chain: string[];
}

/**
 * Keyless signing's key: an ECDSA P-256 key made in memory (never written anywhere, gone with the process)
 * and a Fulcio certificate binding it to the token's identity. The certificate is asked for once and serves
 * every signature while it is valid (batch signing); a new key and certificate replace it when it runs out.
 * The proof of possession is a signature over the token's subject (its email, else its sub), as Fulcio wants.
 */
export class EphemeralCertificateKey implements SigningKey {
  readonly algorithm: KeyAlgorithm = 'ecdsa-p256-sha256';
  /** Settles once the certificate request in progress has left (or failed); see requestSent(). */
  #sent: Promise<void> = Promise.resolve();
  #current?: Promise<CertifiedKey>;
  /** The key whose certificate is being asked for, until the answer (or failure) is there. */
  #inFlight?: { privateKey: KeyObject; state: Promise<CertifiedKey> };
  /** The failed request that answers every later call (askAgainAfterFailure: false). */
  #failed?: Promise<CertifiedKey>;

  constructor(private readonly options: EphemeralCertificateKeyOptions) {}

  async material(): Promise<SigningKeyMaterial> {
    return (await this.#state()).material;
  }

  async signDigest(digest: Uint8Array): Promise<Uint8Array> {
    return signEcdsaDigest((await this.#state()).privateKey, this.algorithm, digest);
  }

  /**
   * A signature and the certificate of the key that made it, from one state (a renewal between the two
   * cannot pair one key's signature with another's certificate). While the certificate is being asked for,
   * its key signs at once and the answer is awaited after: the signing overlaps Fulcio's round trip.
   */
  async signDigestWithMaterial(digest: Uint8Array): Promise<{ signature: Uint8Array; material: SigningKeyMaterial }> {
    const inFlight = this.#inFlight;
    if (inFlight) {
      const signature = await signEcdsaDigest(inFlight.privateKey, this.algorithm, digest);
      return { signature, material: (await inFlight.state).material };
    }
    const state = await this.#state();
    return { signature: await signEcdsaDigest(state.privateKey, this.algorithm, digest), material: state.material };
  }

  /**
   * The CA chain above the certificate in force (PEM, intermediates first): cosign's legacy image layout
   * carries it in the `dev.sigstore.cosign/chain` annotation.
   */
  async chain(): Promise<string[]> {
    return (await this.#state()).material.chain ?? [];
  }

  /**
   * Resolves once the certificate request in progress has been handed to the network in full, or has failed;
   * at once when none is in progress. A one-shot command loads the rest of its code after this: loaded
   * before, it would hold the request back for as long as the loading takes, on the process's one thread.
   */
  requestSent(): Promise<void> {
    return this.#sent;
  }

  /** The certificate in force (for reporting). */
  async certificate(): Promise<X509Certificate> {
    return new X509Certificate((await this.#state()).material.der);
  }

  /** The chain Fulcio answered with for the certificate in force, PEM, leaf first (a service reports it). */
  async certificateChain(): Promise<string[]> {
    return [...(await this.#state()).chain];
  }

  #state() {
    if (this.#failed) return this.#failed;
    const current = this.#current;
    if (current) {
      return current.then((state) => {
        if (state.notAfter - Date.now() > RENEW_MARGIN_MS) return state;
        // Concurrent callers share one renewal.
        return this.#current !== current && this.#current ? this.#current : this.#renew();
      });
    }
    return this.#renew();
  }

  #renew() {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const next = this.#obtain(privateKey, publicKey);
    this.#current = next;
    const inFlight = { privateKey, state: next };
    this.#inFlight = inFlight;
    const landed = () => {
      if (this.#inFlight === inFlight) this.#inFlight = undefined;
    };
    next.then(landed, () => {
      landed();
      if (this.#current === next) this.#current = undefined;
      if (this.options.askAgainAfterFailure === false) this.#failed = next;
    });
    return next;
  }

  async #obtain(privateKey: KeyObject, publicKey: KeyObject): Promise<CertifiedKey> {
    let sent = () => {};
    this.#sent = new Promise<void>((resolve) => {
      sent = resolve;
    });
    try {
      return await this.#request(privateKey, publicKey, () => {
        sent();
        // The modules signing will need load once the request is out, while Fulcio answers.
        preloadDigestSigning();
      });
    } finally {
      sent();
    }
  }

  async #request(privateKey: KeyObject, publicKey: KeyObject, onSent: () => void): Promise<CertifiedKey> {
    const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    let token = '';
    let chain: string[];
    try {
      token = await this.options.getToken();
      const { subject } = parseIdentityToken(token);
      chain = await requestSigningCertificate(
        this.options.fulcioUrl,
        {
          identityToken: token,
          publicKeyPem,
          proofOfPossession: signMessage('sha256', Buffer.from(subject, 'utf8'), privateKey),
        },
        { timeoutMs: this.options.timeoutMs ?? 10_000, retries: this.options.retries ?? 1, onSent },
      );
    } catch (error) {
      throw serviceError('Fulcio', this.options.fulcioUrl, error, [token]);
    }
    const pem = chain[0]!;
    const cert = new X509Certificate(pem);
    if (!cert.publicKey.equals(publicKey))
      throw serviceError('Fulcio', this.options.fulcioUrl, new Error('the certificate is for another key'));
    const der = cert.raw;
    const leafPem = cert.toString();
    // Each certificate parsed once, between Fulcio's answer and the log upload.
    const above = chain.slice(1).map((c) => new X509Certificate(c).toString());
    return {
      privateKey,
      material: {
        kind: 'certificate' as const,
        der,
        pem: leafPem,
        fingerprint: createHash('sha256').update(der).digest('hex'),
        chain: above,
      },
      notAfter: new Date(cert.validTo).getTime(),
      chain: [leafPem, ...above],
    };
  }
}

/**
 * The modules core's signEcdsaDigest loads at its first call (noble's field, DER and byte helpers: this
 * package bundles core and noble, so they are the same module instances), started while Fulcio answers: a
 * one-shot command would otherwise load them only once the certificate is there, between the two round trips.
 * A failure here is not one: signEcdsaDigest loads them again and reports its own.
 */
function preloadDigestSigning(): void {
  void Promise.all([
    import('@noble/curves/abstract/modular.js'),
    import('@noble/curves/abstract/der.js'),
    import('@noble/curves/utils.js'),
  ]).catch(() => undefined);
}
