import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { requestCertificateForKey } from './fulcio-client.js';

/**
 * A keyless signature's Fulcio request, started ahead of need. A one-shot keyless `sign-blob` spends most of
 * its time before the request leaves loading its own code; a CLI that knows for certain, from its command line
 * alone, that it will ask this Fulcio for this token can start the very same request (a fresh P-256 key, the
 * same body, the same timeout and retries) before it loads the rest, and the command's EphemeralCertificateKey
 * takes it over instead of asking again. Kept on a process-wide symbol: the CLI's early code and the command
 * are separate bundles, each with its own copy of this module. The private key stays in this process's memory
 * (a KeyObject, as the key EphemeralCertificateKey makes itself), never written anywhere.
 */
const TABLE = Symbol.for('cosignkit.sigstore.certificate-prestart');

export interface PrestartedCertificateRequest {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** Fulcio's chain, PEM, leaf first; or what the request failed with, as requestSigningCertificate throws it. */
  readonly chain: Promise<string[]>;
  /** Settles once the request has been handed to the network in full, or has failed. */
  readonly sent: Promise<void>;
}

interface Entry {
  fulcioUrl: string;
  token: string;
  request: PrestartedCertificateRequest;
}

function table(): Entry[] {
  const holder = globalThis as { [TABLE]?: Entry[] };
  if (!holder[TABLE]) Object.defineProperty(holder, TABLE, { value: [], enumerable: false });
  return holder[TABLE]!;
}

/**
 * Starts asking `fulcioUrl` (as resolveSigningServices gives it) to certify a new key for `token` (trimmed, as
 * resolveIdentityToken gives it). Returns whether it did: a token that is not a well-formed unexpired JWT
 * starts nothing (the command refuses it before any request). Never throws. The caller must be certain the
 * command will take the request (takePrestartedCertificateRequest with the same URL and token): a
 * certificate asked for is issued, and a real Fulcio logs it in its CT log.
 */
export function prestartCertificateRequest(fulcioUrl: string, token: string): boolean {
  try {
    if (table().some((entry) => entry.fulcioUrl === fulcioUrl && entry.token === token)) return false;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    let sent = () => {};
    const sending = new Promise<void>((resolve) => {
      sent = resolve;
    });
    // The defaults EphemeralCertificateKey uses for its own requests (10 s per attempt, one retry).
    const chain = requestCertificateForKey(
      fulcioUrl,
      token,
      { privateKey, publicKey },
      { timeoutMs: 10_000, retries: 1, onSent: () => sent() },
    );
    chain.then(
      () => sent(),
      () => sent(),
    );
    table().push({ fulcioUrl, token, request: { privateKey, publicKey, chain, sent: sending } });
    return true;
  } catch {
    return false;
  }
}

/** The request prestarted for exactly this Fulcio and token (taken once), else undefined. */
export function takePrestartedCertificateRequest(
  fulcioUrl: string,
  token: string,
): PrestartedCertificateRequest | undefined {
  const entries = table();
  const at = entries.findIndex((entry) => entry.fulcioUrl === fulcioUrl && entry.token === token);
  if (at < 0) return undefined;
  return entries.splice(at, 1)[0]!.request;
}
