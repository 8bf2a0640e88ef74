import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import { agentPaths, privateDirProblem, socketProblem, type AgentPaths } from './paths.js';
import { WIRE_VERSION, decode, encode, readLine, type AgentRequest, type AgentResponse, type SecretAsk } from './wire.js';

/** An error the agent answered (or the connection to it), with a cosignkit ErrorCode. */
export class AgentError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AgentError';
  }
}

/** Nothing answered on the socket: the caller does the work itself. Nothing was sent. */
export class AgentUnavailable extends Error {
  readonly code = 'BACKEND_UNAVAILABLE';
  constructor(message: string) {
    super(message);
    this.name = 'AgentUnavailable';
  }
}

/** Supplies a secret the agent asked for (the first open of a store); throws when there is none. */
export type SecretSource = (ask: SecretAsk) => Promise<string>;

export type AgentCall = Omit<AgentRequest, 'v' | 'token' | 'secrets'>;

/**
 * The agent of this user when its files are in place and private, else undefined (use no agent). Cheap: a few
 * stat calls and one small read, no connection yet. `warn` hears why files that exist are not trusted.
 */
export function findAgent(env: Readonly<Record<string, string | undefined>>, warn?: (message: string) => void): AgentClient | undefined {
  if (env.COSIGNKIT_NO_AGENT === '1') return undefined;
  const paths = agentPaths(env);
  const socket = socketProblem(paths.socket);
  if (socket) {
    if (!socket.endsWith('does not exist')) warn?.(`not using the agent: ${socket}`);
    return undefined;
  }
  const dir = privateDirProblem(paths.dir);
  if (dir) {
    warn?.(`not using the agent: ${dir}`);
    return undefined;
  }
  let token: string;
  try {
    token = readFileSync(paths.tokenFile, 'utf8').trim();
  } catch {
    return undefined;
  }
  return new AgentClient(paths, token);
}

export class AgentClient {
  constructor(
    readonly paths: AgentPaths,
    readonly token: string,
  ) {}

  /**
   * Sends one request. When the agent needs a secret to open a store, it says so and the request is sent once
   * more with that secret from `secrets`: a secret travels only when the agent lacks it.
   */
  async request(call: AgentCall, secrets?: SecretSource, timeoutMs?: number): Promise<unknown> {
    const given: { password?: string; pin?: string } = {};
    for (;;) {
      const message: AgentRequest = { ...call, v: WIRE_VERSION, token: this.token };
      if (given.password !== undefined || given.pin !== undefined) message.secrets = given;
      const answer = await this.#send(message, timeoutMs);
      if (answer.ok) return answer.result;
      if ('needSecret' in answer) {
        const ask = answer.needSecret;
        if (!secrets) throw new AgentError('PASSWORD_REQUIRED', `the agent needs a ${ask.kind} for ${ask.subject}`);
        if (given[ask.kind] !== undefined) throw new AgentError('INTERNAL', `the agent asked twice for the ${ask.kind} of ${ask.subject}`);
        given[ask.kind] = await secrets(ask);
        continue;
      }
      throw new AgentError(answer.error.code, answer.error.message);
    }
  }

  #send(message: AgentRequest, timeoutMs?: number): Promise<AgentResponse> {
    return new Promise((resolvePromise, reject) => {
      const socket = connect(this.paths.socket);
      let connected = false;
      let settled = false;
      const finish = (error: Error | undefined, value?: AgentResponse) => {
        if (settled) return;
        settled = true;
        socket.destroy();
        if (error) reject(error);
        else resolvePromise(value!);
      };
      if (timeoutMs) {
        socket.setTimeout(timeoutMs, () => finish(new AgentError('TIMEOUT', `the agent did not answer within ${timeoutMs} ms`)));
      }
      socket.once('connect', () => {
        connected = true;
        socket.write(encode(message));
      });
      socket.on('error', (error: NodeJS.ErrnoException) => {
        finish(connected
          ? new AgentError('BACKEND_UNAVAILABLE', `the connection to the agent failed: ${error.message}`)
          : new AgentUnavailable(`no agent answers on ${this.paths.socket} (${error.code ?? error.message})`));
      });
      readLine(socket).then(
        (line) => {
          if (line === undefined) finish(new AgentError('BACKEND_UNAVAILABLE', 'the agent closed the connection without an answer'));
          else {
            try {
              finish(undefined, decode(line) as AgentResponse);
            } catch {
              finish(new AgentError('INTERNAL', 'the agent sent an answer that is not JSON'));
            }
          }
        },
        (error: Error) => finish(connected ? new AgentError('BACKEND_UNAVAILABLE', error.message) : new AgentUnavailable(error.message)),
      );
    });
  }
}

/** Secrets as stock cosign gives them to its plugin: COSIGN_PASSWORD and COSIGN_PKCS11_PIN in the environment. */
export function environmentSecretSource(env: Readonly<Record<string, string | undefined>>): SecretSource {
  return async (ask) => {
    const variable = ask.kind === 'pin' ? 'COSIGN_PKCS11_PIN' : 'COSIGN_PASSWORD';
    const value = env[variable];
    if (value === undefined) throw new AgentError('PASSWORD_REQUIRED', `no ${ask.kind} for ${ask.subject}: set ${variable}`);
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
