import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CountingProxy {
  /** `127.0.0.1:<port>`, to use as the registry host. */
  host: string;
  /** Every request forwarded so far, as `METHOD /path?query`. */
  readonly requests: string[];
  close(): Promise<void>;
}

/**
 * A plain HTTP reverse proxy on loopback in front of a real registry that records every request it
 * forwards: what a test counts to see how often the registry is read (the registry's own access log is
 * off in the shared harness, and is written asynchronously).
 */
export async function startCountingProxy(upstream: string): Promise<CountingProxy> {
  const [upstreamHost, upstreamPort] = upstream.split(':') as [string, string];
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const forwarded = request(
      { host: upstreamHost, port: Number(upstreamPort), method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forwarded.on('error', () => {
      res.statusCode = 502;
      res.end();
    });
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
