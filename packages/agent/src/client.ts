import { connect } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import { locateAgent } from './agent-location.js';
import { CosignkitError, type ErrorCode } from '@cosignkit/core/errors';
import { agentUntrusted, isAgentUntrusted } from './agent-untrusted.js';
import { NONCE, clientProof, newNonce, proofMatches, serverProof } from './handshake.js';
import type { AgentPaths } from './paths.js';
import { readTokenFile, socketProblem } from './private-files.js';
import {
  LineReader,
  MAX_HANDSHAKE_LINE,
  WIRE_VERSION,
  decode,
  encode,
  type AgentChallenge,
  type AgentRequest,
  type AgentResponse,
  type SecretAsk,
} from './wire.js';

/** An error the agent answered (its code is one of core's), or one about the connection to it. */
function agentError(code: string, message: string): CosignkitError {
  return new CosignkitError(code as ErrorCode, message);
}

/**
 * Nothing answered on the socket and nothing was sent (no agent, or a dead agent's socket): BACKEND_UNAVAILABLE
 * marked `details.nothingSent`, so the caller may do the work itself.
 */
export function agentUnavailable(message: string): CosignkitError {
  return new CosignkitError('BACKEND_UNAVAILABLE', message, { details: { nothingSent: true } });
}

export function isAgentUnavailable(error: unknown): error is CosignkitError {
  return CosignkitError.isInstance(error) && error.code === 'BACKEND_UNAVAILABLE' && error.details.nothingSent === true;
}

/** Supplies a secret the agent asked for (the first open of a store); throws when there is none. */
export type SecretSource = (ask: SecretAsk) => Promise<string>;

export type AgentCall = Omit<AgentRequest, 'v' | 'proof' | 'secrets'>;

/** How long the agent has to prove itself when the caller set no timeout. */
const HANDSHAKE_TIMEOUT_MS = 10_000;
/** How long one operation may take when the caller set none (agent-settings.ts: DEFAULT_AGENT_TIMEOUT). */
const OPERATION_TIMEOUT_MS = 60_000;

export interface AgentClientOptions {
  /**
   * How long to wait for the answer to one operation once the agent has proven itself (COSIGNKIT_AGENT_TIMEOUT).
   * Unset: the timeout the agent announces in the handshake (its `agent.timeout`), else 60 s.
   */
  timeoutMs?: number;
}

/**
 * The agent of this user when its files are in place and private, else undefined (use no agent). Cheap: a few
 * stat calls and one small read, no connection yet. `warn` hears why files that exist are not trusted (code
 * AGENT_UNTRUSTED: the caller then works without the agent, so a directory planted by another user can neither
 * receive a secret nor stop this user from signing).
 */
export function findAgent(
  env: Readonly<Record<string, string | undefined>>,
  warn?: (message: string) => void,
  options: AgentClientOptions = {},
): AgentClient | undefined {
  if (env.COSIGNKIT_NO_AGENT === '1') return undefined;
  try {
    return agentClientOf(env, options);
  } catch (error) {
    if (!isAgentUntrusted(error)) throw error;
    warn?.(`not using the agent: ${error.message} [${error.code}]`);
    return undefined;
  }
}

/** As findAgent, but throws AGENT_UNTRUSTED instead of warning (for the agent commands themselves). */
export function agentClientOf(
  env: Readonly<Record<string, string | undefined>>,
  options: AgentClientOptions = {},
): AgentClient | undefined {
  const { paths, untrusted } = locateAgent(env);
  if (untrusted) throw agentUntrusted(`the agent's files are not private: ${untrusted}`);
  const socket = socketProblem(paths.socket);
  if (socket) {
    if (socket.missing) return undefined;
    throw agentUntrusted(socket.message);
  }
  const token = readTokenFile(paths.tokenFile);
  return token ? new AgentClient(paths, token, options) : undefined;
}

export class AgentClient {
  readonly #token: Uint8Array;
  readonly #timeoutMs: number | undefined;

  constructor(
    readonly paths: AgentPaths,
    /** The token's 32 bytes: used as an HMAC key, never sent. */
    token: Uint8Array,
    options: AgentClientOptions = {},
  ) {
    this.#token = token;
    this.#timeoutMs = options.timeoutMs;
  }

  /**
   * Sends one request. When the agent needs a secret to open a store, it says so and the request is sent once
   * more with that secret from `secrets`: a secret travels only when the agent lacks it, and only to an agent
   * that has proven it holds the token.
   */
  async request(call: AgentCall, secrets?: SecretSource, timeoutMs?: number): Promise<unknown> {
    const given: { password?: string; pin?: string } = {};
    for (;;) {
      const message: Omit<AgentRequest, 'proof'> = { ...call, v: WIRE_VERSION };
      if (given.password !== undefined || given.pin !== undefined) message.secrets = given;
      const answer = await this.#send(message, timeoutMs);
      if (answer.ok) return answer.result;
      if ('needSecret' in answer) {
        const ask = answer.needSecret;
        if (!secrets) throw agentError('PASSWORD_REQUIRED', `the agent needs a ${ask.kind} for ${ask.subject}`);
        if (given[ask.kind] !== undefined)
          throw agentError('INTERNAL', `the agent asked twice for the ${ask.kind} of ${ask.subject}`);
        given[ask.kind] = await secrets(ask);
        continue;
      }
      throw agentError(answer.error.code, answer.error.message);
    }
  }

  #send(message: Omit<AgentRequest, 'proof'>, timeoutMs?: number): Promise<AgentResponse> {
    return new Promise((resolvePromise, reject) => {
      const socket = connect(this.paths.socket);
      const reader = new LineReader(socket);
      const clientNonce = newNonce();
      let connected = false;
      let settled = false;
      const finish = (error: Error | undefined, value?: AgentResponse) => {
        if (settled) return;
        settled = true;
        socket.destroy();
        if (error) reject(error);
        else resolvePromise(value!);
      };
      // The handshake, then the operation: a hung backend in the agent (an HSM that never answers) ends the call.
      let timeout = timeoutMs ?? HANDSHAKE_TIMEOUT_MS;
      socket.setTimeout(timeout, () =>
        finish(agentError('TIMEOUT', `the agent did not answer within ${timeout} ms (COSIGNKIT_AGENT_TIMEOUT)`)),
      );
      socket.once('connect', () => {
        connected = true;
        socket.write(encode({ v: WIRE_VERSION, hello: clientNonce }));
      });
      socket.on('error', (error: NodeJS.ErrnoException) => {
        finish(
          connected
            ? agentError('BACKEND_UNAVAILABLE', `the connection to the agent failed: ${error.message}`)
            : agentUnavailable(`no agent answers on ${this.paths.socket} (${error.code ?? error.message})`),
        );
      });
      const exchange = async (): Promise<AgentResponse> => {
        const challenge = await reader.next(MAX_HANDSHAKE_LINE).catch((error: Error) => {
          throw error.message === 'message too large'
            ? this.#untrusted('answered the handshake with too much data')
            : error;
        });
        if (challenge === undefined)
          throw agentError('BACKEND_UNAVAILABLE', 'the agent closed the connection without an answer');
        const { nonce: serverNonce, timeoutMs: announced } = this.#verifyChallenge(challenge, clientNonce);
        // Proven: from here the agent may receive the request and, when it asks, a password or PIN.
        if (timeoutMs === undefined) {
          timeout = this.#timeoutMs ?? announced ?? OPERATION_TIMEOUT_MS;
          socket.setTimeout(timeout);
        }
        socket.write(encode({ ...message, proof: clientProof(this.#token, clientNonce, serverNonce) }));
        const line = await reader.next();
        if (line === undefined)
          throw agentError('BACKEND_UNAVAILABLE', 'the agent closed the connection without an answer');
        try {
          return decode(line) as AgentResponse;
        } catch {
          throw agentError('INTERNAL', 'the agent sent an answer that is not JSON');
        }
      };
      exchange().then(
        (value) => finish(undefined, value),
        (error: Error) =>
          finish(
            CosignkitError.isInstance(error)
              ? error
              : connected
                ? agentError('BACKEND_UNAVAILABLE', error.message)
                : agentUnavailable(error.message),
          ),
      );
    });
  }

  /** The server's nonce (and announced timeout) once its proof of the token matches; AGENT_UNTRUSTED otherwise. */
  #verifyChallenge(line: string, clientNonce: string): { nonce: string; timeoutMs?: number } {
    let challenge: Partial<AgentChallenge> | undefined;
    try {
      challenge = decode(line) as Partial<AgentChallenge>;
    } catch {
      challenge = undefined;
    }
    const nonce = challenge?.nonce;
    if (
      typeof nonce !== 'string' ||
      !NONCE.test(nonce) ||
      !proofMatches(serverProof(this.#token, clientNonce, nonce), challenge?.proof)
    ) {
      throw this.#untrusted(
        "did not prove it holds the token (another user's program, or an agent of an older version: restart it)",
      );
    }
    const announced = challenge?.timeoutMs;
    // A proven agent's own setting, taken only when sane (a positive number of milliseconds, at most a day).
    const sane =
      typeof announced === 'number' && Number.isInteger(announced) && announced > 0 && announced <= 86_400_000;
    return sane ? { nonce, timeoutMs: announced } : { nonce };
  }

  #untrusted(what: string): CosignkitError {
    return agentUntrusted(`the server on ${this.paths.socket} ${what}; nothing secret was sent`);
  }
}

/** Secrets as stock cosign gives them to its plugin: COSIGN_PASSWORD and COSIGN_PKCS11_PIN in the environment. */
export function environmentSecretSource(env: Readonly<Record<string, string | undefined>>): SecretSource {
  return async (ask) => {
    const variable = ask.kind === 'pin' ? 'COSIGN_PKCS11_PIN' : 'COSIGN_PASSWORD';
    const value = env[variable];
    if (value === undefined)
      throw agentError('PASSWORD_REQUIRED', `no ${ask.kind} for ${ask.subject}: set ${variable}`);
    return value;
  };
}

const PLUGIN_PREFIX = 'cosignkit://';
// As core's parseKeyRef: two or more characters, so a drive letter stays a path.
const SCHEME = /^([a-z][a-z0-9+.-]+):/i;

/**
 * The reference made independent of the caller's working directory (the agent runs elsewhere): relative file
 * paths, pin-source and module-path become absolute. Kept here rather than using core's parser so the plugin
 * reaches the agent without loading core.
 */
export function absoluteRef(text: string, cwd: string): string {
  const ref = text.startsWith(PLUGIN_PREFIX) ? text.slice(PLUGIN_PREFIX.length) : text;
  const match = SCHEME.exec(ref);
  if (!match || match[1]!.toLowerCase() === 'file') {
    const path = match ? ref.slice(match[0].length).replace(/^\/\/(?=\/)/, '') : ref;
    if (path === '' || isAbsolute(path)) return ref;
    return `file:${resolve(cwd, path)}${/[/\\]$/.test(path) ? '/' : ''}`;
  }
  return ref.replace(/([?&])(pin-source|module-path)=([^&]*)/g, (whole, sep: string, name: string, value: string) => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(value);
    } catch {
      return whole;
    }
    if (decoded === '' || decoded.startsWith('|') || /^file:/i.test(decoded) || isAbsolute(decoded)) return whole;
    return `${sep}${name}=${resolve(cwd, decoded).replace(/[%&#?;]/g, (c) => encodeURIComponent(c))}`;
  });
}
