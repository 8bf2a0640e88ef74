import type { KeyObject } from 'node:crypto';
import { legacyBundleKey } from './legacy-bundle-key.js';
import { bundleShapeProblem } from './bundle-shape.js';
import { CosignkitError } from '../errors.js';
import type { KeyAlgorithm } from '../contracts/key-manager.js';
import type { HashAlgorithm } from '../keys/algorithms.js';
import { readBoundedFile } from '../files/read-bounded-file.js';
import { escapeForTerminal } from '../text/escape-for-terminal.js';
import { decodeBase64Signature } from './signature-input.js';

/** Bundles are small JSON documents; refuse to parse anything huge. */
const MAX_BUNDLE_FILE = 16 * 1024 * 1024;

/** What a blob verifier needs from a bundle, whatever its format. */
export interface BundleSignature {
  format: 'sigstore' | 'cosign-legacy';
  mediaType?: string;
  signature: Buffer;
  /** The digest the bundle claims (Sigstore bundles): must equal the artifact's. */
  messageDigest?: { algorithm: HashAlgorithm; digest: Buffer };
  /** SHA-256 of the signing key's SPKI DER, when the bundle names its key. */
  keyHint?: Buffer;
  /** The key of a legacy bundle's `cert` (a certificate or public key): the signature's key must be it. */
  certificateKey?: KeyObject;
}

/** Reads the JSON of a bundle file; BUNDLE_MALFORMED when it is not a JSON object. */
export async function readBundleJson(path: string): Promise<Record<string, unknown>> {
  // Size and kind are checked on the open file before a byte is read (a 3 GB sparse file costs nothing).
  const text = (
    await readBoundedFile(path, { maxBytes: MAX_BUNDLE_FILE, tooLargeCode: 'BUNDLE_MALFORMED', what: 'a bundle' })
  ).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CosignkitError('BUNDLE_MALFORMED', `${path} is not a bundle: not JSON`, { cause: error });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CosignkitError('BUNDLE_MALFORMED', `${path} is not a bundle: not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** True for a Sigstore (protobuf-specs) bundle, false for cosign's legacy `{"base64Signature": …}`. */
export function isSigstoreBundle(json: Record<string, unknown>): boolean {
  return typeof json.mediaType === 'string';
}

/** Parses a bundle file of any supported format into the signature it carries. */
export async function readBundle(path: string, algorithm: KeyAlgorithm): Promise<BundleSignature> {
  const json = await readBundleJson(path);
  if (isSigstoreBundle(json)) {
    const problem = bundleShapeProblem(json);
    if (problem) throw new CosignkitError('BUNDLE_MALFORMED', `${path}: ${problem}`);
    return parseSigstoreBundle(path, json, algorithm);
  }
  if (typeof json.base64Signature === 'string') {
    const signature = decodeBase64Signature(json.base64Signature, algorithm);
    if (!signature) throw new CosignkitError('BUNDLE_MALFORMED', `${path}: base64Signature is not a signature`);
    if (typeof json.cert === 'string' && json.cert !== '') {
      return { format: 'cosign-legacy', signature, certificateKey: legacyBundleKey(json.cert, path) };
    }
    return { format: 'cosign-legacy', signature };
  }
  throw new CosignkitError('BUNDLE_MALFORMED', `${path} is neither a Sigstore bundle nor a cosign bundle`);
}

const PROTO_HASHES: Readonly<Record<number, HashAlgorithm>> = { 1: 'sha256', 2: 'sha384', 3: 'sha512' };

async function parseSigstoreBundle(
  path: string,
  json: Record<string, unknown>,
  algorithm: KeyAlgorithm,
): Promise<BundleSignature> {
  // Loaded only here: plain signature checks must not pay for the protobuf machinery at start-up.
  const { bundleFromJSON } = await loadBundleModule();
  checkByteFields(path, json);
  let bundle: ReturnType<typeof bundleFromJSON>;
  try {
    bundle = bundleFromJSON(json);
  } catch (error) {
    const fields = (error as { fields?: string[] }).fields;
    // The protobuf decoder quotes the file's own text (an enum value, a field): escaped, it stays one clean line.
    const why = escapeForTerminal(fields?.length ? `invalid ${fields.join(', ')}` : String((error as Error)?.message));
    throw new CosignkitError('BUNDLE_MALFORMED', `${path} is not a valid Sigstore bundle: ${why}`, { cause: error });
  }
  if (bundle.content.$case !== 'messageSignature') {
    throw new CosignkitError(
      'BUNDLE_MALFORMED',
      `${path} holds a DSSE envelope, not a blob signature (verify it as an attestation)`,
    );
  }
  const { messageDigest, signature: raw } = bundle.content.messageSignature;
  const digestAlgorithm = PROTO_HASHES[messageDigest.algorithm];
  if (!digestAlgorithm) {
    throw new CosignkitError(
      'BUNDLE_MALFORMED',
      `${path}: unsupported message digest algorithm ${messageDigest.algorithm}`,
    );
  }
  const signature = decodeBase64Signature(Buffer.from(raw).toString('base64'), algorithm);
  if (!signature)
    throw new CosignkitError('BUNDLE_MALFORMED', `${path}: the signature is not a ${algorithm} signature`);
  const material = bundle.verificationMaterial.content;
  return {
    format: 'sigstore',
    mediaType: bundle.mediaType,
    signature,
    messageDigest: { algorithm: digestAlgorithm, digest: Buffer.from(messageDigest.digest) },
    keyHint:
      material.$case === 'publicKey' && material.publicKey.hint ? decodeHint(material.publicKey.hint) : undefined,
  };
}

/** Bundle fields that carry base64 bytes (protobuf `bytes`); `hashes` is a list of them. */
const BYTE_FIELDS = new Set([
  'signature',
  'digest',
  'rawBytes',
  'payload',
  'sig',
  'canonicalizedBody',
  'signedEntryTimestamp',
  'rootHash',
  'keyId',
  'signedTimestamp',
]);

/**
 * A number or an object where base64 bytes belong reaches Buffer.from inside the protobuf decoder, whose
 * TypeError ("The first argument must be of type string…") says nothing about the bundle: such a field is
 * named here instead, as BUNDLE_MALFORMED.
 */
function checkByteFields(path: string, value: unknown, at = '', depth = 0): void {
  if (depth > 12 || typeof value !== 'object' || value === null) return;
  for (const [key, child] of Object.entries(value)) {
    const where = Array.isArray(value) ? `${at}[${key}]` : at === '' ? key : `${at}.${key}`;
    const bytes = BYTE_FIELDS.has(key) && !Array.isArray(value);
    const list = key === 'hashes' && !Array.isArray(value);
    if (bytes && child !== undefined && child !== null && typeof child !== 'string') {
      throw new CosignkitError('BUNDLE_MALFORMED', `${path}: ${escapeForTerminal(where)} is not a base64 string`);
    }
    if (list && (!Array.isArray(child) || child.some((h) => typeof h !== 'string'))) {
      throw new CosignkitError(
        'BUNDLE_MALFORMED',
        `${path}: ${escapeForTerminal(where)} is not a list of base64 strings`,
      );
    }
    checkByteFields(path, child, where, depth + 1);
  }
}

function decodeHint(hint: string): Buffer | undefined {
  const bytes = Buffer.from(hint, 'base64');
  return bytes.length === 32 ? bytes : undefined;
}

type BundleModule = typeof import('@sigstore/bundle');

async function loadBundleModule(): Promise<BundleModule> {
  const mod = (await import('@sigstore/bundle')) as BundleModule & { default?: BundleModule };
  return typeof mod.bundleFromJSON === 'function' ? mod : mod.default!;
}
