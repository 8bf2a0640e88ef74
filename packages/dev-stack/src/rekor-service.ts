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
      return mock.fn(JSON.stringify(entry)) as Promise<RouteResult>;
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
