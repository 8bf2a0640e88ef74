/**
 * The agent's wire format: one JSON object per line each way, one request per connection. Bytes travel as
 * `{"$b64": "…"}` so signatures and digests survive JSON.
 */

/** Largest line either side accepts (an Ed25519 message is the only big thing that travels). */
export const MAX_LINE = 64 * 1024 * 1024;

export const WIRE_VERSION = 1;

export interface AgentRequest {
  v: number;
  token: string;
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
      if (typeof o.$b64 === 'string' && Object.keys(o).length === 1) return new Uint8Array(Buffer.from(o.$b64, 'base64'));
    }
    return v;
  });
}

/** Collects one line from a stream; rejects past MAX_LINE. */
export function readLine(stream: NodeJS.ReadableStream): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (value: string | undefined, error?: Error) => {
      stream.removeListener('data', onData);
      stream.removeListener('end', onEnd);
      stream.removeListener('error', onError);
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (data: Buffer | string) => {
      const chunk = typeof data === 'string' ? Buffer.from(data) : data;
      const nl = chunk.indexOf(10);
      if (nl >= 0) {
        chunks.push(chunk.subarray(0, nl));
        done(Buffer.concat(chunks).toString('utf8'));
        return;
      }
      chunks.push(chunk);
      size += chunk.length;
      if (size > MAX_LINE) done(undefined, new Error('message too large'));
    };
    const onEnd = () => done(size > 0 || chunks.length > 0 ? Buffer.concat(chunks).toString('utf8') || undefined : undefined);
    const onError = (error: Error) => done(undefined, error);
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
  });
}
