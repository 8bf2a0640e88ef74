import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

export interface EvilHost {
  /** `http://127.0.0.2:<port>`: another origin than the registry's 127.0.0.1. */
  origin: string;
  /** Every request it received, in order. */
  requests: RecordedRequest[];
  /** How it answers (set per test); undefined: the 401 with its own realm. */
  answer?: (req: IncomingMessage, res: ServerResponse) => void;
  stop(): Promise<void>;
}

/**
 * The host a malicious registry sends clients to (upload Location, Link, redirect): it records every request
 * and answers 401 with a Bearer challenge naming its own token realm (which records too and refuses), so
 * that a client answering foreign challenges would send it credentials.
 */
export async function startEvilHost(): Promise<EvilHost> {
  const evil: EvilHost = { origin: '', requests: [], stop: async () => {} };
  const server: Server = createServer((req, res) => {
    evil.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    if (evil.answer) return evil.answer(req, res);
    req.resume();
    res.writeHead(401, {
      'www-authenticate': `Bearer realm="${evil.origin}/token",service="evil",scope="repository:x:pull"`,
      'content-type': 'application/json',
    }).end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.2', r));
  evil.origin = `http://127.0.0.2:${(server.address() as { port: number }).port}`;
  evil.stop = () => new Promise<void>((r) => {
    server.closeAllConnections();
    server.close(() => r());
  });
  return evil;
}
