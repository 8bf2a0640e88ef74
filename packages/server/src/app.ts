import { randomUUID, type X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TLSSocket } from 'node:tls';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger as PinoLogger } from 'pino';
import canonicalize from 'canonicalize';
import type { BackendRegistry } from '@cosignkit/core';
import { envelopeDigest } from '@cosignkit/dsse';
import { AuditLog, type AuditRecord } from './audit-log.js';
import type { ServerConfig } from './config.js';
import { DpopVerifier } from './auth/dpop-proof.js';
import { EntitlementValidator, type Entitlement, type ProofOfEntitlement } from './auth/entitlement.js';
import { issuerKeySet } from './auth/key-set.js';
import { OpTokValidator, type Caller } from './auth/op-token.js';
import { coreLogger, createServerLogger } from './server-logger.js';
import { ServerMetrics } from './metrics.js';
import { forbidden, malformed, Problem, PROBLEM_CONTENT_TYPE, tooLarge, unavailable } from './problem.js';
import { QuotaEnforcer } from './quota.js';
import type { ReleaseChecker } from './release/release-check.js';
import { StatementSigner } from './statement-signer.js';
import { KeylessStatementSigner } from './keyless-statement-signer.js';

import { REFERRERS_ROUTE, SIGN_ROUTE } from './routes.js';

export { REFERRERS_ROUTE, SIGN_ROUTE };

/** How long a graceful drain waits for requests in flight. */
const DRAIN_MS = 15_000;

export interface SignerServerOptions {
  config: ServerConfig;
  /** Opens the signing key (any cosignkit backend). */
  registry: BackendRegistry;
  /** The structured logger (default: pino to stdout at config.logLevel). */
  logger?: PinoLogger;
  /** The scanner-release check; required when config.release.enabled. */
  release?: ReleaseChecker;
  /** Keyless signing, when config.signing.keyless is set (default: opened from the config). */
  keyless?: KeylessStatementSigner;
  /** Where an `identityToken.env` source is read (default process.env). */
  env?: NodeJS.ProcessEnv;
}

export interface SignerServer {
  app: FastifyInstance;
  /** Starts listening; resolves with the base URL. */
  listen(): Promise<string>;
  /** Graceful drain: stop accepting, finish in-flight requests, flush the audit log, close the key and store. */
  close(): Promise<void>;
  /** The release key (`kms` mode), when configured. */
  signer?: StatementSigner;
  /** Keyless signing, when configured. */
  keyless?: KeylessStatementSigner;
  metrics: ServerMetrics;
  audit: AuditLog;
  /** Sign requests being processed now. */
  readonly inFlight: number;
}

interface SignBody {
  subject: { name: string; digest: Record<string, string> }[];
  predicateType: string;
  predicate: unknown;
  scannerImageDigest: string;
  poe: ProofOfEntitlement;
  options?: { signingMode?: 'kms' | 'keyless'; expirySeconds?: number };
}

interface RequestState {
  auditId: string;
  started: bigint;
  /** The matched route's path (undefined when none matched): Fastify builds routeOptions anew on each read. */
  route: string | undefined;
  caller?: Caller;
  entitlement?: Entitlement;
  predicateType?: string;
  outcome?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    state: RequestState;
  }
}

const HEX = '^[0-9a-f]+$';
const SIGN_SCHEMA = {
  type: 'object',
  required: ['subject', 'predicateType', 'predicate', 'scannerImageDigest', 'poe'],
  additionalProperties: false,
  properties: {
    subject: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['name', 'digest'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 4096 },
          digest: {
            type: 'object',
            required: ['sha256'],
            properties: { sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' } },
            additionalProperties: { type: 'string', pattern: HEX, minLength: 32, maxLength: 128 },
            maxProperties: 8,
          },
        },
      },
    },
    predicateType: { type: 'string', minLength: 1, maxLength: 1024 },
    predicate: {},
    scannerImageDigest: { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' },
    poe: {
      type: 'object',
      required: ['format', 'value'],
      additionalProperties: false,
      properties: { format: { enum: ['jwt', 'mtls'] }, value: { type: 'string', minLength: 1, maxLength: 16384 } },
    },
    options: {
      type: 'object',
      additionalProperties: false,
      properties: {
        signingMode: { enum: ['kms', 'keyless'] },
        expirySeconds: { type: 'integer', minimum: 1, maximum: 31_536_000 },
      },
    },
  },
} as const;

/** Builds the signing service (not yet listening). */
export async function createSignerServer(options: SignerServerOptions): Promise<SignerServer> {
  const { config } = options;
  const log = options.logger ?? createServerLogger(config.logLevel);
  const libLogger = coreLogger(log);
  if (config.release.enabled && options.release === undefined)
    throw new Error('release check enabled but no checker given');
  const [authorityKeys, licenceKeys] = await Promise.all([
    issuerKeySet(config.authority, 'authority'),
    issuerKeySet(config.entitlement, 'entitlement'),
  ]);
  const opTok = new OpTokValidator(config.authority, authorityKeys, new DpopVerifier(config.dpopWindowSeconds));
  const entitlements = new EntitlementValidator(config.entitlement, licenceKeys, config.plans);
  const keyless =
    options.keyless ??
    (config.signing.keyless
      ? await KeylessStatementSigner.open(config.signing.keyless, options.env ?? process.env, libLogger)
      : undefined);
  const signer = config.signing.key ? await StatementSigner.open(options.registry, config.signing.key) : undefined;
  // A request without signingMode gets the configured one (the key when both are).
  const defaultMode: 'kms' | 'keyless' = signer ? 'kms' : 'keyless';
  const quota = await QuotaEnforcer.create(config.plans, config.quotaStore, libLogger);
  const audit = await AuditLog.open(config.audit.log, libLogger);
  let inFlight = 0;
  const metrics = new ServerMetrics(() => inFlight);
  const allowedTypes = new Set(config.predicateTypes);
  let closing = false;

  const https = config.tls
    ? {
        cert: readFileSync(config.tls.cert),
        key: readFileSync(config.tls.key),
        ...(config.tls.clientCa
          ? { ca: readFileSync(config.tls.clientCa), requestCert: true, rejectUnauthorized: false }
          : {}),
      }
    : null;
  const app: FastifyInstance = Fastify({
    loggerInstance: log,
    // One line per request comes from the onResponse hook (with the audit id and outcome), not Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.maxBodyBytes,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    requestIdHeader: false,
    genReqId: () => randomUUID(),
    ...(https ? { https } : {}),
  } as Parameters<typeof Fastify>[0]) as unknown as FastifyInstance;

  // TLS 1.2 renegotiation could swap the client certificate under a kept connection: refuse it.
  if (https) app.server.on('secureConnection', (socket: TLSSocket) => void socket.disableRenegotiation());

  app.decorateRequest('state', null as unknown as RequestState);
  // Callback-style hooks where nothing is awaited: an async hook costs a promise per request.
  app.addHook('onRequest', (request, _reply, done) => {
    request.state = { auditId: request.id, started: process.hrtime.bigint(), route: request.routeOptions.url };
    done();
  });

  // A connection's client certificate, parsed once per connection rather than twice per request (renegotiation,
  // the only way it could change, is disabled on every connection below).
  const peerCertificates = new WeakMap<TLSSocket, X509Certificate | null>();
  const clientCertificate = (request: FastifyRequest): X509Certificate | undefined => {
    const socket = request.raw.socket as TLSSocket;
    if (!socket.encrypted || !socket.authorized) return undefined;
    let cert = peerCertificates.get(socket);
    if (cert === undefined) {
      cert = socket.getPeerX509Certificate?.() ?? null;
      peerCertificates.set(socket, cert);
    }
    return cert ?? undefined;
  };
  const requestUrl = (request: FastifyRequest): string => {
    const path = request.url.split('?')[0]!;
    return config.publicUrl
      ? `${config.publicUrl}${path}`
      : `${https ? 'https' : 'http'}://${request.headers.host ?? ''}${path}`;
  };
  const authenticate = async (request: FastifyRequest): Promise<void> => {
    if (closing) throw unavailable('the signer is shutting down');
    if (inFlight >= config.maxInFlight) {
      metrics.throttles.inc({ reason: 'shed' });
      throw unavailable('the signer is at capacity');
    }
    request.state.caller = await opTok.validate({
      authorization: request.headers.authorization,
      dpop: typeof request.headers.dpop === 'string' ? request.headers.dpop : undefined,
      method: request.method,
      url: requestUrl(request),
      clientCert: clientCertificate(request),
    });
  };

  /** Writes the audit entry (durably) and only then answers. */
  const answer = async (
    reply: FastifyReply,
    request: FastifyRequest,
    status: number,
    body: unknown,
    record: Partial<AuditRecord>,
    envelope?: { digest: string; subjects: SignBody['subject'] },
  ): Promise<void> => {
    const s = request.state;
    const full: AuditRecord = {
      id: s.auditId,
      route: s.route ?? request.url.split('?')[0]!,
      outcome: status === 200 ? (record.outcome ?? 'signed') : 'refused',
      status,
      ...(s.caller ? { tenant: s.caller.tenant, subject: s.caller.subject } : {}),
      ...(s.entitlement ? { plan: s.entitlement.plan } : {}),
      ...(s.predicateType ? { predicateType: s.predicateType } : {}),
      remote: request.ip,
      ...record,
    };
    const t0 = process.hrtime.bigint();
    try {
      await audit.append(full, envelope?.digest ?? '', envelope?.subjects ?? []);
    } catch {
      // Fail closed: no answer (least of all a signature) without its audit entry.
      const p = unavailable('the audit log cannot be written');
      s.outcome = p.slug;
      void reply.code(503).headers(p.headers).type(PROBLEM_CONTENT_TYPE).send(p.body(s.auditId));
      return;
    }
    metrics.audit.observe(Number(process.hrtime.bigint() - t0) / 1e9);
    s.outcome = full.problem ?? full.outcome;
    void reply.code(status).send(body);
  };

  app.setErrorHandler(
    async (error: Error & { statusCode?: number; code?: string; validation?: unknown }, request, reply) => {
      let problem: Problem;
      if (Problem.isInstance(error)) problem = error;
      else if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
        problem = tooLarge(`the body is larger than ${config.maxBodyBytes} bytes`);
      else if (error.validation) problem = malformed(`invalid request: ${error.message}`);
      else if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500)
        problem = malformed(error.message);
      else {
        request.log.error(
          { auditId: request.state?.auditId, err: { type: error.name, code: error.code, message: error.message } },
          'request failed',
        );
        problem = new Problem(
          500,
          'internal',
          'Internal error',
          'the request failed; quote the audit id to the operator',
        );
      }
      if (problem.status === 429)
        metrics.throttles.inc({ reason: problem.message.includes('concurrent') ? 'concurrency' : 'qps' });
      request.state ??= { auditId: request.id, started: process.hrtime.bigint(), route: request.routeOptions.url };
      reply.headers(problem.headers).type(PROBLEM_CONTENT_TYPE);
      await answer(reply, request, problem.status, problem.body(request.state.auditId), { problem: problem.slug });
      return reply;
    },
  );

  app.post<{ Body: SignBody }>(
    SIGN_ROUTE,
    { onRequest: authenticate, schema: { body: SIGN_SCHEMA } },
    async (request, reply) => {
      const body = request.body;
      const caller = request.state.caller!;
      inFlight++;
      let release: (() => void) | undefined;
      try {
        const clientCert = clientCertificate(request);
        const versionHeader = request.headers['x-cosignkit-client-version'];
        const entitlement = await entitlements.validate(
          body.poe,
          caller,
          clientCert,
          typeof versionHeader === 'string' ? versionHeader : undefined,
        );
        request.state.entitlement = entitlement;
        const plan = config.plans[entitlement.plan]!;
        if (!allowedTypes.has(body.predicateType)) {
          throw forbidden(
            'predicate-type-not-allowed',
            'Predicate type not allowed',
            'this signer does not sign that predicateType',
          );
        }
        request.state.predicateType = body.predicateType;
        const mode = body.options?.signingMode ?? defaultMode;
        if ((mode === 'keyless' && !keyless) || (mode === 'kms' && !signer)) {
          throw new Problem(
            400,
            'signing-mode-unavailable',
            'Signing mode not configured',
            `${mode} signing is not configured on this signer; use signingMode "${mode === 'kms' ? 'keyless' : 'kms'}"`,
          );
        }
        if (body.subject.length > plan.maxSubjects)
          throw tooLarge(`plan ${entitlement.plan} allows ${plan.maxSubjects} subjects`);
        // The predicate is canonicalized once: its size is checked, then it is spliced into the statement.
        const predicate = canonicalize(body.predicate) ?? 'null';
        const predicateBytes = Buffer.byteLength(predicate);
        if (predicateBytes > plan.maxPredicateBytes)
          throw tooLarge(`plan ${entitlement.plan} allows predicates of ${plan.maxPredicateBytes} bytes`);
        const quotaState = await quota.consume(caller.tenant, entitlement.plan);
        release = quota.acquire(caller.tenant, entitlement.plan);
        if (config.release.enabled) {
          const verdict = await options.release!.check(body.scannerImageDigest);
          if (!verdict.trusted)
            throw forbidden(
              'untrusted-release',
              'Scanner release not trusted',
              `the scanner image is not trusted: ${verdict.reason}`,
            );
        }
        const payload = StatementSigner.canonicalPayload(body.subject, body.predicateType, predicate);
        const t0 = process.hrtime.bigint();
        const signed =
          mode === 'kms'
            ? {
                ...(await signer!.sign(payload)),
                identity: { mode: 'kms' as const, keyId: signer!.keyHint, publicKeyPem: signer!.publicKeyPem },
              }
            : await keyless!.sign(payload, libLogger);
        metrics.signing.observe(Number(process.hrtime.bigint() - t0) / 1e9);
        const digest = `sha256:${'digest' in signed ? signed.digest : envelopeDigest(signed.envelope)}`;
        const identity = signed.identity;
        await answer(
          reply,
          request,
          200,
          {
            envelope: signed.envelopeJson,
            bundle: signed.bundle,
            identity,
            quota: quotaState,
            auditId: request.state.auditId,
          },
          { outcome: 'signed', keyId: identity.keyId },
          { digest, subjects: body.subject },
        );
        return reply;
      } finally {
        inFlight--;
        release?.();
      }
    },
  );

  if (options.release) {
    const checker = options.release;
    app.get<{ Querystring: { digest: string } }>(
      REFERRERS_ROUTE,
      {
        onRequest: async (request) => {
          if (closing) throw unavailable('the signer is shutting down');
          request.state.caller = await opTok.validate(
            {
              authorization: request.headers.authorization,
              dpop: typeof request.headers.dpop === 'string' ? request.headers.dpop : undefined,
              method: request.method,
              url: requestUrl(request),
              clientCert: clientCertificate(request),
            },
            'signer.verify',
          );
        },
        schema: {
          querystring: {
            type: 'object',
            required: ['digest'],
            properties: { digest: { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' } },
          },
        },
      },
      async (request, reply) => {
        const verdict = await checker.check(request.query.digest);
        await answer(
          reply,
          request,
          200,
          { digest: request.query.digest, ...verdict, auditId: request.state.auditId },
          { outcome: 'verified' },
        );
        return reply;
      },
    );
  }

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const ready = !closing && quota.ready;
    return reply
      .code(ready ? 200 : 503)
      .send({ status: ready ? 'ready' : 'not ready', quotaStore: quota.ready ? 'ok' : 'down', draining: closing });
  });
  app.get('/metrics', async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

  // While draining, each answer closes its connection: a keep-alive connection would otherwise hold close()
  // open until its idle timeout.
  app.addHook('onSend', (request, reply, payload, done) => {
    if (closing) void reply.header('connection', 'close');
    // The correlation id of every answer, so a caller can quote it (it names the audit entry).
    if (request.state) void reply.header('x-cosignkit-audit-id', request.state.auditId);
    done(null, payload);
  });

  app.addHook('onResponse', (request, reply, done) => {
    try {
      const s = request.state;
      if (!s) return;
      const route = s.route ?? 'unknown';
      if (route === '/metrics' || route === '/healthz' || route === '/readyz') return;
      const seconds = Number(process.hrtime.bigint() - s.started) / 1e9;
      metrics.requests.observe({ route, outcome: s.outcome ?? 'none', status: String(reply.statusCode) }, seconds);
      request.log.info(
        {
          auditId: s.auditId,
          route,
          status: reply.statusCode,
          outcome: s.outcome,
          tenant: s.caller?.tenant,
          ms: Math.round(seconds * 1e4) / 10,
        },
        'request',
      );
    } finally {
      done();
    }
  });

  let closed: Promise<void> | undefined;
  return {
    get inFlight() {
      return inFlight;
    },
    app,
    ...(signer ? { signer } : {}),
    ...(keyless ? { keyless } : {}),
    metrics,
    audit,
    async listen() {
      await app.listen({ host: config.host, port: config.port });
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : config.port;
      const host = config.host.includes(':') ? `[${config.host}]` : config.host;
      return `${https ? 'https' : 'http'}://${host}:${port}`;
    },
    close() {
      closed ??= (async () => {
        closing = true;
        // Requests in flight get DRAIN_MS to finish; then whatever is left is cut.
        const force = setTimeout(() => app.server.closeAllConnections?.(), DRAIN_MS);
        force.unref();
        app.server.closeIdleConnections?.();
        await app.close();
        clearTimeout(force);
        await audit.close();
        await quota.close();
        await options.registry.close();
      })();
      return closed;
    },
  };
}
