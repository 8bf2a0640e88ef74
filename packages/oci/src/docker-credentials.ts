import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CosignkitError } from '@cosignkit/core';

export interface RegistryCredentials {
  username: string;
  password: string;
}

export type CredentialSource = (registry: string) => Promise<RegistryCredentials | undefined>;

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/**
 * Credentials as docker and cosign find them: `$DOCKER_CONFIG/config.json` (else `~/.docker/config.json`),
 * `credHelpers` for the host, else `auths`, else `credsStore`.
 */
export function dockerConfigCredentials(env: NodeJS.ProcessEnv = process.env): CredentialSource {
  let config: Promise<DockerConfig> | undefined;
  return async (registry) => {
    config ??= readDockerConfig(env);
    const c = await config;
    const keys =
      registry === 'index.docker.io'
        ? ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io']
        : [registry, `https://${registry}`, `http://${registry}`];
    const helper = keys.map((k) => c.credHelpers?.[k]).find(Boolean);
    if (helper) return fromHelper(helper, keys[0]!, env);
    const auth = keys.map((k) => c.auths?.[k]).find(Boolean);
    if (auth?.auth) {
      const decoded = Buffer.from(auth.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
    if (auth?.username && auth.password !== undefined) return { username: auth.username, password: auth.password };
    if (auth?.identitytoken) return { username: '<token>', password: auth.identitytoken };
    if (c.credsStore) return fromHelper(c.credsStore, keys[0]!, env);
    return undefined;
  };
}

async function readDockerConfig(env: NodeJS.ProcessEnv): Promise<DockerConfig> {
  const path = join(env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker'), 'config.json');
  try {
    return JSON.parse(await readFile(path, 'utf8')) as DockerConfig;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CosignkitError('USAGE', `cannot read docker config ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Runs `docker-credential-<helper> get` with the server URL on stdin, as docker does. */
function fromHelper(helper: string, server: string, env: NodeJS.ProcessEnv): Promise<RegistryCredentials | undefined> {
  return new Promise((resolve, reject) => {
    const child = spawn(`docker-credential-${helper}`, ['get'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', (error) =>
      reject(
        new CosignkitError(
          'BACKEND_UNAVAILABLE',
          `credential helper docker-credential-${helper} cannot run: ${error.message}`,
          { cause: error },
        ),
      ),
    );
    child.on('close', (code) => {
      if (code !== 0) return resolve(undefined); // "credentials not found" exits non-zero
      try {
        const { Username, Secret } = JSON.parse(out) as { Username: string; Secret: string };
        resolve({ username: Username, password: Secret });
      } catch (error) {
        reject(new CosignkitError('BACKEND_FAILURE', `credential helper ${helper} printed no JSON`, { cause: error }));
      }
    });
    child.stdin.end(server);
  });
}
