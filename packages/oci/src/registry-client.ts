import { createHash } from 'node:crypto';
import { CosignkitError, type ErrorCode } from '@cosignkit/core';
import { readBoundedBody } from './bounded-body.js';
import { dockerConfigCredentials, type CredentialSource } from './docker-credentials.js';
import { isLoopbackRegistry } from './image-reference.js';
import { MANIFEST_ACCEPT, MEDIA_TYPES, type ImageIndex } from './media-types.js';
import { canHeadDirectly, headRequest } from './head-request.js';
import { answerChallenge, parseChallenge } from './registry-auth.js';
import { abortedError, exchangeSignal } from './registry-deadline.js';
import { digestWithAlgorithmOf, requireRegistryDigest } from './registry-digest.js';
import { parseImageIndex, parseJsonObject } from './registry-documents.js';
import { REGISTRY_LIMITS } from './registry-limits.js';

export interface RegistryClientOptions {
  /** Default: the docker config (`DOCKER_CONFIG`, `auths`, `credHelpers`, `credsStore`). */
  credentials?: CredentialSource;
  /** Plain HTTP for registries other than loopback (cosign's --allow-http-registry). */
  allowHttp?: boolean;
  fetch?: typeof fetch;
  signal?: AbortSignal;
  /**
   * The deadline of each exchange with the registry, the whole body included (and of each token request):
   * default 3 minutes, cosign's --timeout.
   */
  timeoutMs?: number;
  /** How long a response may send nothing between two chunks. Default 30 s. */
  idleTimeoutMs?: number;
}

export interface Repository {
  registry: string;
  repository: string;
}

export interface FetchedManifest {
  digest: string;
  mediaType: string;
  bytes: Buffer;
}

type Action = 'pull' | 'pull,push' | 'delete';

/** A small OCI distribution client on fetch: the calls cosign's layouts need, with the auth challenge flow. */
export class RegistryClient {
  readonly #options: RegistryClientOptions;
  readonly #fetch: typeof fetch;
  readonly #credentials: CredentialSource;
  /** Authorization per registry and scope: tokens are scoped, so one per repository and action set. */
  readonly #auth = new Map<string, string>();
  /** Answers to a challenge still on their way: requests that meet the same one meanwhile wait for it. */
  readonly #answering = new Map<string, Promise<string>>();
  readonly #noReferrersApi = new Set<string>();
  /** The signal of the exchange each response came from: its body is read under the same deadline. */
  readonly #signals = new WeakMap<Response, AbortSignal>();
  readonly #timeoutMs: number;
  readonly #idleMs: number;

  constructor(options: RegistryClientOptions = {}) {
    this.#options = options;
    this.#fetch = options.fetch ?? fetch;
    this.#credentials = options.credentials ?? dockerConfigCredentials();
    this.#timeoutMs = positive(options.timeoutMs, REGISTRY_LIMITS.timeoutMs);
    this.#idleMs = Math.min(positive(options.idleTimeoutMs, REGISTRY_LIMITS.idleTimeoutMs), this.#timeoutMs);
  }

  /** Reads a body under the limits: at most `maxBytes`, counted as it arrives, within the exchange's deadline. */
  #read(response: Response, what: string, maxBytes: number, tooLarge: ErrorCode = 'REGISTRY_ERROR'): Promise<Buffer> {
    return readBoundedBody(response, {
      maxBytes,
      idleMs: this.#idleMs,
      what,
      signal: this.#signals.get(response),
      timeoutMs: this.#timeoutMs,
      tooLarge,
    });
  }

  /** HEAD a manifest: its digest, media type and size, without the body. */
  async resolve(repo: Repository, reference: string): Promise<{ digest: string; mediaType: string; size: number }> {
    const response = await this.#request(repo, 'HEAD', `manifests/${reference}`, { accept: MANIFEST_ACCEPT });
    await response.body?.cancel().catch(() => undefined);
    const header = response.headers.get('docker-content-digest');
    const digest =
      header === null
        ? null
        : requireRegistryDigest(
            header,
            `${repo.registry} (HEAD ${repo.repository}:${reference}): Docker-Content-Digest`,
          );
    if (!digest)
      return this.getManifest(repo, reference).then((m) => ({
        digest: m.digest,
        mediaType: m.mediaType,
        size: m.bytes.length,
      }));
    return { digest, mediaType: contentType(response), size: Number(response.headers.get('content-length') ?? 0) };
  }

  async getManifest(repo: Repository, reference: string): Promise<FetchedManifest> {
    // A reference with a colon is a digest: only well-formed ones go into the URL, and the content must match.
    const byDigest = reference.includes(':');
    if (byDigest) requireRegistryDigest(reference, `${repo.registry}/${repo.repository}: manifest reference`);
    const response = await this.#request(repo, 'GET', `manifests/${reference}`, { accept: MANIFEST_ACCEPT });
    const bytes = await this.#read(
      response,
      `the manifest ${repo.repository}:${reference}`,
      REGISTRY_LIMITS.manifestBytes,
    );
    const digest = byDigest ? digestWithAlgorithmOf(reference, bytes) : sha256Digest(bytes);
    if (byDigest && reference !== digest) {
      throw new CosignkitError(
        'REGISTRY_ERROR',
        `${repo.registry} returned a manifest whose digest is not ${reference}`,
      );
    }
    return { digest, mediaType: contentType(response) || mediaTypeOf(bytes), bytes };
  }

  /** GET a manifest, or undefined when the tag or digest does not exist. */
  async findManifest(repo: Repository, reference: string): Promise<FetchedManifest | undefined> {
    try {
      return await this.getManifest(repo, reference);
    } catch (error) {
      if (CosignkitError.isInstance(error) && error.code === 'IMAGE_NOT_FOUND' && error.details.status === 404) {
        return undefined;
      }
      throw error;
    }
  }

  async putManifest(repo: Repository, reference: string, bytes: Buffer, mediaType: string): Promise<string> {
    return (await this.putManifestDetailed(repo, reference, bytes, mediaType)).digest;
  }

  /** PUT a manifest; `subjectAccepted` is true when the registry indexed its `subject` (OCI-Subject header). */
  async putManifestDetailed(
    repo: Repository,
    reference: string,
    bytes: Buffer,
    mediaType: string,
  ): Promise<{ digest: string; subjectAccepted: boolean }> {
    const response = await this.#request(repo, 'PUT', `manifests/${reference}`, {
      body: bytes,
      contentType: mediaType,
      action: 'pull,push',
    });
    await response.body?.cancel();
    return { digest: sha256Digest(bytes), subjectAccepted: response.headers.has('oci-subject') };
  }

  async deleteManifest(repo: Repository, digest: string): Promise<void> {
    requireRegistryDigest(digest, `${repo.registry}/${repo.repository}: manifest to delete`);
    await this.#request(repo, 'DELETE', `manifests/${digest}`, { action: 'delete' });
  }

  async hasBlob(repo: Repository, digest: string): Promise<boolean> {
    requireRegistryDigest(digest, `${repo.registry}/${repo.repository}: blob`);
    try {
      await this.#request(repo, 'HEAD', `blobs/${digest}`, {});
      return true;
    } catch (error) {
      if (CosignkitError.isInstance(error) && error.details.status === 404) return false;
      throw error;
    }
  }

  /** Uploads a blob (monolithic POST then PUT) unless the registry already has it. Returns its digest. */
  async pushBlob(repo: Repository, bytes: Buffer): Promise<string> {
    const digest = sha256Digest(bytes);
    if (await this.hasBlob(repo, digest)) return digest;
    const started = await this.#request(repo, 'POST', 'blobs/uploads/', { action: 'pull,push', expect: [202] });
    const location = started.headers.get('location');
    if (!location) throw new CosignkitError('REGISTRY_ERROR', `${repo.registry} gave no upload location`);
    const url = new URL(location, this.#base(repo.registry));
    url.searchParams.set('digest', digest);
    await this.#request(repo, 'PUT', url.href, {
      body: bytes,
      contentType: 'application/octet-stream',
      action: 'pull,push',
      expect: [201],
    });
    return digest;
  }

  /**
   * Uploads a blob streamed from `open()` (a file): the digest and size are known beforehand, so the body is
   * never held in memory.
   */
  async pushBlobStream(
    repo: Repository,
    digest: string,
    size: number,
    open: () => ReadableStream<Uint8Array>,
  ): Promise<string> {
    if (await this.hasBlob(repo, digest)) return digest;
    const started = await this.#request(repo, 'POST', 'blobs/uploads/', { action: 'pull,push', expect: [202] });
    const location = started.headers.get('location');
    if (!location) throw new CosignkitError('REGISTRY_ERROR', `${repo.registry} gave no upload location`);
    const url = new URL(location, this.#base(repo.registry));
    url.searchParams.set('digest', digest);
    await this.#request(repo, 'PUT', url.href, {
      stream: open,
      size,
      contentType: 'application/octet-stream',
      action: 'pull,push',
      expect: [201],
    });
    return digest;
  }

  async getBlob(repo: Repository, digest: string, maxBytes = 64 * 1024 * 1024): Promise<Buffer> {
    requireRegistryDigest(digest, `${repo.registry}/${repo.repository}: blob`);
    const response = await this.#request(repo, 'GET', `blobs/${digest}`, {});
    const bytes = await this.#read(response, `blob ${digest}`, maxBytes);
    if (digestWithAlgorithmOf(digest, bytes) !== digest)
      throw new CosignkitError('REGISTRY_ERROR', `blob ${digest} does not match its digest`);
    return bytes;
  }

  /** All tags, following `Link` pagination. */
  async listTags(repo: Repository): Promise<string[]> {
    const tags: string[] = [];
    let next: string | undefined = 'tags/list?n=1000';
    for (let page = 0; next; page++) {
      if (page >= REGISTRY_LIMITS.tagPages)
        throw new CosignkitError(
          'REGISTRY_ERROR',
          `${repo.registry}/${repo.repository}: more than ${REGISTRY_LIMITS.tagPages} pages of tags`,
        );
      const response = await this.#request(repo, 'GET', next, {});
      const body = parseJsonObject(
        await this.#read(response, 'a page of tags', REGISTRY_LIMITS.smallBodyBytes),
        `the tag list of ${repo.repository}`,
        'REGISTRY_ERROR',
      );
      if (Array.isArray(body.tags)) tags.push(...body.tags.filter((t): t is string => typeof t === 'string'));
      const link = /<([^>]+)>\s*;\s*rel="?next"?/.exec(response.headers.get('link') ?? '');
      next = link ? new URL(link[1]!, this.#base(repo.registry)).href : undefined;
    }
    return tags;
  }

  /**
   * The referrers of a manifest: the Referrers API where the registry has it, else the fallback index at
   * tag `sha256-<hex>` (OCI 1.1). `fallback` says which answered.
   */
  async referrers(repo: Repository, digest: string): Promise<{ index: ImageIndex; fallback: boolean }> {
    requireRegistryDigest(digest, `${repo.registry}/${repo.repository}: referrers subject`);
    if (!this.#noReferrersApi.has(repo.registry)) {
      try {
        const response = await this.#request(repo, 'GET', `referrers/${digest}`, { accept: MEDIA_TYPES.ociIndex });
        if (contentType(response).startsWith(MEDIA_TYPES.ociIndex)) {
          const bytes = await this.#read(response, `the referrers of ${digest}`, REGISTRY_LIMITS.manifestBytes);
          return {
            index: parseImageIndex(bytes, `the referrers of ${digest}`, { code: 'REGISTRY_ERROR' }),
            fallback: false,
          };
        }
        await response.body?.cancel();
      } catch (error) {
        if (!(CosignkitError.isInstance(error) && [404, 405, 400].includes(Number(error.details.status)))) throw error;
        // A registry without the API answers so for every subject: ask once per client.
        this.#noReferrersApi.add(repo.registry);
      }
    }
    const tag = digest.replace(':', '-');
    const found = await this.findManifest(repo, tag);
    const empty: ImageIndex = { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [] };
    return {
      index: found ? parseImageIndex(found.bytes, `${repo.repository}:${tag}`, { code: 'NOT_AN_IMAGE' }) : empty,
      fallback: true,
    };
  }

  #base(registry: string): string {
    const http = this.#options.allowHttp || isLoopbackRegistry(registry);
    // Docker Hub's name in references is index.docker.io; its registry API answers at registry-1.docker.io.
    const host = registry === 'index.docker.io' ? 'registry-1.docker.io' : registry;
    return `${http ? 'http' : 'https'}://${host}/v2/`;
  }

  async #request(
    repo: Repository,
    method: string,
    path: string,
    o: {
      accept?: string;
      body?: Buffer;
      stream?: () => ReadableStream<Uint8Array>;
      size?: number;
      contentType?: string;
      action?: Action;
      expect?: number[];
    },
  ): Promise<Response> {
    const url = /^https?:/.test(path) ? path : `${this.#base(repo.registry)}${repo.repository}/${path}`;
    const scope = `repository:${repo.repository}:${o.action ?? 'pull'}`;
    const key = `${repo.registry} ${scope}`;
    // Upload Locations and Link headers are the registry's to choose and may name any host: credentials go
    // only to the registry's own origin (scheme, host and port), as cosign's transport does.
    const registryOrigin = new URL(this.#base(repo.registry)).origin;
    const own = new URL(url).origin === registryOrigin;
    const signal = exchangeSignal(this.#timeoutMs, this.#options.signal);
    const send = async (): Promise<Response> => {
      const headers: Record<string, string> = {};
      if (o.accept) headers.accept = o.accept;
      if (o.contentType) headers['content-type'] = o.contentType;
      if (o.size !== undefined) headers['content-length'] = String(o.size);
      const auth = own ? this.#auth.get(key) : undefined;
      if (auth) headers.authorization = auth;
      try {
        const body = o.stream ? o.stream() : o.body;
        if (method === 'HEAD' && !this.#options.fetch && canHeadDirectly(url)) {
          const head = await headRequest(url, headers, signal);
          // Redirects are fetch's to follow (and to check, as for every other request).
          if (head.status < 300 || head.status >= 400) {
            this.#signals.set(head, signal);
            return head;
          }
        }
        const response = await this.#fetch(url, {
          method,
          headers,
          body,
          signal,
          redirect: 'follow',
          ...(o.stream ? { duplex: 'half' } : {}),
        } as RequestInit);
        this.#signals.set(response, signal);
        return response;
      } catch (error) {
        if (signal.aborted)
          throw abortedError(signal, `${method} ${repo.registry}/${repo.repository}`, this.#timeoutMs, error);
        if ((error as Error).name === 'AbortError') throw new CosignkitError('ABORTED', 'the operation was aborted');
        throw new CosignkitError(
          'REGISTRY_UNAVAILABLE',
          `registry ${repo.registry} cannot be reached: ${causeOf(error)}`,
          { cause: error },
        );
      }
    };
    let response = await send();
    if (response.status === 401) {
      const challenge = parseChallenge(response.headers.get('www-authenticate'));
      await response.body?.cancel();
      // A 401 from elsewhere (a redirect target, a foreign upload Location) would get the registry's
      // credentials, or send them to a realm of its choosing: only the registry's own challenges are answered.
      const from = new URL(response.url || url);
      if (from.origin !== registryOrigin) {
        throw new CosignkitError(
          'REGISTRY_AUTH',
          `${repo.registry} sent the request to ${from.host}, which asks for a login: credentials go only to ${repo.registry}`,
          { details: { status: 401 } },
        );
      }
      if (!challenge) throw new CosignkitError('REGISTRY_AUTH', `${repo.registry} refused the request (HTTP 401)`);
      // Requests sent together (an image's HEAD and its signature reads) meet the challenge together: one
      // answer (one token request) serves them all.
      let answering = this.#answering.get(key);
      if (!answering) {
        const tokenFetch: typeof fetch = (input, init) => this.#fetch(input, { ...init, signal });
        const limits = { idleMs: this.#idleMs, timeoutMs: this.#timeoutMs, signal };
        answering = answerChallenge(challenge, repo.registry, scope, this.#credentials, tokenFetch, limits);
        this.#answering.set(key, answering);
        const settled = () => void this.#answering.delete(key);
        answering.then(settled, settled);
      }
      this.#auth.set(key, await answering);
      response = await send();
    }
    const expected = o.expect ?? [200, 201, 202];
    if (expected.includes(response.status) || (o.expect === undefined && response.ok)) return response;
    const text =
      method === 'HEAD'
        ? ''
        : (
            await this.#read(response, 'an error answer', REGISTRY_LIMITS.smallBodyBytes).catch(() => Buffer.alloc(0))
          ).toString('utf8');
    throw registryError(response, text, repo, method, path);
  }
}

function registryError(
  response: Response,
  text: string,
  repo: Repository,
  method: string,
  path: string,
): CosignkitError {
  let detail = '';
  let codes: string[] = [];
  try {
    const errors = (JSON.parse(text) as { errors?: { code: string; message: string }[] }).errors ?? [];
    codes = errors.slice(0, 10).map((e) => String(e?.code).slice(0, 100));
    detail = errors
      .slice(0, 10)
      .map((e) => `${String(e?.code).slice(0, 100)}: ${String(e?.message).slice(0, 200)}`)
      .join('; ');
  } catch {
    detail = text.slice(0, 200);
  }
  const where = `${repo.registry}/${repo.repository} (${method} ${path.replace(/^https?:\/\/[^/]+/, '').replace(/\?.*/, '')})`;
  const details = { status: response.status, registryCodes: codes };
  if (response.status === 401 || response.status === 403) {
    return new CosignkitError(
      'REGISTRY_AUTH',
      `${where}: access denied (HTTP ${response.status})${detail ? `: ${detail}` : ''}`,
      { details },
    );
  }
  if (response.status === 404) {
    return new CosignkitError('IMAGE_NOT_FOUND', `${where}: not found${detail ? ` (${detail})` : ''}`, { details });
  }
  return new CosignkitError('REGISTRY_ERROR', `${where}: HTTP ${response.status}${detail ? `: ${detail}` : ''}`, {
    details,
  });
}

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function contentType(response: Response): string {
  return (response.headers.get('content-type') ?? '').split(';')[0]!.trim();
}

function mediaTypeOf(bytes: Buffer): string {
  try {
    return (JSON.parse(bytes.toString('utf8')) as { mediaType?: string }).mediaType ?? '';
  } catch {
    return '';
  }
}

function positive(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
