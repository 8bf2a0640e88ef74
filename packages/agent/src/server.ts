import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import {
  BackendRegistry,
  CosignkitError,
  escapeForTerminal,
  parseKeyRef,
  redactKeyRef,
  storeKeyOf,
  toCosignkitError,
  type CosignkitConfig,
  type KeyManager,
  type Logger,
  type ModuleImporter,
  type OpenedKey,
  type SecretRequest,
} from '@cosignkit/core';
import { NONCE, clientProof, newNonce, proofMatches, serverProof } from './handshake.js';
import type { AgentPaths } from './paths.js';
import { ensurePrivateDir } from './private-files.js';
import {
  LineReader,
  MAX_HANDSHAKE_LINE,
  WIRE_VERSION,
  decode,
  encode,
  type AgentChallenge,
  type AgentHello,
  type AgentRequest,
  type AgentResponse,
  type SecretAsk,
} from './wire.js';

export interface AgentServerOptions {
  paths: AgentPaths;
  /** Idle time after which an opened store is closed (logged out, decrypted key dropped); 0 keeps it until stop. */
  ttlMs: number;
  config: CosignkitConfig;
  env: Readonly<Record<string, string | undefined>>;
  logger: Logger;
  importer?: ModuleImporter;
  /** Clients served at once; more are closed at connect (default 16). With the frame cap it bounds memory. */
  maxConnections?: number;
  /** How long a client may take to send its hello and its request (default 30 s); then it is dropped. */
  requestTimeoutMs?: number;
  /** Told to clients in the handshake: how long they wait for one operation unless their environment says. */
  operationTimeoutMs?: number;
}

const DEFAULT_MAX_CONNECTIONS = 16;
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export interface AgentStatus {
  pid: number;
  socket: string;
  startedAt: string;
  uptimeMs: number;
  ttlMs: number;
  stores: { backend: string; ref: string; openedAt: string; idleMs: number }[];
}

/** One opened key store with its own registry, so it can be closed alone when idle. */
interface Store {
  key: string;
  /** The redacted reference that first opened it (for status and logs). */
  label: string;
  backend: string;
  registry: BackendRegistry;
  ready: boolean;
  openedAt: number;
  lastUsed: number;
  busy: number;
  timer?: NodeJS.Timeout;
}

/** KeyManager methods a client may call, all but `generateKeyPair` and `listKeys` taking the key id first. */
const KEY_METHODS = new Set([
  'generateKeyPair',
  'getPublicKeyPem',
  'getPublicKeyFingerprint',
  'signDigest',
  'signMessage',
  'verifySignature',
  'getAlgorithm',
  'listKeys',
  'deleteKey',
]);

const ID_FIRST = new Set([...KEY_METHODS].filter((m) => m !== 'generateKeyPair' && m !== 'listKeys'));

/** How many byte arguments follow the key id (a digest, a message, a signature and its message). */
const BYTE_ARGS: Readonly<Record<string, number>> = { signDigest: 1, signMessage: 1, verifySignature: 2 };

/**
 * The request's arguments checked against the method's signature before the backend sees them: a frame
 * from another local program may hold anything, and a backend handed `null` for a digest fails with a Node
 * TypeError instead of a usage error.
 */
function checkKeyArgs(method: string, args: unknown[]): void {
  if (ID_FIRST.has(method) && typeof args[0] !== 'string')
    throw new CosignkitError('USAGE', `the request names no key id for ${method}`);
  for (let i = 1; i <= (BYTE_ARGS[method] ?? 0); i++) {
    if (!(args[i] instanceof Uint8Array)) throw new CosignkitError('USAGE', `argument ${i} of ${method} is not bytes`);
  }
  if (method === 'generateKeyPair' && args[0] !== undefined && (typeof args[0] !== 'object' || args[0] === null))
    throw new CosignkitError('USAGE', 'the options of generateKeyPair are not an object');
}

/**
 * The agent: serves key operations on a Unix socket and keeps the stores it opened (a logged-in PKCS#11
 * session, a TPM context, a decrypted key file) until they sit idle for the time-to-live. Secrets come only
 * from the client whose request needs them, and only for the first open; the agent's own COSIGN_PASSWORD and
 * COSIGN_PKCS11_PIN are ignored.
 */
export class AgentServer {
  readonly #options: AgentServerOptions;
  readonly #stores = new Map<string, Store>();
  readonly #requestSecrets = new AsyncLocalStorage<{ password?: string; pin?: string }>();
  readonly #connections = new Set<Socket>();
  readonly #loader: BackendRegistry;
  readonly #backendEnv: Record<string, string | undefined>;
  readonly #startedAt = Date.now();
  #server: Server | undefined;
  #token = Buffer.alloc(0);
  #stopping: Promise<void> | undefined;
  #stopped!: () => void;
  /** Resolves once the agent has stopped (a shutdown request, SIGTERM, or stop()). */
  readonly stopped = new Promise<void>((resolve) => (this.#stopped = resolve));

  constructor(options: AgentServerOptions) {
    this.#options = options;
    this.#backendEnv = { ...options.env };
    delete this.#backendEnv.COSIGN_PASSWORD;
    delete this.#backendEnv.COSIGN_PKCS11_PIN;
    this.#loader = this.#registry();
  }

  get paths(): AgentPaths {
    return this.#options.paths;
  }

  /** Creates the private directory, replaces a dead agent's socket, writes the token and listens. */
  async listen(): Promise<void> {
    const { paths } = this.#options;
    ensurePrivateDir(paths.dir);
    await this.#clearStaleSocket();
    this.#token = randomBytes(32);
    const tmp = `${paths.tokenFile}.${process.pid}.tmp`;
    writeFileSync(tmp, this.#token.toString('hex'), { mode: 0o600, flag: 'wx' });
    renameSync(tmp, paths.tokenFile);
    const server = createServer((socket) => this.#onConnection(socket));
    // The socket is born 0600 (no window in which another user could connect), then made sure of it.
    const umask = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(paths.socket, () => {
          server.removeListener('error', reject);
          resolve();
        });
      });
    } finally {
      process.umask(umask);
    }
    chmodSync(paths.socket, 0o600);
    this.#server = server;
    this.#options.logger.info('agent listening', {
      socket: paths.socket,
      pid: process.pid,
      ttlMs: this.#options.ttlMs,
    });
  }

  status(): AgentStatus {
    const now = Date.now();
    return {
      pid: process.pid,
      socket: this.#options.paths.socket,
      startedAt: new Date(this.#startedAt).toISOString(),
      uptimeMs: now - this.#startedAt,
      ttlMs: this.#options.ttlMs,
      stores: [...this.#stores.values()]
        .filter((s) => s.ready)
        .map((s) => ({
          backend: s.backend,
          ref: s.label,
          openedAt: new Date(s.openedAt).toISOString(),
          idleMs: s.busy > 0 ? 0 : now - s.lastUsed,
        })),
    };
  }

  /** Stops listening, closes every store (logout, context close, keys dropped), removes the socket and token. */
  stop(reason = 'stop requested'): Promise<void> {
    this.#stopping ??= (async () => {
      this.#options.logger.info('agent stopping', { reason });
      const server = this.#server;
      if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of this.#connections) socket.destroy();
      const stores = [...this.#stores.values()];
      this.#stores.clear();
      for (const store of stores) clearTimeout(store.timer);
      const results = await Promise.allSettled([...stores.map((s) => s.registry.close()), this.#loader.close()]);
      for (const result of results) {
        if (result.status === 'rejected')
          this.#options.logger.warn('closing a store failed', { error: describe(result.reason) });
      }
      this.#removeOwnFiles();
      this.#options.logger.info('agent stopped', { closedStores: stores.filter((s) => s.ready).length });
      this.#stopped();
    })();
    return this.#stopping;
  }

  #registry(): BackendRegistry {
    return new BackendRegistry({
      config: this.#options.config,
      secrets: (request) => this.#secretFor(request),
      logger: this.#options.logger,
      env: this.#backendEnv,
      ...(this.#options.importer ? { importer: this.#options.importer } : {}),
    });
  }

  /** The secret the current request carried, or an error that makes the agent ask the client for it. */
  async #secretFor(request: SecretRequest): Promise<string> {
    const given = this.#requestSecrets.getStore();
    const value = request.kind === 'pin' ? given?.pin : given?.password;
    if (value !== undefined) return value;
    const ask: SecretAsk = { kind: request.kind, purpose: request.purpose, subject: request.subject };
    throw new CosignkitError('PASSWORD_REQUIRED', `the agent needs a ${request.kind} for ${request.subject}`, {
      details: { needSecret: ask },
    });
  }

  async #clearStaleSocket(): Promise<void> {
    const { socket } = this.#options.paths;
    const alive = await new Promise<boolean>((resolve) => {
      const probe = connect(socket);
      probe.once('connect', () => {
        probe.destroy();
        resolve(true);
      });
      probe.once('error', () => resolve(false));
    });
    if (alive)
      throw new CosignkitError('USAGE', `an agent already listens on ${socket} (stop it with "cosignkit agent stop")`);
    try {
      unlinkSync(socket);
      this.#options.logger.info('replaced the socket of an agent that is gone', { socket });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw toCosignkitError(error, 'IO');
    }
  }

  #removeOwnFiles(): void {
    const { socket, tokenFile } = this.#options.paths;
    // Another agent may have taken the path since (after a stale-socket takeover): remove only our own files.
    let ours = false;
    try {
      ours = readFileSync(tokenFile, 'utf8').trim() === this.#token.toString('hex');
    } catch {
      ours = false;
    }
    if (!ours) return;
    for (const path of [socket, tokenFile]) {
      try {
        unlinkSync(path);
      } catch {
        // already gone
      }
    }
  }

  #onConnection(socket: Socket): void {
    // At most maxConnections clients, each with at most one MAX_LINE frame buffered: memory stays bounded.
    if (this.#connections.size >= (this.#options.maxConnections ?? DEFAULT_MAX_CONNECTIONS)) {
      this.#options.logger.warn('refused a connection: too many clients');
      socket.destroy();
      return;
    }
    this.#connections.add(socket);
    socket.on('close', () => this.#connections.delete(socket));
    socket.on('error', () => undefined);
    // An idle or trickling client is dropped; the clock stops once its request is in (signing may take long).
    socket.setTimeout(this.#options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, () => socket.destroy());
    const reader = new LineReader(socket);
    void (async () => {
      let response: AgentResponse;
      let after: (() => void) | undefined;
      let requestRead = false;
      try {
        // The handshake (handshake.ts): prove the token to the client, then check the client's proof.
        const helloLine = await reader.next(MAX_HANDSHAKE_LINE);
        if (helloLine === undefined) return;
        const clientNonce = parseHello(helloLine);
        const serverNonce = newNonce();
        const challenge: AgentChallenge = {
          v: WIRE_VERSION,
          nonce: serverNonce,
          proof: serverProof(this.#token, clientNonce, serverNonce),
          ...(this.#options.operationTimeoutMs ? { timeoutMs: this.#options.operationTimeoutMs } : {}),
        };
        socket.write(encode(challenge));
        const line = await reader.next();
        if (line === undefined) return;
        requestRead = true;
        socket.setTimeout(0);
        const request = parseAgentRequest(line);
        if (!proofMatches(clientProof(this.#token, clientNonce, serverNonce), request.proof)) {
          this.#options.logger.warn('refused a request with a wrong token');
          response = {
            ok: false,
            error: { code: 'AGENT_UNTRUSTED', message: 'the agent refused the request: wrong token' },
          };
        } else if (request.op === 'shutdown') {
          response = { ok: true, result: { pid: process.pid } };
          after = () => void this.stop('shutdown request');
        } else {
          const result = await this.#requestSecrets.run(request.secrets ?? {}, () => this.#dispatch(request));
          response = { ok: true, result };
        }
      } catch (error) {
        response = this.#errorResponse(error);
        // A frame past the cap (or a broken stream) was never read whole: close rather than keep draining it.
        if (!requestRead) after = () => socket.destroy();
      }
      socket.end(encode(response), () => after?.());
    })();
  }

  #errorResponse(error: unknown): AgentResponse {
    const ask = needSecretOf(error);
    if (ask) return { ok: false, needSecret: ask };
    const e = toCosignkitError(error);
    this.#options.logger.warn('request failed', { code: e.code, error: e.message });
    return { ok: false, error: { code: e.code, message: e.message } };
  }

  async #dispatch(request: AgentRequest): Promise<unknown> {
    switch (request.op) {
      case 'ping':
        return this.status();
      case 'algorithms': {
        const ref = parseKeyRef(requireRef(request));
        return (await this.#loader.backendFor(ref.scheme)).capabilities.algorithms;
      }
      case 'open':
        return this.#withKey(requireRef(request), async ({ manager, keyId, backend }) => {
          let algorithm: string | undefined;
          if (keyId !== '') algorithm = await manager.getAlgorithm(keyId).catch(() => undefined);
          return { keyId, backend: backend.name, ...(algorithm ? { algorithm } : {}) };
        });
      case 'key': {
        const method = request.method ?? '';
        if (!KEY_METHODS.has(method))
          throw new CosignkitError('USAGE', `the agent does not serve the method ${quoted(method)}`);
        if (request.args !== undefined && !Array.isArray(request.args))
          throw new CosignkitError('USAGE', 'the request\'s "args" is not an array');
        const args = request.args ?? [];
        return this.#withKey(requireRef(request), async ({ manager, keyId }) => {
          if (ID_FIRST.has(method) && args[0] === null) {
            // The client left the id to the reference (one round trip instead of open + call).
            if (keyId === '') throw new CosignkitError('USAGE', 'the key reference names a key store, not a key');
            args[0] = keyId;
          }
          checkKeyArgs(method, args);
          const fn = (manager as unknown as Record<string, unknown>)[method];
          if (typeof fn !== 'function')
            throw new CosignkitError('NOT_SUPPORTED', `the ${manager.backend} backend has no ${method}`);
          this.#options.logger.debug('key operation', { method, ref: redactKeyRef(request.ref ?? '') });
          return (fn as (...a: unknown[]) => Promise<unknown>).apply(manager, args);
        });
      }
      default:
        throw new CosignkitError('USAGE', `unknown agent operation ${quoted(request.op)}`);
    }
  }

  /** Opens (or finds) the store of a reference and runs `use` while the store is marked busy. */
  async #withKey<T>(text: string, use: (opened: OpenedKey & { manager: KeyManager }) => Promise<T>): Promise<T> {
    const ref = parseKeyRef(text);
    const backend = await this.#loader.backendFor(ref.scheme);
    const key = storeKeyOf(backend, ref);
    let store = this.#stores.get(key);
    if (!store) {
      const registry = this.#registry().register(backend);
      const now = Date.now();
      store = {
        key,
        label: redactKeyRef(ref.text),
        backend: backend.name,
        registry,
        ready: false,
        openedAt: now,
        lastUsed: now,
        busy: 0,
      };
      this.#stores.set(key, store);
    }
    store.busy++;
    clearTimeout(store.timer);
    try {
      const opened = await store.registry.open(ref);
      if (!store.ready) {
        store.ready = true;
        store.openedAt = Date.now();
        this.#options.logger.info('opened a key store', { backend: store.backend, ref: store.label });
      }
      return await use(opened);
    } finally {
      store.busy--;
      store.lastUsed = Date.now();
      this.#schedule(store);
    }
  }

  #schedule(store: Store): void {
    clearTimeout(store.timer);
    if (store.busy > 0) return;
    // A store that never opened (wrong PIN, unknown token) is dropped at once; an open one after the TTL.
    const delay = store.ready ? this.#options.ttlMs : 0;
    if (store.ready && delay <= 0) return;
    store.timer = setTimeout(() => void this.#expire(store), delay);
  }

  async #expire(store: Store): Promise<void> {
    if (store.busy > 0 || this.#stores.get(store.key) !== store) return;
    this.#stores.delete(store.key);
    try {
      await store.registry.close();
      if (store.ready)
        this.#options.logger.info('closed an idle key store', { backend: store.backend, ref: store.label });
    } catch (error) {
      this.#options.logger.warn('closing an idle key store failed', { ref: store.label, error: describe(error) });
    }
  }
}

/** The client's nonce from its first line; a line of another wire version is told to upgrade. */
function parseHello(line: string): string {
  let hello: Partial<AgentHello> | undefined;
  try {
    hello = decode(line) as Partial<AgentHello>;
  } catch {
    throw new CosignkitError('USAGE', 'the agent got a request that is not JSON');
  }
  if (!hello || typeof hello !== 'object' || hello.v !== WIRE_VERSION) {
    throw new CosignkitError('USAGE', `the agent speaks wire version ${WIRE_VERSION}; upgrade or restart it`);
  }
  if (typeof hello.hello !== 'string' || !NONCE.test(hello.hello))
    throw new CosignkitError('USAGE', 'the agent got a handshake without a nonce');
  return hello.hello;
}

function parseAgentRequest(line: string): AgentRequest {
  let request: unknown;
  try {
    request = decode(line);
  } catch {
    throw new CosignkitError('USAGE', 'the agent got a request that is not JSON');
  }
  if (!request || typeof request !== 'object' || (request as AgentRequest).v !== WIRE_VERSION) {
    throw new CosignkitError('USAGE', `the agent speaks wire version ${WIRE_VERSION}; upgrade or restart it`);
  }
  return request as AgentRequest;
}

function requireRef(request: AgentRequest): string {
  if (typeof request.ref !== 'string' || request.ref === '')
    throw new CosignkitError('USAGE', 'the request names no key reference');
  return request.ref;
}

/** The secret a failure is waiting for, looked for down the cause chain (a backend may wrap our error). */
function needSecretOf(error: unknown): SecretAsk | undefined {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const ask = (e as { details?: { needSecret?: SecretAsk } }).details?.needSecret;
    if (ask) return ask;
  }
  return undefined;
}

/** A value from a request, quoted and escaped for a one-line message. */
function quoted(value: unknown): string {
  return escapeForTerminal(JSON.stringify(value ?? null) ?? typeof value);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
