import { open as openFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import type { EngineName, SignatureCheck, VerificationResult } from '../contracts/verification-result.js';
import { digestFile } from '../digest.js';
import { CosignkitError } from '../errors.js';
import { parseKeyRef, redactKeyRef } from '../keys/key-ref.js';
import { engineChooser, type EngineSelection } from '../roles/engine-choice.js';
import type { RoleOptions } from '../roles/role-options.js';
import { resolveVerificationKey, temporaryPemFile } from '../roles/verification-key.js';
import { cosignAttest, cosignSign, cosignVerifyImage, payloadNamesDigest } from './cosign-oci.js';
import { dockerConfigCredentials, type CredentialSource } from './docker-credentials.js';
import { attestImage, verifyImageAttestations, type ImageSubject } from './image-attestations.js';
import { formatImageReference, parseImageReference } from './image-reference.js';
import { resolveImage, signImage, verifyImageSignatures, type FoundSignature, type ImageVerification, type SignatureFormat } from './image-signatures.js';
import { MEDIA_TYPES } from './media-types.js';
import { RegistryClient, sha256Digest } from './registry-client.js';

export interface OciRoleOptions extends RoleOptions {
  /** Plain HTTP to registries other than loopback (--allow-http-registry / --allow-insecure-registry). */
  allowHttp?: boolean;
  credentials?: CredentialSource;
  /** A client to share (its token cache) across roles. */
  client?: RegistryClient;
  /** The deadline of each exchange with the registry (RegistryClientOptions.timeoutMs); default 3 minutes. */
  registryTimeoutMs?: number;
}

export interface SignArtifactOptions {
  key?: string;
  /** Default: legacy on the cosign engine (what cosign 2.x writes), bundle natively. */
  format?: SignatureFormat;
  annotations?: Record<string, string>;
  signal?: AbortSignal;
}

export interface SignArtifactResult {
  engine: EngineName;
  image: string;
  digest: string;
  format: SignatureFormat;
  location?: string;
}

export interface RegistryPolicy {
  /** PEM public key files or key references; a signature by any of them counts. */
  key: string | string[];
  signal?: AbortSignal;
}

/** A VerificationResult for an image: one SignatureCheck per signature found, both layouts. */
export interface RegistryVerificationResult extends VerificationResult {
  image: string;
  found: FoundSignature[];
  payloads?: unknown[];
}

export interface AttestArtifactOptions {
  key?: string;
  /** The predicate type URI (resolved from cosign's names by @cosignkit/dsse). */
  predicateType: string;
  /** The --type as the user wrote it and the predicate file: what the cosign engine passes on. */
  type: string;
  predicatePath: string;
  /** Builds the statement bytes for the image subject (cosignStatementPayload from @cosignkit/dsse). */
  statement: (subject: ImageSubject) => Buffer;
  format?: SignatureFormat;
  signal?: AbortSignal;
}

function clientFor(options: OciRoleOptions): RegistryClient {
  return options.client ?? new RegistryClient({
    allowHttp: options.allowHttp,
    credentials: options.credentials ?? dockerConfigCredentials(options.env as NodeJS.ProcessEnv),
    timeoutMs: options.registryTimeoutMs,
  });
}

/** The key for cosign: a key file path with its password, or the plugin reference. */
async function cosignKey(options: OciRoleOptions, text: string): Promise<{ key: string; password?: string }> {
  const ref = parseKeyRef(text);
  if (ref.scheme !== 'file') return { key: `cosignkit://${ref.text}` };
  const password = await options.registry.contextFor('file').secrets({ kind: 'password', purpose: 'unlock', subject: redactKeyRef(ref.text) });
  return { key: ref.path, password };
}

async function choose(options: OciRoleOptions, chooser: ReturnType<typeof engineChooser>, keyText: string): Promise<EngineSelection> {
  const ref = parseKeyRef(keyText);
  // A reference with an inline PIN must never reach cosign's argv.
  if (redactKeyRef(ref.text) !== ref.text) {
    if (options.engine === 'cosign') throw new CosignkitError('USAGE', `${redactKeyRef(ref.text)} holds an inline PIN, which cannot be handed to cosign`);
    return { engine: 'native' };
  }
  return chooser(ref.scheme !== 'file');
}

function keyOf(options: OciRoleOptions, key: string | undefined): string {
  const text = key ?? options.defaultKey;
  if (!text) throw new CosignkitError('USAGE', 'no key: pass --key or set a default key');
  return text;
}

/** Signer methods for registries: signArtifact (an image, by digest always) and signBlobAndPush. */
export function createOciSigner(options: OciRoleOptions) {
  const client = clientFor(options);
  const chooser = engineChooser(options);
  const signArtifact = async (image: string, o: SignArtifactOptions = {}): Promise<SignArtifactResult> => {
    const keyText = keyOf(options, o.key);
    const resolved = await resolveImage(client, image);
    const byDigest = formatImageReference({ ...resolved.ref, tag: undefined, digest: resolved.digest });
    const selection = await choose(options, chooser, keyText);
    const format = o.format ?? (selection.engine === 'cosign' ? 'legacy' : 'bundle');
    if (selection.engine === 'cosign') {
      if (format === 'bundle') throw new CosignkitError('NOT_SUPPORTED', `cosign ${selection.runner.info.version} cannot sign images into a Sigstore bundle (its sign has no --new-bundle-format): use --format legacy or --engine native`);
      const { key, password } = await cosignKey(options, keyText);
      await cosignSign(selection.runner, { key, password, image: byDigest, allowHttp: options.allowHttp, annotations: o.annotations, signal: o.signal });
      return { engine: 'cosign', image: byDigest, digest: resolved.digest, format };
    }
    const opened = await options.registry.open(parseKeyRef(keyText));
    const signed = await signImage(client, resolved, {
      manager: opened.manager,
      keyId: opened.keyId,
      format,
      annotations: o.annotations,
      env: options.env as NodeJS.ProcessEnv,
      signal: o.signal,
    });
    return { engine: 'native', image: byDigest, digest: resolved.digest, format, location: signed.location };
  };
  return {
    signArtifact,
    /** Pushes the file as a one-layer OCI artifact at `ref` (streamed), then signs its manifest digest. */
    async signBlobAndPush(file: string, ref: string, o: SignArtifactOptions = {}): Promise<SignArtifactResult> {
      const pushed = await pushFileArtifact(client, file, ref);
      return signArtifact(pushed, o);
    },
  };
}

/** Pushes a file as an OCI artifact (empty config, one layer titled with the file name); returns `repo@digest`. */
export async function pushFileArtifact(client: RegistryClient, file: string, ref: string): Promise<string> {
  const parsed = parseImageReference(ref);
  const repo = { registry: parsed.registry, repository: parsed.repository };
  const digest = `sha256:${(await digestFile(file, 'sha256')).toString('hex')}`;
  const handle = await openFile(file);
  const size = (await handle.stat()).size;
  await handle.close();
  await client.pushBlobStream(repo, digest, size, () => {
    const stream = Readable.toWeb(Readable.from((async function* () {
      const h = await openFile(file);
      try {
        yield* h.createReadStream();
      } finally {
        await h.close();
      }
    })()));
    return stream as ReadableStream<Uint8Array>;
  });
  const config = Buffer.from('{}');
  await client.pushBlob(repo, config);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    artifactType: 'application/vnd.cosignkit.file.v1',
    config: { mediaType: MEDIA_TYPES.ociEmpty, digest: sha256Digest(config), size: config.length },
    layers: [{ mediaType: 'application/octet-stream', digest, size, annotations: { 'org.opencontainers.image.title': basename(file) } }],
  }));
  const manifestDigest = await client.putManifest(repo, parsed.digest ?? parsed.tag ?? 'latest', manifest, MEDIA_TYPES.ociManifest);
  return formatImageReference({ ...parsed, tag: undefined, digest: manifestDigest });
}

async function verificationKeys(options: OciRoleOptions, policy: RegistryPolicy) {
  const texts = Array.isArray(policy.key) ? policy.key : [policy.key];
  if (texts.length === 0) throw new CosignkitError('USAGE', 'no key: pass --key <public key>');
  return Promise.all(texts.map((t) => resolveVerificationKey(t, options.registry)));
}

function toResult(image: string, engine: EngineName, verification: ImageVerification, what: string): RegistryVerificationResult {
  const signatures: SignatureCheck[] = verification.found.map((f) => ({ verified: f.verified, ...(f.keyFingerprint ? { keyFingerprint: f.keyFingerprint } : {}) }));
  const failures = verification.found.flatMap((f) => (f.failure ? [f.failure] : []));
  const verified = verification.found.some((f) => f.verified);
  if (verification.found.length === 0) failures.push({ code: 'VERIFICATION_FAILED', message: `no ${what} found for ${image}` });
  else if (!verified && failures.length === 0) failures.push({ code: 'VERIFICATION_FAILED', message: `no ${what} of ${image} verifies` });
  return {
    verified,
    engine,
    image,
    artifact: { digest: { algorithm: 'sha256', hex: verification.digest.slice('sha256:'.length) } },
    signatures,
    failures,
    found: verification.found,
  };
}

/** Verifier methods for registries: verifyRegistry (signatures) and verifyAttestation. */
export function createOciVerifier(options: OciRoleOptions) {
  const client = clientFor(options);
  const chooser = engineChooser(options);
  const viaCosign = async (image: string, policy: RegistryPolicy, attestationType?: string): Promise<RegistryVerificationResult | undefined> => {
    // auto verifies natively: cosign 2.x reads only the legacy tags, the native verifier reads both layouts.
    if (options.engine !== 'cosign') return undefined;
    const selection = await chooser(false);
    if (selection.engine !== 'cosign') return undefined;
    const [key, ...more] = await verificationKeys(options, policy);
    if (more.length > 0) throw new CosignkitError('NOT_SUPPORTED', 'the cosign engine verifies with one --key');
    const resolved = await resolveImage(client, image); // the same errors on both engines
    // cosign gets the digest resolved here, never the tag: it would resolve a tag again (with GET, where this
    // client uses HEAD) and a registry could answer with another manifest than the digest reported.
    const byDigest = formatImageReference({ ...resolved.ref, tag: undefined, digest: resolved.digest });
    const temp = key!.pemPath ? undefined : await temporaryPemFile(key!.publicKey);
    try {
      const out = await cosignVerifyImage(selection.runner, {
        key: key!.pemPath ?? temp!.path, image: byDigest, allowHttp: options.allowHttp, attestationType, signal: policy.signal,
      });
      const failures = out.failure ? [out.failure] : [];
      // What cosign printed must be about this digest too: a verified result names only what was verified.
      const foreign = out.payloads.filter((p) => !payloadNamesDigest(p, resolved.digest));
      if (foreign.length > 0) {
        failures.push({ code: 'VERIFICATION_FAILED', message: `cosign verified ${foreign.length} payload(s) that do not name ${resolved.digest}` });
      }
      return {
        verified: out.verified && foreign.length === 0,
        engine: 'cosign',
        image,
        artifact: { digest: { algorithm: 'sha256', hex: resolved.digest.slice('sha256:'.length) } },
        signatures: out.payloads.map((p) => ({ verified: !foreign.includes(p) })),
        failures,
        found: [],
        payloads: out.payloads,
      };
    } finally {
      await temp?.cleanup();
    }
  };
  return {
    async verifyRegistry(image: string, policy: RegistryPolicy): Promise<RegistryVerificationResult> {
      const cosign = await viaCosign(image, policy);
      if (cosign) return cosign;
      const keys = (await verificationKeys(options, policy)).map((k) => k.publicKey);
      return toResult(image, 'native', await verifyImageSignatures(client, image, keys, options.env as NodeJS.ProcessEnv), 'signatures');
    },
    /** `predicateType` filters by URI; `type` is what the user wrote (for cosign). */
    async verifyAttestation(image: string, policy: RegistryPolicy & { predicateType?: string; type?: string }): Promise<RegistryVerificationResult> {
      const cosign = await viaCosign(image, policy, policy.type ?? policy.predicateType ?? 'custom');
      if (cosign) return cosign;
      const keys = (await verificationKeys(options, policy)).map((k) => k.publicKey);
      const verification = await verifyImageAttestations(client, image, keys, { predicateType: policy.predicateType, env: options.env as NodeJS.ProcessEnv });
      return toResult(image, 'native', verification, policy.predicateType ? `attestations of type ${policy.predicateType}` : 'attestations');
    },
  };
}

/** The Attester role for registries: attestArtifact (an image) and attestBlobAndPush. */
export function createAttester(options: OciRoleOptions) {
  const client = clientFor(options);
  const chooser = engineChooser(options);
  const attestArtifact = async (image: string, o: AttestArtifactOptions): Promise<SignArtifactResult> => {
    const keyText = keyOf(options, o.key);
    const resolved = await resolveImage(client, image);
    const byDigest = formatImageReference({ ...resolved.ref, tag: undefined, digest: resolved.digest });
    const selection = await choose(options, chooser, keyText);
    const format = o.format ?? (selection.engine === 'cosign' ? 'legacy' : 'bundle');
    if (selection.engine === 'cosign') {
      const { key, password } = await cosignKey(options, keyText);
      await cosignAttest(selection.runner, {
        key, password, image: byDigest, allowHttp: options.allowHttp, predicate: o.predicatePath, type: o.type, bundle: format === 'bundle', signal: o.signal,
      });
      return { engine: 'cosign', image: byDigest, digest: resolved.digest, format };
    }
    const opened = await options.registry.open(parseKeyRef(keyText));
    const done = await attestImage(client, resolved, {
      manager: opened.manager, keyId: opened.keyId, predicateType: o.predicateType, statement: o.statement, format,
      env: options.env as NodeJS.ProcessEnv, signal: o.signal,
    });
    return { engine: 'native', image: byDigest, digest: resolved.digest, format, location: done.location };
  };
  return {
    attestArtifact,
    async attestBlobAndPush(file: string, ref: string, o: AttestArtifactOptions): Promise<SignArtifactResult> {
      return attestArtifact(await pushFileArtifact(client, file, ref), o);
    },
  };
}

export type OciSigner = ReturnType<typeof createOciSigner>;
export type OciVerifier = ReturnType<typeof createOciVerifier>;
export type Attester = ReturnType<typeof createAttester>;
