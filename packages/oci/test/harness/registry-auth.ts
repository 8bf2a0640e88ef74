import { execFileSync } from 'node:child_process';
import { createPrivateKey, randomUUID, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * An htpasswd file with one bcrypt (cost 4) entry. bcrypt comes from `htpasswd -B -C 4` when apache2-utils
 * is installed, else from the system's crypt(3) (libxcrypt's `$2b$`) through python3.
 */
export function writeHtpasswd(dir: string, user: string, password: string): string {
  const path = join(dir, 'htpasswd');
  let line: string;
  try {
    line = execFileSync('htpasswd', ['-nbB', '-C', '4', user, password], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    const salt = Buffer.from(randomUUID().replace(/-/g, ''), 'hex')
      .toString('base64')
      .replace(/[^A-Za-z0-9]/g, '.')
      .slice(0, 22)
      .padEnd(22, '.');
    const hash = execFileSync(
      'python3',
      [
        '-W',
        'ignore',
        '-c',
        'import crypt,sys; print(crypt.crypt(sys.argv[1], sys.argv[2]))',
        password,
        `$2b$04$${salt}`,
      ],
      { encoding: 'utf8' },
    ).trim();
    if (!hash.startsWith('$2b$04$')) throw new Error('no bcrypt: install apache2-utils (htpasswd)');
    line = `${user}:${hash}`;
  }
  writeFileSync(path, `${line}\n`);
  return path;
}

export function htpasswdAuth(path: string): string {
  return `{htpasswd: {realm: test-realm, path: "${path}"}}`;
}

export interface TokenServer {
  url: string;
  /** The `auth:` value for the registry's config. */
  auth: string;
  /** How many tokens it issued. */
  issued: () => number;
  stop(): Promise<void>;
}

/**
 * A small token server for distribution's token auth: checks Basic credentials and issues ES256 JWTs whose
 * `x5c` header carries a self-signed certificate the registry trusts as its root bundle (made with openssl).
 */
export async function startTokenServer(dir: string, user: string, password: string): Promise<TokenServer> {
  const keyPath = join(dir, 'token.key');
  const certPath = join(dir, 'token.crt');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      keyPath,
      '-out',
      certPath,
      '-days',
      '1',
      '-subj',
      '/CN=cosignkit test token issuer',
    ],
    { stdio: 'ignore' },
  );
  const key = createPrivateKey(readFileSync(keyPath));
  const certDer = readFileSync(certPath, 'utf8').replace(/-----[^-]+-----|\s/g, '');
  const b64url = (v: Buffer | string): string => Buffer.from(v).toString('base64url');
  let issued = 0;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const expected = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"bad credentials"}');
      return;
    }
    const access = url.searchParams.getAll('scope').map((s) => {
      const [type, name, actions] = s.split(':');
      return { type, name, actions: (actions ?? '').split(',').filter(Boolean) };
    });
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ alg: 'ES256', typ: 'JWT', x5c: [certDer] }));
    const claims = b64url(
      JSON.stringify({
        iss: 'cosignkit-test-issuer',
        sub: user,
        aud: url.searchParams.get('service'),
        exp: now + 300,
        nbf: now - 10,
        iat: now,
        jti: randomUUID(),
        access,
      }),
    );
    const signature = sign('sha256', Buffer.from(`${header}.${claims}`), { key, dsaEncoding: 'ieee-p1363' });
    issued++;
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ token: `${header}.${claims}.${b64url(signature)}`, expires_in: 300 }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const url = `http://127.0.0.1:${port}/token`;
  return {
    url,
    auth: `{token: {realm: "${url}", service: cosignkit-test-registry, issuer: cosignkit-test-issuer, rootcertbundle: "${certPath}"}}`,
    issued: () => issued,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** A DOCKER_CONFIG directory with `auths` for the registry, as `docker login` writes it. */
export function writeDockerConfig(dir: string, registry: string, user: string, password: string): string {
  const configDir = join(dir, 'docker');
  execFileSync('mkdir', ['-p', configDir]);
  writeFileSync(
    join(configDir, 'config.json'),
    JSON.stringify({ auths: { [registry]: { auth: Buffer.from(`${user}:${password}`).toString('base64') } } }),
    { mode: 0o600 },
  );
  return configDir;
}
