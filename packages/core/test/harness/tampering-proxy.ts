import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** What a test makes the proxy do to one request; every hook is optional and the default is to forward. */
export interface Tamper {
  /** Answer the request here instead of forwarding it; return true when answered. */
  answer?(req: IncomingMessage, res: ServerResponse): boolean;
  /** The path (with query) to ask the registry for instead of the one requested. */
  path?(req: IncomingMessage): string | undefined;
  /** Rewrite the registry's response headers (in place) before they go back to the client. */
  headers?(req: IncomingMessage, status: number, headers: IncomingHttpHeaders): void;
}

export interface TamperingProxy {
  /** `127.0.0.1:<port>`: the registry as the client sees it. */
  host: string;
  /** The current tampering; set it per test (an empty object forwards everything as is). */
  tamper: Tamper;
  stop(): Promise<void>;
}

/**
 * A malicious registry for tests: a node:http proxy on 127.0.0.1 in front of a real docker-registry that
 * forwards every request (headers, body, the proxy's Host) unless the test's `tamper` says otherwise.
 */
export async function startTamperingProxy(upstream: string): Promise<TamperingProxy> {
  const [upstreamHost, upstreamPort] = upstream.split(':') as [string, string];
  const proxy: TamperingProxy = { host: '', tamper: {}, stop: async () => {} };
  const server: Server = createServer((req, res) => {
    const tamper = proxy.tamper;
    if (tamper.answer?.(req, res)) {
      req.resume();
      return;
    }
    const forwarded = request({
      host: upstreamHost,
      port: Number(upstreamPort),
      method: req.method,
      path: tamper.path?.(req) ?? req.url,
      // The Host stays the proxy's: the registry builds its Location and Link URLs from it.
      headers: req.headers,
    }, (upstreamRes) => {
      const headers = { ...upstreamRes.headers };
      tamper.headers?.(req, upstreamRes.statusCode ?? 502, headers);
      res.writeHead(upstreamRes.statusCode ?? 502, headers);
      upstreamRes.pipe(res);
    });
    forwarded.on('error', () => res.writeHead(502).end());
    req.pipe(forwarded);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  proxy.host = `127.0.0.1:${(server.address() as { port: number }).port}`;
  proxy.stop = () => new Promise<void>((r) => {
    server.closeAllConnections();
    server.close(() => r());
  });
  return proxy;
}
