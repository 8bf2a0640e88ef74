import { createHash, verify as verifySignature, X509Certificate } from 'node:crypto';
import { open, readFile, stat } from 'node:fs/promises';
import { CosignkitError, fileError, silentLogger, type Logger } from '@cosignkit/core';
import { IN_TOTO_PAYLOAD_TYPE, pae, type Envelope } from '@cosignkit/dsse';
import {
  createKeylessSigner,
  IDENTITY_TOKEN_SIZE_LIMIT,
  parseIdentityToken,
  resolveSigningServices,
  type BundleSigner,
  type EphemeralCertificateKey,
  type SigningServices,
} from '@cosignkit/sigstore';
import type { KeylessConfig } from './config.js';
import { unavailable } from './problem.js';

/** What a keyless signature gives the caller: the envelope, its bundle and who signed it. */
export interface KeylessSignedStatement {
  envelope: Envelope;
  envelopeJson: { payloadType: string; payload: string; signatures: { keyid: string; sig: string }[] };
  /** Sigstore v0.3 bundle: the leaf certificate, the log entry and/or timestamp as the services say. */
  bundle: Record<string, unknown>;
  identity: {
    mode: 'keyless';
    /** Hex SHA-256 of the leaf certificate's DER (stable while the certificate is reused). */
    keyId: string;
    /** PEM, leaf first, as Fulcio answered. */
    certificateChain: string[];
    /** The leaf's subject alternative name(s), as Node prints them (`URI:…`, `email:…`). */
    subject: string;
    /** The OIDC issuer of the token the certificate was asked with. */
    issuer: string;
  };
}

/**
 * Keyless signing for the service: @cosignkit/sigstore's keyless signer (an in-memory P-256 key and a Fulcio
 * certificate for the service's own OIDC identity, reused across requests while it is valid, renewed a minute
 * before it runs out) and the Rekor entry and/or timestamp the signing config names. The identity token is
 * read only when a certificate is requested, from a file (re-read every time, so a rotated token is picked
 * up) or an environment variable; it never leaves this object except towards Fulcio.
 */
export class KeylessStatementSigner {
  private issuer = '';

  private constructor(
    private readonly signer: BundleSigner,
    private readonly key: EphemeralCertificateKey,
    readonly services: SigningServices,
  ) {}

  /** Checks the settings (services, token source) and fails start-up with one line when they are wrong. */
  static async open(
    config: KeylessConfig,
    env: NodeJS.ProcessEnv = process.env,
    logger: Logger = silentLogger,
  ): Promise<KeylessStatementSigner> {
    let services: SigningServices;
    try {
      services = await resolveSigningServices({
        ...(config.signingConfig ? { signingConfigPath: config.signingConfig } : {}),
        ...(config.fulcioUrl ? { fulcioUrl: config.fulcioUrl } : {}),
        ...(config.rekorUrl ? { rekorUrl: config.rekorUrl } : {}),
        ...(config.tsaUrl ? { timestampServerUrl: config.tsaUrl } : {}),
        tlogUpload: config.tlogUpload,
        keyless: true,
      });
    } catch (error) {
      throw CosignkitError.isInstance(error)
        ? new CosignkitError('USAGE', `signing.keyless: ${error.message.replace(/--[a-z-]+/g, (f) => flagName(f))}`)
        : error;
    }
    const source = config.identityToken;
    if ('file' in source) {
      // Present and a regular file now (through symbolic links: a Kubernetes projected token is one); its
      // content is read (and checked again) when a certificate is needed.
      let info;
      try {
        info = await stat(source.file);
      } catch (error) {
        const e = fileError(source.file, error);
        throw new CosignkitError('USAGE', `signing.keyless.identityToken.file: ${e.message}`);
      }
      if (!info.isFile())
        throw new CosignkitError('USAGE', `signing.keyless.identityToken.file: ${source.file} is not a regular file`);
    } else if (!env[source.env]) {
      throw new CosignkitError('USAGE', `signing.keyless.identityToken.env: $${source.env} is not set`);
    }
    let self: KeylessStatementSigner | undefined;
    const getToken = async () => {
      const token = await readToken(source, env);
      // Expired or malformed: said here, in the operator's log, rather than as Fulcio's opaque 401.
      const claims = parseIdentityToken(token);
      if (self) self.issuer = claims.issuer;
      logger.debug?.(`keyless: requesting a certificate for a token from ${claims.issuer}`);
      return token;
    };
    const { signer, key } = createKeylessSigner({ services, getToken, timeoutMs: config.timeoutMs, retries: 1 });
    self = new KeylessStatementSigner(signer, key, services);
    return self;
  }

  /**
   * Signs the payload; a CA, log or TSA that refuses or cannot be reached is a 503 (the detail in the log).
   * The certificate may be renewed between the signature and the bundle's assembly (a concurrent request near
   * its end of life): the bundle is checked against its own certificate and signed again once if they differ.
   */
  async sign(payload: Uint8Array, logger: Logger = silentLogger): Promise<KeylessSignedStatement> {
    for (let attempt = 0; ; attempt++) {
      let bundle: SignedBundle;
      let chain: string[];
      try {
        bundle = (await this.signer.signDsse(IN_TOTO_PAYLOAD_TYPE, payload)) as unknown as SignedBundle;
        chain = await this.key.certificateChain();
      } catch (error) {
        logger.warn('keyless signing failed', {
          code: CosignkitError.isInstance(error) ? error.code : 'INTERNAL',
          message: (error as Error).message,
        });
        throw unavailable('keyless signing is unavailable now (certificate authority, log or identity token)', 5);
      }
      const der = Buffer.from(String(bundle.verificationMaterial?.certificate?.rawBytes ?? ''), 'base64');
      const leaf = new X509Certificate(der);
      const sig = Buffer.from(String(bundle.dsseEnvelope?.signatures?.[0]?.sig ?? ''), 'base64');
      const consistent =
        verifySignature('sha256', pae(IN_TOTO_PAYLOAD_TYPE, payload), leaf.publicKey, sig) &&
        new X509Certificate(chain[0]!).raw.equals(der);
      if (!consistent) {
        if (attempt === 0) continue;
        throw unavailable('keyless signing is unavailable now (the certificate changed while signing)', 1);
      }
      const payloadB64 = Buffer.from(payload).toString('base64');
      return {
        envelope: {
          payloadType: IN_TOTO_PAYLOAD_TYPE,
          payload: Uint8Array.from(payload),
          signatures: [{ keyid: '', sig }],
        },
        envelopeJson: {
          payloadType: IN_TOTO_PAYLOAD_TYPE,
          payload: payloadB64,
          signatures: [{ keyid: '', sig: sig.toString('base64') }],
        },
        bundle: bundle as Record<string, unknown>,
        identity: {
          mode: 'keyless',
          keyId: createHash('sha256').update(der).digest('hex'),
          certificateChain: chain,
          subject: leaf.subjectAltName ?? '',
          issuer: this.issuer,
        },
      };
    }
  }
}

/** The parts of the serialized v0.3 bundle read back here. */
interface SignedBundle {
  verificationMaterial?: { certificate?: { rawBytes?: string } };
  dsseEnvelope?: { payload?: string; signatures?: { sig?: string }[] };
}

async function readToken(source: KeylessConfig['identityToken'], env: NodeJS.ProcessEnv): Promise<string> {
  if ('env' in source) {
    const value = env[source.env];
    if (!value) throw new CosignkitError('IDENTITY_TOKEN', `$${source.env} is not set`);
    return value.trim();
  }
  const handle = await open(source.file, 'r').catch((error: unknown) => {
    throw fileError(source.file, error);
  });
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new CosignkitError('NOT_A_FILE', `${source.file} is not a regular file`);
    if (info.size > IDENTITY_TOKEN_SIZE_LIMIT)
      throw new CosignkitError('IDENTITY_TOKEN', `${source.file} is over ${IDENTITY_TOKEN_SIZE_LIMIT} bytes`);
    return (await readFile(handle, 'utf8')).trim();
  } finally {
    await handle.close();
  }
}

/** resolveSigningServices speaks in CLI flags; the config names fields. */
function flagName(flag: string): string {
  const names: Record<string, string> = {
    '--fulcio-url': 'fulcioUrl',
    '--rekor-url': 'rekorUrl',
    '--timestamp-server-url': 'tsaUrl',
    '--tlog-upload=false': 'tlogUpload: false',
    '--tlog-upload': 'tlogUpload',
  };
  return names[flag] ?? flag;
}
