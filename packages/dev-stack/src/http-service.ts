import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a route answers: the shape @sigstore/mock's handlers return, so they plug in unchanged. */
export interface RouteResult {
  statusCode: number;
  response: string | ArrayBufferView;
  contentType?: string;
  /** Extra response headers (a redirect's Location). */
  headers?: Record<string, string>;
}

export interface RouteRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export type Route = (request: RouteRequest) => Promise<RouteResult>;

/** Requests to the stack are small JSON or DER documents; anything bigger is refused before it is read. */
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * One loopback HTTP service (Fulcio, Rekor, the TSA or the OIDC issuer) on an OS-assigned port.
 * Routes are keyed by `METHOD path`; the port is known only after listen(), so URLs are built then.
 */
export class HttpService {
  readonly #routes = new Map<string, Route>();
  readonly #server: Server;

  constructor(readonly name: string) {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    // A keep-alive client (cosign, undici) must not hold close() open.
    this.#server.keepAliveTimeout = 1000;
  }

  /** `path` may end in `*`: then it serves every path under that prefix (Rekor's entries by UUID). */
  route(method: string, path: string, handler: Route): this {
    this.#routes.set(`${method} ${path}`, handler);
    return this;
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(0, '127.0.0.1', () => resolve());
    });
    return this.url;
  }

  get url(): string {
    const address = this.#server.address() as AddressInfo | null;
    if (!address) throw new Error(`${this.name} is not listening`);
    return `http://127.0.0.1:${address.port}`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #prefixRoute(method: string | undefined, path: string): Route | undefined {
    for (const [key, route] of this.#routes) {
      if (key.endsWith('*') && `${method} ${path}`.startsWith(key.slice(0, -1))) return route;
    }
    return undefined;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const route = this.#routes.get(`${req.method} ${url.pathname}`) ?? this.#prefixRoute(req.method, url.pathname);
      if (!route)
        return send(res, {
          statusCode: 404,
          response: json({ code: 5, message: 'not found' }),
          contentType: 'application/json',
        });
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > MAX_BODY_BYTES) return send(res, { statusCode: 413, response: 'request too large' });
      const body = await readBody(req);
      if (body === undefined) return send(res, { statusCode: 413, response: 'request too large' });
      const result = await route({
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body,
      });
      send(res, result);
    } catch (error) {
      send(res, {
        statusCode: 500,
        response: `internal error: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
  }
}

export function json(value: unknown): string {
  return JSON.stringify(value);
}

function send(res: ServerResponse, result: RouteResult): void {
  if (res.headersSent) return;
  const body =
    typeof result.response === 'string'
      ? Buffer.from(result.response, 'utf8')
      : Buffer.from(result.response.buffer, result.response.byteOffset, result.response.byteLength);
  res.writeHead(result.statusCode, {
    'content-type': result.contentType ?? 'text/plain',
    'content-length': body.length,
    ...result.headers,
  });
  res.end(body);
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      req.destroy();
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
