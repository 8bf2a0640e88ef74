import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TrustedRoot } from '@sigstore/protobuf-specs';
import { embeddedTrustedRoot, parseTrustedRoot } from '../src/index.js';

export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
export const fixture = (name: string): Buffer => readFileSync(`${FIXTURES}${name}`);
export const fixtureJson = (name: string): Record<string, any> => JSON.parse(fixture(name).toString('utf8'));

export type RootName = 'public-good' | 'staging' | 'tsa-trust-config';

export function rootOf(name: RootName): TrustedRoot {
  if (name === 'tsa-trust-config')
    return parseTrustedRoot(fixtureJson('tsa-trust_config.json'), 'tsa-trust_config.json').root;
  return embeddedTrustedRoot(name).root;
}

/** The root file the fixture README names for each instance (the CLI tests pass these with --trusted-root). */
export const ROOT_FILES: Record<RootName, string> = {
  'public-good': 'public-good-trusted_root.json',
  staging: 'staging-trusted_root.json',
  'tsa-trust-config': 'tsa-trust_config.json',
};

export interface Case {
  bundle: string;
  /** The signed file; undefined for DSSE bundles (the payload is the artifact). */
  artifact?: string;
  identity: string;
  issuer: string;
  root: RootName;
  /** The instance whose root must NOT verify it. */
  otherRoot: RootName;
  dsse: boolean;
}

const BRIAN = {
  identity: 'brian@dehamer.com',
  issuer: 'https://github.com/login/oauth',
  root: 'public-good',
  otherRoot: 'staging',
  dsse: true,
} as const;

/** Every bundle of interop/public-good/ with the identity, issuer and root its README gives. */
export const CASES: Case[] = [
  ...[
    'bundleV01-dsse-no-proof',
    'bundleV01-dsse-with-proof',
    'bundleV01-full-cert-chain',
    'bundleV01-intoto-no-proof',
    'bundleV01-intoto-with-proof',
    'bundleV02-dsse',
    'bundleV02-intoto',
    'bundleV03-dsse',
    'bundleV03-intoto',
  ].map((name) => ({ ...BRIAN, bundle: `${name}.sigstore` })),
  {
    bundle: 'bundle_v3_github.whl.sigstore',
    artifact: 'bundle_v3_github.whl',
    identity: 'https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2',
    issuer: 'https://token.actions.githubusercontent.com',
    root: 'public-good',
    otherRoot: 'staging',
    dsse: false,
  },
  {
    bundle: 'bundle_v3.txt.sigstore',
    artifact: 'bundle_v3.txt',
    identity: 'william@yossarian.net',
    issuer: 'https://github.com/login/oauth',
    root: 'staging',
    otherRoot: 'public-good',
    dsse: false,
  },
  {
    bundle: 'bundle_v3_alt.txt.sigstore',
    artifact: 'bundle_v3_alt.txt',
    identity: 'william@yossarian.net',
    issuer: 'https://github.com/login/oauth',
    root: 'staging',
    otherRoot: 'public-good',
    dsse: false,
  },
  {
    bundle: 'staging-rekor-v2.txt.sigstore.json',
    artifact: 'staging-rekor-v2.txt',
    identity: 'jku@goto.fi',
    issuer: 'https://github.com/login/oauth',
    root: 'staging',
    otherRoot: 'public-good',
    dsse: false,
  },
  {
    bundle: 'tsa-bundle.txt.sigstore',
    artifact: 'tsa-bundle.txt',
    identity: 'alexis.challande@trailofbits.com',
    issuer: 'https://accounts.google.com',
    root: 'tsa-trust-config',
    otherRoot: 'public-good',
    dsse: false,
  },
];

/** A copy with one byte of the DSSE payload flipped (the signature then covers other bytes). */
export function flipPayloadByte(bundle: Record<string, any>): Record<string, any> {
  const copy = structuredClone(bundle);
  const payload = Buffer.from(copy.dsseEnvelope.payload, 'base64');
  payload[10] = payload[10]! ^ 1;
  copy.dsseEnvelope.payload = payload.toString('base64');
  return copy;
}

export function flipByte(bytes: Buffer): Buffer {
  const copy = Buffer.from(bytes);
  copy[0] = copy[0]! ^ 1;
  return copy;
}

/**
 * A trusted root's JSON with one certificate of each CA's chain broken (`pick` gives its index, or -1 for
 * none): its last byte, the last of its signature's s, flipped. The bytes still parse; the signature no longer
 * verifies; the key, name and extensions are the certificate's own.
 */
export function withBrokenCertificates(
  rootJson: Record<string, any>,
  pick: (chain: unknown[]) => number,
): Record<string, any> {
  const copy = structuredClone(rootJson);
  for (const ca of copy.certificateAuthorities) {
    const cert = ca.certChain.certificates[pick(ca.certChain.certificates)];
    if (cert === undefined) continue;
    const der = Buffer.from(cert.rawBytes, 'base64');
    der[der.length - 1]! ^= 0x01;
    cert.rawBytes = der.toString('base64');
  }
  return copy;
}

export function withoutTlog(bundle: Record<string, any>): Record<string, any> {
  const copy = structuredClone(bundle);
  copy.verificationMaterial.tlogEntries = [];
  return copy;
}

/**
 * Re-logs a bundle's entry in a transparency log of our own at `integratedTime`: a fresh P-256 key signs a
 * new SET (the canonical JSON of body, integratedTime, logID, logIndex, as Rekor signs it), and a copy of the
 * trusted root lists that key as its only Rekor log. Everything else (Fulcio chain, SCT, signature) stays
 * real, so moving the time is the ONLY change: with the real time the bundle verifies (the control), with a
 * time outside the certificate's validity it must not.
 */
export function relogAt(bundle: Record<string, any>, rootJson: Record<string, any>, integratedTime: number) {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  const logId = createHash('sha256').update(spki).digest();
  const copy = structuredClone(bundle);
  const entry = copy.verificationMaterial.tlogEntries[0];
  delete entry.inclusionProof; // the checkpoint is signed by the real log's key: keep the SET path only
  entry.integratedTime = String(integratedTime);
  entry.logId = { keyId: logId.toString('base64') };
  const setPayload = `{"body":"${entry.canonicalizedBody}","integratedTime":${integratedTime},"logID":"${logId.toString('hex')}","logIndex":${Number(entry.logIndex)}}`;
  entry.inclusionPromise = {
    signedEntryTimestamp: sign('sha256', Buffer.from(setPayload), privateKey).toString('base64'),
  };
  copy.mediaType = 'application/vnd.dev.sigstore.bundle+json;version=0.1';
  const root = structuredClone(rootJson);
  root.tlogs = [
    {
      baseUrl: 'https://rekor.test.invalid',
      hashAlgorithm: 'SHA2_256',
      publicKey: {
        rawBytes: spki.toString('base64'),
        keyDetails: 'PKIX_ECDSA_P256_SHA_256',
        validFor: { start: '2020-01-01T00:00:00Z' },
      },
      logId: { keyId: logId.toString('base64') },
    },
  ];
  return { bundle: copy, root };
}

export const quietLogger = () => {
  const warnings: string[] = [];
  return { warnings, logger: { debug() {}, info() {}, warn: (m: string) => void warnings.push(m) } };
};
