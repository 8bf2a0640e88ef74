import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunningRegistry {
  /** `127.0.0.1:<port>` */
  host: string;
  dir: string;
  stop(): Promise<void>;
}

/**
 * Starts the real Debian `docker-registry` (CNCF distribution 2.8) on a free loopback port with in-memory
 * storage. `auth` is inserted verbatim into its config (htpasswd or token).
 */
export async function startRegistry(options: { auth?: string } = {}): Promise<RunningRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'cosignkit-registry-'));
  const config = [
    'version: 0.1',
    'log: {level: info, accesslog: {disabled: true}}',
    'storage: {inmemory: {}, delete: {enabled: true}, maintenance: {uploadpurging: {enabled: false}}}',
    'http: {addr: "127.0.0.1:0", secret: test-only}',
    ...(options.auth ? [`auth: ${options.auth}`] : []),
  ].join('\n');
  await writeFile(join(dir, 'config.yml'), config);
  // The log goes to a file, not a pipe: a test that blocks its event loop (execFileSync) must not leave the
  // registry stuck writing to a full pipe.
  const logPath = join(dir, 'registry.log');
  const log = await open(logPath, 'w');
  const child = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', log.fd] });
  await log.close();
  const host = await new Promise<string>((resolve, reject) => {
    const started = Date.now();
    child.on('error', (e) =>
      reject(new Error(`cannot run docker-registry (apt-get install docker-registry): ${e.message}`)),
    );
    child.on(
      'exit',
      (code) =>
        void readFile(logPath, 'utf8').then((text) => reject(new Error(`docker-registry exited ${code}:\n${text}`))),
    );
    const poll = async (): Promise<void> => {
      const text = await readFile(logPath, 'utf8').catch(() => '');
      const m = /listening on (127\.0\.0\.1:\d+)/.exec(text);
      if (m) return resolve(m[1]!);
      if (Date.now() - started > 10_000) return reject(new Error(`docker-registry did not start:\n${text}`));
      setTimeout(() => void poll(), 10);
    };
    void poll();
  });
  return { host, dir, stop: () => stop(child, dir) };
}

async function stop(child: ChildProcess, dir: string): Promise<void> {
  if (child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  await rm(dir, { recursive: true, force: true });
}
