import { hash, type X509Certificate } from 'node:crypto';
import { errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import type { ServerConfig } from '../config.js';
import { TtlCache } from '../expiring-set.js';
import { forbidden, malformed } from '../problem.js';
import { certificateThumbprint, joseReason, type Caller } from './op-token.js';

/** A caller's entitlement, from its Proof-of-Entitlement. */
export interface Entitlement {
  plan: string;
  /** The licence's expiry (ms since the epoch). */
  expiresAt: number;
  licenceId?: string;
}

export interface ProofOfEntitlement {
  format: 'jwt' | 'mtls';
  value: string;
}

const poeRefused = (detail: string) => forbidden('entitlement-refused', 'Proof of entitlement refused', detail);

/**
 * Validates a Proof-of-Entitlement: a licence JWT from the licensing issuer (`sub` the tenant, `plan`, `exp`),
 * or the client certificate itself (`mtls`: the value is the certificate's x5t#S256, the plan its subject OU,
 * the tenant its subject O, the licence expiry its notAfter). It is a hard gate: the plan must exist, the
 * licence be unexpired, the tenant match the OpTok's, and the client version fall in the allowed window.
 * Verdicts are cached (keyed by the PoE's hash) for at most cacheTtlSeconds and never past the licence expiry.
 */
export class EntitlementValidator {
  private readonly cache = new TtlCache<Entitlement & { tenant: string }>(10_000);

  constructor(
    private readonly config: ServerConfig['entitlement'],
    private readonly keys: JWTVerifyGetKey,
    private readonly plans: ServerConfig['plans'],
  ) {}

  async validate(
    poe: ProofOfEntitlement,
    caller: Caller,
    clientCert: X509Certificate | undefined,
    clientVersion: string | undefined,
  ): Promise<Entitlement> {
    this.checkClientVersion(clientVersion);
    const cacheKey = `${poe.format}:${hash('sha256', poe.value, 'base64url')}`;
    let found = this.cache.get(cacheKey);
    if (found === undefined) {
      found = poe.format === 'jwt' ? await this.fromJwt(poe.value) : this.fromCertificate(poe.value, clientCert);
      this.cache.set(cacheKey, found, Math.min(this.config.cacheTtlSeconds * 1000, found.expiresAt - Date.now()));
    }
    if (found.expiresAt <= Date.now()) throw poeRefused('the licence has expired');
    if (found.tenant !== caller.tenant) throw poeRefused('the proof of entitlement is for another tenant');
    if (this.plans[found.plan] === undefined) throw poeRefused('the licence names a plan this signer does not offer');
    const { tenant: _tenant, ...entitlement } = found;
    return entitlement;
  }

  private async fromJwt(token: string): Promise<Entitlement & { tenant: string }> {
    if (token.length > 16 * 1024) throw malformed('poe.value is too long');
    try {
      const { payload } = await jwtVerify(token, this.keys, {
        issuer: this.config.issuer,
        algorithms: this.config.algorithms,
        requiredClaims: ['exp', 'sub'],
        clockTolerance: 5,
      });
      if (typeof payload.plan !== 'string') throw poeRefused('the licence names no plan');
      const out: Entitlement & { tenant: string } = {
        plan: payload.plan,
        expiresAt: payload.exp! * 1000,
        tenant: payload.sub!,
      };
      if (typeof payload.jti === 'string') out.licenceId = payload.jti;
      return out;
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw poeRefused('the licence has expired');
      if (error instanceof Error && error.name === 'Problem') throw error;
      throw poeRefused(`licence rejected: ${joseReason(error)}`);
    }
  }

  private fromCertificate(value: string, cert: X509Certificate | undefined): Entitlement & { tenant: string } {
    if (cert === undefined) throw poeRefused('an mtls proof of entitlement needs a verified client certificate');
    if (value !== certificateThumbprint(cert))
      throw poeRefused('poe.value is not the thumbprint of the client certificate');
    const field = (name: string) => new RegExp(`^${name}=(.+)$`, 'm').exec(cert.subject)?.[1];
    const plan = field('OU');
    const tenant = field('O');
    if (plan === undefined || tenant === undefined)
      throw poeRefused('the client certificate names no plan (OU) or tenant (O)');
    return { plan, tenant, expiresAt: Date.parse(cert.validTo) };
  }

  private checkClientVersion(version: string | undefined): void {
    const window = this.config.clientVersion;
    if (window === undefined) return;
    if (version === undefined || !/^\d+\.\d+\.\d+$/.test(version)) {
      throw forbidden(
        'client-version',
        'Client version not allowed',
        'send X-Cosignkit-Client-Version: <major.minor.patch>',
      );
    }
    if ((window.min && compare(version, window.min) < 0) || (window.max && compare(version, window.max) >= 0)) {
      throw forbidden(
        'client-version',
        'Client version not allowed',
        `client version ${version} is outside the allowed window`,
      );
    }
  }
}

function compare(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return 0;
}
