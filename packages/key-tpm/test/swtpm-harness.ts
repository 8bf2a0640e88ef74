import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A real swtpm of the test's own: its own state directory and its own port pair on 127.0.0.1. */
export interface Swtpm {
  dir: string;
  port: number;
  ctrlPort: number;
  tcti: string;
  /** Stops this swtpm (by its PID) and removes its directory. */
  stop(): Promise<void>;
  /** Stops the process but keeps the directory (to test "TPM down"). */
  kill(): Promise<void>;
}

export async function startSwtpm(): Promise<Swtpm> {
  const dir = await mkdtemp(join(tmpdir(), 'cosignkit-swtpm-'));
  await mkdir(join(dir, 'state'));
  for (let attempt = 0; ; attempt++) {
    const port = await freePortPair();
    const child = spawn(
      'swtpm',
      [
        'socket',
        '--tpm2',
        '--tpmstate',
        `dir=${join(dir, 'state')}`,
        '--server',
        `type=tcp,port=${port},bindaddr=127.0.0.1`,
        '--ctrl',
        `type=tcp,port=${port + 1},bindaddr=127.0.0.1`,
        '--flags',
        'not-need-init,startup-clear',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const up = await Promise.race([waitForPort(port), exited.then(() => false)]);
    if (up) {
      const kill = () => stopChild(child, exited);
      return {
        dir,
        port,
        ctrlPort: port + 1,
        tcti: `swtpm:host=127.0.0.1,port=${port}`,
        kill,
        async stop() {
          await kill();
          await rm(dir, { recursive: true, force: true });
        },
      };
    }
    await stopChild(child, exited);
    if (attempt >= 4) throw new Error(`swtpm did not start: ${stderr.trim()}`);
  }
}

async function stopChild(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

/** A port P such that P and P+1 are both free now (swtpm takes the pair). */
async function freePortPair(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port: p } = server.address() as { port: number };
        server.close(() => resolve(p));
      });
    });
    if (port < 65000 && (await isFree(port + 1))) return port;
  }
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function waitForPort(port: number): Promise<boolean> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}
