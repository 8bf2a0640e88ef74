import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/**
 * HEAD requests on a kept-alive connection. fetch (undici) closes the connection after every HEAD, to cope
 * with servers that wrongly send a body with it, so each manifest HEAD (the first request of every image a
 * verification resolves) pays a new TCP (and TLS) connection on both sides. Node's HTTP client reads HEAD
 * answers as bodiless and keeps the socket: registries answer HEAD as the RFC says.
 */
const agents = {
  'http:': new HttpAgent({ keepAlive: true }),
  'https:': new HttpsAgent({ keepAlive: true }),
};

/**
 * Whether a HEAD can go through here: not when the environment names a proxy (fetch is the one that honours
 * those settings), and only for http(s) URLs.
 */
export function canHeadDirectly(url: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'NODE_USE_ENV_PROXY'].some((v) => env[v]))
    return false;
  return url.startsWith('http://') || url.startsWith('https://');
}

/** A HEAD as a fetch Response (no body). Redirects are not followed: the caller hands 3xx answers to fetch. */
export function headRequest(url: string, headers: Record<string, string>, signal: AbortSignal): Promise<Response> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(target, {
      method: 'HEAD',
      headers,
      agent: agents[target.protocol as 'http:' | 'https:'],
      signal,
    });
    req.once('response', (res) => {
      res.resume();
      res.once('end', () => {
        const response = new Response(null, { status: res.statusCode ?? 0, headers: toHeaders(res.headers) });
        // A fetch Response built by hand has no url: name the one asked, as fetch would without a redirect.
        Object.defineProperty(response, 'url', { value: url });
        resolve(response);
      });
      res.once('error', reject);
    });
    req.once('error', reject);
    req.end();
  });
}

function toHeaders(raw: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  return headers;
}
