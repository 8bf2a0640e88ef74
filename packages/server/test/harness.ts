import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BackendRegistry } from '@cosignkit/core';
import {
  createSignerServer,
  parseServerConfig,
  SignerClient,
  type ReleaseChecker,
  type SignerServer,
} from '../src/index.js';
import { createDevEnvironment, type DevEnvironment } from '../src/dev/dev-environment.js';
import { createServerLogger } from '../src/server-logger.js';
import { Writable } from 'node:stream';

export interface Running {
  url: string;
  env: DevEnvironment;
  server: SignerServer;
  /** Every log line the server wrote (JSON text). */
  logLines: string[];
  client(overrides?: Partial<ConstructorParameters<typeof SignerClient>[0]>): Promise<SignerClient>;
  close(): Promise<void>;
}

/** A real server on loopback with the dev environment, `patch` applied to its config. */
export async function startServer(
  patch: (config: Record<string, any>) => void = () => {},
  options: { release?: ReleaseChecker; dir?: string; env?: DevEnvironment } = {},
): Promise<Running> {
  // A second replica shares the first one's environment (same authority, licensing key, CA, signing key).
  const dir = options.env?.dir ?? options.dir ?? (await mkdtemp(join(tmpdir(), 'cosignkit-server-')));
  const env = options.env ?? (await createDevEnvironment(dir));
  const raw = structuredClone(env.config) as Record<string, any>;
  patch(raw);
  const config = parseServerConfig(raw, dir);
  const registry = new BackendRegistry({ env: { ...process.env, COSIGN_PASSWORD: '' }, importer: (s) => import(s) });
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logLines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  const server = await createSignerServer({
    config,
    registry,
    logger: createServerLogger('info', sink),
    ...(options.release ? { release: options.release } : {}),
  });
  const url = await server.listen();
  const [ca, cert, key] = await Promise.all([
    readFile(env.files.caCert),
    readFile(env.files.clientCert),
    readFile(env.files.clientKey),
  ]);
  const clients: SignerClient[] = [];
  return {
    url,
    env,
    server,
    logLines,
    async client(overrides = {}) {
      const c = new SignerClient({ url, token: env.opTok, ca, cert, key, ...overrides });
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) c.close();
      await server.close();
      if (!options.dir && !options.env) await rm(dir, { recursive: true, force: true });
    },
  };
}

export const DIGEST = 'a'.repeat(64);
export const SCANNER = `sha256:${'b'.repeat(64)}`;

export function signBody(env: DevEnvironment, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    subject: [{ name: 'app.tgz', digest: { sha256: DIGEST } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: { buildDefinition: { buildType: 'https://example.com/build' }, runDetails: { builder: { id: 'ci' } } },
    scannerImageDigest: SCANNER,
    poe: { format: 'jwt', value: env.poe },
    options: { signingMode: 'kms' },
    ...overrides,
  };
}
