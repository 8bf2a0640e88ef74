import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { CosignkitError, fileError } from '@cosignkit/core';

/** A plan's limits (the PoE names the plan). */
export interface Plan {
  /** Sign requests per second, shared by every replica on one quota store. */
  qps: number;
  /** Extra requests allowed above `qps` in a short burst (per `burstWindowSeconds`, default 10 s). */
  burst: number;
  burstWindowSeconds: number;
  /** Sign requests in flight at once, per replica. */
  concurrency: number;
  /** Most subjects in one statement. */
  maxSubjects: number;
  /** Largest predicate, as canonical JSON bytes. */
  maxPredicateBytes: number;
}

export interface JwtIssuerConfig {
  issuer: string;
  /** A JWKS file (absolute after loading) or an https URL; exactly one. */
  jwksFile?: string;
  jwksUrl?: string;
  /** Accepted JWS algorithms (default ES256, ES384, EdDSA, RS256, PS256). */
  algorithms: string[];
}

export interface ServerConfig {
  host: string;
  port: number;
  /** The URL callers use (DPoP `htu` is checked against it); default from the listen address. */
  publicUrl?: string;
  tls?: { cert: string; key: string; clientCa?: string };
  authority: JwtIssuerConfig & { audience: string; tenants?: string[] };
  entitlement: JwtIssuerConfig & {
    /** Upper bound for caching a validated PoE (also never past its `exp`). */
    cacheTtlSeconds: number;
    /** Accepted `X-Cosignkit-Client-Version`: min inclusive, max exclusive. */
    clientVersion?: { min?: string; max?: string };
  };
  plans: Record<string, Plan>;
  predicateTypes: string[];
  /** The release key (`kms` mode) and/or keyless signing; at least one. */
  signing: { key?: string; keyless?: KeylessConfig };
  audit: { log: string };
  /** `memory` (default) or `redis://…`. */
  quotaStore: string;
  /** The scanner-release check; `{ "enabled": false }` turns it off (documented for --dev only). */
  release: ReleaseConfig;
  /** Largest request body (default 1 MiB). */
  maxBodyBytes: number;
  /** Requests in flight (all tenants) above which new ones get 503 (default 512). */
  maxInFlight: number;
  /** DPoP proofs: accepted clock skew and replay window (default 60 s). */
  dpopWindowSeconds: number;
  logLevel: string;
}

/**
 * Keyless signing: an ephemeral key with a Fulcio certificate for the signer's own OIDC identity, the log
 * entry and/or timestamp the signing config names (as `cosignkit sign-blob` keyless).
 */
export interface KeylessConfig {
  /** A SigningConfig v0.2 file (the CA, the Rekor log, the TSA); absolute after loading. */
  signingConfig?: string;
  /** Explicit services, overriding the signing config's (at least a Fulcio URL without a signing config). */
  fulcioUrl?: string;
  rekorUrl?: string;
  tsaUrl?: string;
  /** Default true: a Rekor entry in every bundle (false needs a TSA). */
  tlogUpload: boolean;
  /**
   * Where the signer's OIDC ID token comes from: a file (re-read each time a certificate is requested, so a
   * rotated file — a Kubernetes projected token, a sidecar — is picked up) or an environment variable.
   */
  identityToken: { file: string } | { env: string };
  /** Per call to Fulcio/Rekor/TSA (default 10 s). */
  timeoutMs: number;
}

export interface ReleaseConfig {
  enabled: boolean;
  /** The scanner image repository, e.g. `127.0.0.1:5000/scanner`. */
  repository?: string;
  /** PEM files of the trusted release keys (absolute after loading). */
  trustedKeys: string[];
  /** Keyless release signers (cosign's identity flags); their bundles verify against `trustedRoot`. */
  trustedIdentities: TrustedIdentity[];
  /** A TrustedRoot (or ClientTrustConfig) file for keyless release signatures; absolute after loading. */
  trustedRoot?: string;
  /** Plain HTTP to a loopback registry (tests, dev). */
  insecure: boolean;
  /** Verdicts are cached this long (default 300 s): a signature does not change, its removal is rare. */
  cacheTtlSeconds: number;
}

/** One trusted keyless signer: an identity and an issuer, each exact or a Go regexp (one of each). */
export interface TrustedIdentity {
  identity?: string;
  identityRegexp?: string;
  issuer?: string;
  issuerRegexp?: string;
}

const DEFAULT_ALGORITHMS = ['ES256', 'ES384', 'EdDSA', 'RS256', 'PS256'];

/** Reads and checks a config file; every problem is one USAGE line naming the file and the field. */
export async function loadServerConfig(path: string): Promise<ServerConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw fileError(path, error);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new CosignkitError('USAGE', `${path}: not valid JSON`);
  }
  try {
    return parseServerConfig(raw, dirname(resolve(path)));
  } catch (error) {
    if (CosignkitError.isInstance(error)) throw new CosignkitError('USAGE', `${path}: ${error.message}`);
    throw error;
  }
}

/** Checks a config object; relative paths resolve against `baseDir`. */
export function parseServerConfig(raw: unknown, baseDir: string): ServerConfig {
  const c = obj(raw, 'config');
  const path = (v: unknown, name: string) => {
    const s = str(v, name);
    return isAbsolute(s) ? s : resolve(baseDir, s);
  };
  const issuer = (v: unknown, name: string): JwtIssuerConfig => {
    const o = obj(v, name);
    const jwksFile = o.jwksFile === undefined ? undefined : path(o.jwksFile, `${name}.jwksFile`);
    const jwksUrl = o.jwksUrl === undefined ? undefined : str(o.jwksUrl, `${name}.jwksUrl`);
    if ((jwksFile === undefined) === (jwksUrl === undefined)) fail(`${name}: give exactly one of jwksFile and jwksUrl`);
    if (jwksUrl !== undefined && !/^https?:\/\//.test(jwksUrl)) fail(`${name}.jwksUrl must be an http(s) URL`);
    const algorithms = o.algorithms === undefined ? DEFAULT_ALGORITHMS : strList(o.algorithms, `${name}.algorithms`);
    return {
      issuer: str(o.issuer, `${name}.issuer`),
      ...(jwksFile ? { jwksFile } : {}),
      ...(jwksUrl ? { jwksUrl } : {}),
      algorithms,
    };
  };
  const a = obj(c.authority, 'authority');
  const e = obj(c.entitlement, 'entitlement');
  const plansRaw = obj(c.plans, 'plans');
  const plans: Record<string, Plan> = {};
  for (const [name, value] of Object.entries(plansRaw)) {
    const p = obj(value, `plans.${name}`);
    plans[name] = {
      qps: num(p.qps, `plans.${name}.qps`, 1),
      burst: p.burst === undefined ? 0 : num(p.burst, `plans.${name}.burst`, 0),
      burstWindowSeconds:
        p.burstWindowSeconds === undefined ? 10 : num(p.burstWindowSeconds, `plans.${name}.burstWindowSeconds`, 1),
      concurrency: num(p.concurrency, `plans.${name}.concurrency`, 1),
      maxSubjects: num(p.maxSubjects, `plans.${name}.maxSubjects`, 1),
      maxPredicateBytes: num(p.maxPredicateBytes, `plans.${name}.maxPredicateBytes`, 2),
    };
  }
  if (Object.keys(plans).length === 0) fail('plans: name at least one plan');
  const tlsRaw = c.tls === undefined ? undefined : obj(c.tls, 'tls');
  const r = c.release === undefined ? undefined : obj(c.release, 'release');
  if (r === undefined)
    fail('release: configure the scanner release check (repository, trustedKeys) or set {"enabled": false}');
  const release: ReleaseConfig = {
    enabled: r.enabled === undefined ? true : bool(r.enabled, 'release.enabled'),
    trustedKeys:
      r.trustedKeys === undefined
        ? []
        : strList(r.trustedKeys, 'release.trustedKeys').map((k, i) => path(k, `release.trustedKeys[${i}]`)),
    trustedIdentities: r.trustedIdentities === undefined ? [] : trustedIdentities(r.trustedIdentities),
    insecure: r.insecure === undefined ? false : bool(r.insecure, 'release.insecure'),
    cacheTtlSeconds: r.cacheTtlSeconds === undefined ? 300 : num(r.cacheTtlSeconds, 'release.cacheTtlSeconds', 0),
  };
  if (r.repository !== undefined) release.repository = str(r.repository, 'release.repository');
  if (r.trustedRoot !== undefined) release.trustedRoot = path(r.trustedRoot, 'release.trustedRoot');
  if (
    release.enabled &&
    (release.repository === undefined || (release.trustedKeys.length === 0 && release.trustedIdentities.length === 0))
  ) {
    fail('release: an enabled release check needs repository and at least one trustedKeys or trustedIdentities entry');
  }
  if (release.trustedIdentities.length > 0 && release.trustedRoot === undefined)
    fail('release: trustedIdentities need a trustedRoot file (the CA and log keys they are verified against)');
  const quotaStore = c.quotaStore === undefined ? 'memory' : str(c.quotaStore, 'quotaStore');
  if (quotaStore !== 'memory' && !/^rediss?:\/\//.test(quotaStore))
    fail('quotaStore must be "memory" or a redis:// URL');
  const s = obj(c.signing, 'signing');
  const config: ServerConfig = {
    host: c.host === undefined ? '127.0.0.1' : str(c.host, 'host'),
    port: c.port === undefined ? 8443 : num(c.port, 'port', 0),
    authority: {
      ...issuer(a, 'authority'),
      audience: str(a.audience, 'authority.audience'),
      ...(a.tenants === undefined ? {} : { tenants: strList(a.tenants, 'authority.tenants') }),
    },
    entitlement: {
      ...issuer(e, 'entitlement'),
      cacheTtlSeconds: e.cacheTtlSeconds === undefined ? 60 : num(e.cacheTtlSeconds, 'entitlement.cacheTtlSeconds', 0),
      ...(e.clientVersion === undefined ? {} : { clientVersion: versionWindow(e.clientVersion) }),
    },
    plans,
    predicateTypes: strList(c.predicateTypes, 'predicateTypes'),
    signing: {
      ...(s.key === undefined ? {} : { key: str(s.key, 'signing.key') }),
      ...(s.keyless === undefined ? {} : { keyless: keylessConfig(s.keyless, path) }),
    },
    audit: { log: path(obj(c.audit, 'audit').log, 'audit.log') },
    quotaStore,
    release,
    maxBodyBytes: c.maxBodyBytes === undefined ? 1024 * 1024 : num(c.maxBodyBytes, 'maxBodyBytes', 1024),
    maxInFlight: c.maxInFlight === undefined ? 512 : num(c.maxInFlight, 'maxInFlight', 1),
    dpopWindowSeconds: c.dpopWindowSeconds === undefined ? 60 : num(c.dpopWindowSeconds, 'dpopWindowSeconds', 1),
    logLevel: c.logLevel === undefined ? 'info' : str(c.logLevel, 'logLevel'),
  };
  if (c.publicUrl !== undefined) config.publicUrl = str(c.publicUrl, 'publicUrl').replace(/\/+$/, '');
  if (tlsRaw) {
    config.tls = { cert: path(tlsRaw.cert, 'tls.cert'), key: path(tlsRaw.key, 'tls.key') };
    if (tlsRaw.clientCa !== undefined) config.tls.clientCa = path(tlsRaw.clientCa, 'tls.clientCa');
  }
  if (config.signing.key === undefined && config.signing.keyless === undefined)
    fail('signing: give a key, keyless settings, or both');
  if (config.predicateTypes.length === 0) fail('predicateTypes: allow at least one predicate type');
  return config;
}

function keylessConfig(v: unknown, path: (v: unknown, name: string) => string): KeylessConfig {
  const k = obj(v, 'signing.keyless');
  const url = (name: 'fulcioUrl' | 'rekorUrl' | 'tsaUrl') => {
    if (k[name] === undefined) return {};
    const value = str(k[name], `signing.keyless.${name}`);
    if (!/^https?:\/\/[^\s]+$/.test(value)) fail(`signing.keyless.${name} must be an http(s) URL`);
    return { [name]: value.replace(/\/+$/, '') };
  };
  const t = obj(k.identityToken, 'signing.keyless.identityToken');
  if ((t.file === undefined) === (t.env === undefined))
    fail('signing.keyless.identityToken: give exactly one of file and env');
  const identityToken =
    t.file !== undefined
      ? { file: path(t.file, 'signing.keyless.identityToken.file') }
      : { env: str(t.env, 'signing.keyless.identityToken.env') };
  const config: KeylessConfig = {
    ...(k.signingConfig === undefined ? {} : { signingConfig: path(k.signingConfig, 'signing.keyless.signingConfig') }),
    ...url('fulcioUrl'),
    ...url('rekorUrl'),
    ...url('tsaUrl'),
    tlogUpload: k.tlogUpload === undefined ? true : bool(k.tlogUpload, 'signing.keyless.tlogUpload'),
    identityToken,
    timeoutMs: k.timeoutMs === undefined ? 10_000 : num(k.timeoutMs, 'signing.keyless.timeoutMs', 100),
  };
  if (config.signingConfig === undefined && config.fulcioUrl === undefined)
    fail('signing.keyless: give a signingConfig file or a fulcioUrl');
  return config;
}

function trustedIdentities(v: unknown): TrustedIdentity[] {
  if (!Array.isArray(v)) fail('release.trustedIdentities must be a list');
  return v.map((item, i) => {
    const name = `release.trustedIdentities[${i}]`;
    const o = obj(item, name);
    const out: TrustedIdentity = {};
    for (const k of ['identity', 'identityRegexp', 'issuer', 'issuerRegexp'] as const)
      if (o[k] !== undefined) out[k] = str(o[k], `${name}.${k}`);
    for (const k of Object.keys(o))
      if (!['identity', 'identityRegexp', 'issuer', 'issuerRegexp'].includes(k)) fail(`${name}: unknown field ${k}`);
    if ((out.identity === undefined) === (out.identityRegexp === undefined))
      fail(`${name}: give exactly one of identity and identityRegexp`);
    if ((out.issuer === undefined) === (out.issuerRegexp === undefined))
      fail(`${name}: give exactly one of issuer and issuerRegexp`);
    return out;
  });
}

function versionWindow(v: unknown): { min?: string; max?: string } {
  const o = obj(v, 'entitlement.clientVersion');
  const out: { min?: string; max?: string } = {};
  for (const k of ['min', 'max'] as const) {
    if (o[k] === undefined) continue;
    const s = str(o[k], `entitlement.clientVersion.${k}`);
    if (!/^\d+\.\d+\.\d+$/.test(s)) fail(`entitlement.clientVersion.${k} must be a version like 1.2.3`);
    out[k] = s;
  }
  return out;
}

function fail(message: string): never {
  throw new CosignkitError('USAGE', message);
}
function obj(v: unknown, name: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(`${name} must be an object`);
  return v as Record<string, unknown>;
}
function str(v: unknown, name: string): string {
  if (typeof v !== 'string' || v === '') fail(`${name} must be a non-empty string`);
  return v;
}
function bool(v: unknown, name: string): boolean {
  if (typeof v !== 'boolean') fail(`${name} must be true or false`);
  return v;
}
function num(v: unknown, name: string, min: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) fail(`${name} must be a number >= ${min}`);
  return v;
}
function strList(v: unknown, name: string): string[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x === '')) fail(`${name} must be a list of strings`);
  return v as string[];
}
