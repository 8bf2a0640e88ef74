import {
  createHash,
  createPublicKey,
  generateKeyPairSync,
  verify as verifySignature,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { rekorHandler } from '@sigstore/mock/dist/rekor/handler.js';
import { initializeTLog, type TLog } from '@sigstore/mock/dist/rekor/tlog.js';
import { HttpService, type RouteResult } from './http-service.js';
import { createEntryV2 } from './rekor-v2-entries.js';

/**
 * Rekor (v1 API) on @sigstore/mock's transparency log. The mock stores a proposed entry verbatim; real Rekor
 * canonicalizes `dsse` entries into `{envelopeHash, payloadHash, signatures: [{signature, verifier}]}` after
 * checking every signature, and verifiers compare bundles against that form. So DSSE proposals are checked and
 * rewritten here before the mock logs them (RECIPES.md, "two mock defects").
 */
export class RekorService {
  readonly service = new HttpService('rekor');
  readonly keys = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  tlog!: TLog;
  /** v1 entries made here, by UUID, and their UUIDs by the artifact hash they log (Rekor's index). */
  readonly #entries = new Map<string, unknown>();
  readonly #byHash = new Map<string, Set<string>>();

  async start(): Promise<string> {
    const url = await this.service.listen();
    // The checkpoint's origin line names the log's host, so the log is made once the port is known.
    this.tlog = await initializeTLog(url, this.keys);
    const mock = rekorHandler(this.tlog, { strict: true });
    this.service.route('POST', mock.path, async (request) => {
      let proposed: unknown;
      try {
        proposed = JSON.parse(request.body.toString('utf8'));
      } catch {
        return badRequest('the entry is not JSON');
      }
      let entry: unknown;
      try {
        entry = canonicalizeProposal(proposed);
      } catch (error) {
        return badRequest(error instanceof Error ? error.message : 'invalid entry');
      }
      const result = (await mock.fn(JSON.stringify(entry))) as RouteResult;
      return result.statusCode === 201 ? { ...result, response: this.#remember(result.response) } : result;
    });
    // Rekor's search, as cosign uses it for a signature given without its entry: the index by artifact
    // hash, then the entries by UUID.
    this.service.route('POST', '/api/v1/index/retrieve', async (request) => {
      const query = parseJson(request.body) as { hash?: unknown } | undefined;
      if (typeof query?.hash !== 'string') return badRequest('the search needs a hash');
      const hex = query.hash.replace(/^sha256:/, '');
      return ok([...(this.#byHash.get(hex) ?? [])]);
    });
    this.service.route('POST', '/api/v1/log/entries/retrieve', async (request) => {
      // By UUID (rekor-cli, cosignkit) or by the proposed entry itself (cosign's FindTlogEntry).
      const query = parseJson(request.body) as { entryUUIDs?: unknown; entries?: unknown } | undefined;
      if (Array.isArray(query?.entryUUIDs)) {
        return ok(
          query.entryUUIDs.flatMap((uuid) => {
            const entry = typeof uuid === 'string' ? this.#entries.get(uuid) : undefined;
            return entry === undefined ? [] : [{ [uuid as string]: entry }];
          }),
        );
      }
      if (Array.isArray(query?.entries)) {
        return ok(
          query.entries.flatMap((proposed) => {
            const wanted = hashedrekordKey(proposed);
            const match = [...this.#entries].find(
              ([, e]) => wanted !== undefined && hashedrekordKey(bodyOf(e)) === wanted,
            );
            return match ? [{ [match[0]]: match[1] }] : [];
          }),
        );
      }
      return badRequest('the search needs entryUUIDs or entries');
    });
    this.service.route('GET', '/api/v1/log/entries/*', async (request) => {
      const uuid = request.path.slice('/api/v1/log/entries/'.length);
      const entry = this.#entries.get(uuid);
      if (entry === undefined)
        return {
          statusCode: 404,
          response: JSON.stringify({ code: 404, message: 'not found' }),
          contentType: 'application/json',
        };
      return ok({ [uuid]: entry });
    });
    // Rekor v2's API on the same log (and key): the entry comes back as a TransparencyLogEntry.
    this.service.route('POST', '/api/v2/log/entries', async (request) => {
      try {
        const der = this.keys.publicKey.export({ type: 'spki', format: 'der' });
        const entry = await createEntryV2(this.tlog, der, request.body.toString('utf8'));
        return { statusCode: 201, contentType: 'application/json', response: JSON.stringify(entry) };
      } catch (error) {
        return badRequest(error instanceof Error ? error.message : 'invalid entry');
      }
    });
    this.service.route('GET', '/api/v1/log/publicKey', async () => ({
      statusCode: 200,
      contentType: 'application/x-pem-file',
      response: this.keys.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    }));
    return url;
  }

  /**
   * Keeps a new v1 entry for the search routes, under its real UUID. The mock names entries with random
   * bytes; Rekor's UUID is the entry's Merkle leaf hash, SHA-256(0x00 ‖ body), which cosign checks when it
   * finds an entry by search. So the answer is rewritten to carry that UUID.
   */
  #remember(response: RouteResult['response']): string {
    const text =
      typeof response === 'string'
        ? response
        : Buffer.from(response.buffer, response.byteOffset, response.byteLength).toString('utf8');
    const created = (parseJson(Buffer.from(text)) ?? {}) as Record<string, { body?: unknown }>;
    const renamed: Record<string, unknown> = {};
    for (const entry of Object.values(created)) {
      if (typeof entry.body !== 'string') return text;
      const uuid = createHash('sha256')
        .update(Buffer.concat([Buffer.from([0]), Buffer.from(entry.body, 'base64')]))
        .digest('hex');
      renamed[uuid] = entry;
      this.#entries.set(uuid, entry);
      const hash = loggedHash(entry.body);
      if (hash) this.#byHash.set(hash, (this.#byHash.get(hash) ?? new Set()).add(uuid));
    }
    return JSON.stringify(renamed);
  }
}

/** The artifact hash Rekor indexes an entry by: a hashedrekord's data hash, a dsse entry's payload hash. */
function loggedHash(body: string): string | undefined {
  const entry = parseJson(Buffer.from(body, 'base64')) as
    | { spec?: { data?: { hash?: { value?: unknown } }; payloadHash?: { value?: unknown } } }
    | undefined;
  const value = entry?.spec?.data?.hash?.value ?? entry?.spec?.payloadHash?.value;
  return typeof value === 'string' ? value : undefined;
}

function bodyOf(entry: unknown): unknown {
  const body = (entry as { body?: unknown }).body;
  return typeof body === 'string' ? parseJson(Buffer.from(body, 'base64')) : undefined;
}

/** What identifies a hashedrekord entry: its hash, signature and public key (the mock logs proposals verbatim). */
function hashedrekordKey(entry: unknown): string | undefined {
  const e = entry as {
    kind?: unknown;
    spec?: {
      data?: { hash?: { value?: unknown } };
      signature?: { content?: unknown; publicKey?: { content?: unknown } };
    };
  };
  if (e?.kind !== 'hashedrekord') return undefined;
  return JSON.stringify([e.spec?.data?.hash?.value, e.spec?.signature?.content, e.spec?.signature?.publicKey?.content]);
}

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}

function ok(value: unknown): RouteResult {
  return { statusCode: 200, response: JSON.stringify(value), contentType: 'application/json' };
}

interface DsseProposal {
  kind: 'dsse';
  apiVersion: string;
  spec: { proposedContent?: { envelope?: unknown; verifiers?: unknown } };
}

/** Rewrites a `dsse` proposal as Rekor's dsse 0.0.1 type does; other kinds pass as they are. */
export function canonicalizeProposal(proposed: unknown): unknown {
  if (typeof proposed !== 'object' || proposed === null) throw new Error('the entry is not an object');
  const entry = proposed as { kind?: unknown };
  if (entry.kind !== 'dsse') return proposed;
  const content = (proposed as DsseProposal).spec?.proposedContent;
  if (!content || typeof content.envelope !== 'string' || !Array.isArray(content.verifiers)) {
    throw new Error('dsse entry needs spec.proposedContent.envelope and verifiers');
  }
  const envelope = JSON.parse(content.envelope) as { payloadType?: unknown; payload?: unknown; signatures?: unknown };
  if (
    typeof envelope.payloadType !== 'string' ||
    typeof envelope.payload !== 'string' ||
    !Array.isArray(envelope.signatures) ||
    envelope.signatures.length === 0
  ) {
    throw new Error('the DSSE envelope is malformed');
  }
  const payload = Buffer.from(envelope.payload, 'base64');
  const pae = Buffer.concat([
    Buffer.from(`DSSEv1 ${Buffer.byteLength(envelope.payloadType)} ${envelope.payloadType} ${payload.length} `),
    payload,
  ]);
  const verifiers = (content.verifiers as unknown[]).map((v) => {
    if (typeof v !== 'string') throw new Error('a verifier is not a string');
    return { encoded: v, key: publicKeyOf(Buffer.from(v, 'base64').toString('utf8')) };
  });
  const signatures = (envelope.signatures as { sig?: unknown }[]).map((s) => {
    if (typeof s.sig !== 'string') throw new Error('a DSSE signature is malformed');
    const sig = Buffer.from(s.sig, 'base64');
    const verifier = verifiers.find((v) => {
      try {
        return verifySignature('sha256', pae, v.key, sig);
      } catch {
        return false;
      }
    });
    if (!verifier) throw new Error('a DSSE signature does not verify with any verifier');
    return { signature: s.sig, verifier: verifier.encoded };
  });
  return {
    apiVersion: '0.0.1',
    kind: 'dsse',
    spec: {
      envelopeHash: { algorithm: 'sha256', value: sha256Hex(Buffer.from(content.envelope, 'utf8')) },
      payloadHash: { algorithm: 'sha256', value: sha256Hex(payload) },
      signatures,
    },
  };
}

function publicKeyOf(pem: string): KeyObject {
  if (pem.includes('BEGIN CERTIFICATE')) return new X509Certificate(pem).publicKey;
  return createPublicKey(pem);
}

function sha256Hex(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function badRequest(message: string): RouteResult {
  return { statusCode: 400, response: JSON.stringify({ code: 400, message }), contentType: 'application/json' };
}
