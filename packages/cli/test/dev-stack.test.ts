import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'cosignkit-cli-devstack-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cosignkit dev-stack', () => {
  it('writes its files, prints the exports, serves until SIGTERM, then exits 0', async () => {
    const out = join(dir, 'stack');
    const child = spawn(CLI, ['dev-stack', '--dir', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const deadline = Date.now() + 60_000;
    while (!stdout.includes('SIGSTORE_TSA_CERTIFICATE_FILE') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(stdout).toMatch(/^export SIGSTORE_ID_TOKEN='[\w-]+\.[\w-]+\.[\w-]+'$/m);
    for (const name of ['trusted_root.json', 'signing_config.json', 'stack.json'])
      expect(existsSync(join(out, name))).toBe(true);
    expect(statSync(join(out, 'stack.json')).mode & 0o777).toBe(0o600);
    const info = JSON.parse(readFileSync(join(out, 'stack.json'), 'utf8')) as Record<string, string>;
    const discovery = (await (await fetch(`${info.issuerUrl}/.well-known/openid-configuration`)).json()) as {
      issuer: string;
    };
    expect(discovery.issuer).toBe(info.issuerUrl);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    await expect(fetch(`${info.issuerUrl}/jwks`)).rejects.toThrow();
  });

  it('needs --dir', async () => {
    const child = spawn(CLI, ['dev-stack'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/\[USAGE\]/);
  });
});
