/**
 * The agent's wire format: one JSON object per line each way, one request per connection, after a handshake
 * in which each side proves it knows the token (handshake.ts): hello → challenge → request → response. Bytes
 * travel as `{"$b64": "…"}` so signatures and digests survive JSON.
 */

/** Largest line either side accepts (an Ed25519 message is the only big thing that travels). */
export const MAX_LINE = 16 * 1024 * 1024;

/** Largest handshake line: nonces and proofs only, so nobody unproven makes the agent buffer much. */
export const MAX_HANDSHAKE_LINE = 1024;

/** 2: the token is proven (HMAC over nonces), never sent. */
export const WIRE_VERSION = 2;

/** Client → agent, first line: a fresh nonce. */
export interface AgentHello {
  v: number;
  hello: string;
}

/** Agent → client: its nonce and its proof of the token; the client sends its request only if it matches. */
export interface AgentChallenge {
  v: number;
  nonce: string;
  proof: string;
  /** The agent's operation timeout (its `agent.timeout`): what a client waits when its own environment sets none. */
  timeoutMs?: number;
}

export interface AgentRequest {
  v: number;
  /** The client's proof of the token (never the token itself). */
  proof: string;
  op: 'ping' | 'shutdown' | 'open' | 'key' | 'algorithms';
  ref?: string;
  method?: string;
  args?: unknown[];
  /** Secrets for the first open of a store only, sent after the agent asked for them (`needSecret`). */
  secrets?: { password?: string; pin?: string };
}

export interface SecretAsk {
  kind: 'password' | 'pin';
  purpose: 'unlock' | 'create';
  subject: string;
}

export type AgentResponse =
  | { ok: true; result?: unknown }
  | { ok: false; error: { code: string; message: string } }
  | { ok: false; needSecret: SecretAsk };

export function encode(value: unknown): string {
  return `${JSON.stringify(value, function replacer(this: Record<string, unknown>, key: string, v: unknown) {
    // Read the raw value: Buffer#toJSON has already run on `v`.
    const raw = key === '' ? v : this[key];
    return raw instanceof Uint8Array ? { $b64: Buffer.from(raw).toString('base64') } : v;
  })}\n`;
}

export function decode(line: string): unknown {
  return JSON.parse(line, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      if (typeof o.$b64 === 'string' && Object.keys(o).length === 1)
        return new Uint8Array(Buffer.from(o.$b64, 'base64'));
    }
    return v;
  });
}

/**
 * Reads a stream line by line, keeping what follows a newline for the next call. `next(max)` rejects once the
 * line being read passes `max` bytes, and resolves undefined at the end of the stream.
 */
export class LineReader {
  readonly #chunks: Buffer[] = [];
  readonly #lines: string[] = [];
  #size = 0;
  #max = MAX_LINE;
  #ended = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;

  constructor(stream: NodeJS.ReadableStream) {
    stream.on('data', (data: Buffer | string) => this.#push(typeof data === 'string' ? Buffer.from(data) : data));
    stream.on('end', () => {
      this.#ended = true;
      this.#wake?.();
    });
    stream.on('error', (error: Error) => {
      this.#error ??= error;
      this.#wake?.();
    });
  }

  async next(max = MAX_LINE): Promise<string | undefined> {
    this.#max = max;
    if (this.#size > max) this.#tooLarge();
    for (;;) {
      const line = this.#lines.shift();
      if (line !== undefined) {
        if (Buffer.byteLength(line) > max) throw new Error('message too large');
        return line;
      }
      if (this.#error) throw this.#error;
      if (this.#ended) {
        const rest = Buffer.concat(this.#chunks).toString('utf8');
        this.#chunks.length = 0;
        this.#size = 0;
        return rest === '' ? undefined : rest;
      }
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
  }

  #push(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
      this.#chunks.push(chunk.subarray(start, nl));
      this.#lines.push(Buffer.concat(this.#chunks).toString('utf8'));
      this.#chunks.length = 0;
      this.#size = 0;
      start = nl + 1;
    }
    if (start < chunk.length) {
      this.#chunks.push(chunk.subarray(start));
      this.#size += chunk.length - start;
    }
    if (this.#size > this.#max) this.#tooLarge();
    this.#wake?.();
  }

  #tooLarge(): void {
    // Drop what was buffered: a line past the cap is never read.
    this.#chunks.length = 0;
    this.#size = 0;
    this.#error ??= new Error('message too large');
  }
}
