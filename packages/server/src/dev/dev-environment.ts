import { generateKeyPairSync } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { encryptCosignKey } from '@cosignkit/key-file';
import { certificateThumbprint } from '../auth/op-token.js';
import { createDevCa, type DevCa } from './dev-pki.js';
import { DevIssuer } from './dev-issuer.js';

/** The small plan `serve --dev` offers (documented in the README). */
export const DEV_PLAN = { qps: 50, burst: 50, concurrency: 16, maxSubjects: 64, maxPredicateBytes: 256 * 1024 };
export const DEV_TENANT = 'dev-tenant';
export const DEV_AUDIENCE = 'cosignkit-signer';
export const DEV_PREDICATE_TYPES = [
  'https://slsa.dev/provenance/v1',
  'https://slsa.dev/provenance/v0.2',
  'https://spdx.dev/Document',
  'https://cyclonedx.org/bom',
  'https://openvex.dev/ns',
  'https://cosign.sigstore.dev/attestation/v1',
  'https://cosign.sigstore.dev/attestation/vuln/v1',
];

export interface DevEnvironment {
  dir: string;
  /** The server config (raw JSON, paths absolute). */
  config: Record<string, unknown>;
  authority: DevIssuer;
  licensing: DevIssuer;
  ca: DevCa;
  files: {
    caCert: string;
    serverCert: string;
    serverKey: string;
    clientCert: string;
    clientKey: string;
    signingKey: string;
    publicKey: string;
    auditLog: string;
    config: string;
  };
  publicKeyPem: string;
  /** x5t#S256 of the client certificate. */
  clientThumbprint: string;
  /** An OpTok (1 h, scope signer.sign signer.verify) bound to the client certificate. */
  opTok: string;
  /** A PoE licence JWT (1 h) for the dev plan. */
  poe: string;
}

/**
 * Writes everything a trial server needs into `dir`: an Authority and a licensing key (JWKS), a CA with a
 * server and a client certificate, a cosign key file (empty password) to sign with, and the config.
 * Private keys are 0600. The signing key is for trials only: its password is empty.
 */
export async function createDevEnvironment(
  dirArg: string,
  options: { port?: number; host?: string } = {},
): Promise<DevEnvironment> {
  const dir = resolve(dirArg);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const authority = await DevIssuer.create('https://authority.dev.cosignkit.invalid');
  const licensing = await DevIssuer.create('https://licensing.dev.cosignkit.invalid');
  const ca = await createDevCa();
  const server = await ca.issue({ subject: 'CN=localhost', server: true });
  const client = await ca.issue({ subject: `CN=dev-client, O=${DEV_TENANT}, OU=dev` });
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const files = {
    caCert: join(dir, 'ca.crt'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    clientCert: join(dir, 'client.crt'),
    clientKey: join(dir, 'client.key'),
    signingKey: join(dir, 'cosign.key'),
    publicKey: join(dir, 'cosign.pub'),
    auditLog: join(dir, 'audit.log'),
    config: join(dir, 'config.json'),
  };
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const secret = async (path: string, text: string) => {
    await writeFile(path, text, { mode: 0o600 });
    await chmod(path, 0o600);
  };
  await Promise.all([
    writeFile(join(dir, 'authority.jwks.json'), JSON.stringify(authority.jwks)),
    writeFile(join(dir, 'licensing.jwks.json'), JSON.stringify(licensing.jwks)),
    secret(join(dir, 'authority.private.jwk.json'), JSON.stringify(authority.privateJwk)),
    secret(join(dir, 'licensing.private.jwk.json'), JSON.stringify(licensing.privateJwk)),
    writeFile(files.caCert, ca.certPem),
    writeFile(files.serverCert, server.certPem + ca.certPem),
    secret(files.serverKey, server.keyPem),
    writeFile(files.clientCert, client.certPem),
    secret(files.clientKey, client.keyPem),
    secret(files.signingKey, await encryptCosignKey(privateKey, '')),
    writeFile(files.publicKey, publicKeyPem),
  ]);
  const clientThumbprint = certificateThumbprint(new X509Certificate(client.certPem));
  const config: Record<string, unknown> = {
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    tls: { cert: files.serverCert, key: files.serverKey, clientCa: files.caCert },
    authority: {
      issuer: authority.issuer,
      audience: DEV_AUDIENCE,
      jwksFile: join(dir, 'authority.jwks.json'),
      tenants: [DEV_TENANT],
    },
    entitlement: { issuer: licensing.issuer, jwksFile: join(dir, 'licensing.jwks.json'), cacheTtlSeconds: 60 },
    plans: { dev: DEV_PLAN },
    predicateTypes: DEV_PREDICATE_TYPES,
    signing: { key: files.signingKey },
    audit: { log: files.auditLog },
    quotaStore: 'memory',
    release: { enabled: false },
    logLevel: 'info',
  };
  await writeFile(files.config, `${JSON.stringify(config, null, 2)}\n`);
  const opTok = await authority.issue({
    sub: 'dev-client',
    aud: DEV_AUDIENCE,
    scope: 'signer.sign signer.verify',
    tenant: DEV_TENANT,
    cnf: { 'x5t#S256': clientThumbprint },
  });
  const poe = await licensing.issue({ sub: DEV_TENANT, plan: 'dev' });
  return { dir, config, authority, licensing, ca, files, publicKeyPem, clientThumbprint, opTok, poe };
}

/** Writes `dir/dev.json` once the server listens (the URL is known then). */
export async function writeDevJson(
  env: DevEnvironment,
  url: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const path = join(env.dir, 'dev.json');
  const body = {
    url,
    opTok: env.opTok,
    poe: env.poe,
    publicKeyPem: env.publicKeyPem,
    publicKey: env.files.publicKey,
    caCert: env.files.caCert,
    clientCert: env.files.clientCert,
    clientKey: env.files.clientKey,
    auditLog: env.files.auditLog,
    plan: { name: 'dev', ...DEV_PLAN },
    ...extra,
  };
  await writeFile(path, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
  return path;
}
