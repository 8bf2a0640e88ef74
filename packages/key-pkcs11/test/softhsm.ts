// Test harness: a SoftHSM2 token of the test's own, in a temp dir (own softhsm2.conf and token dir).
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const SOFTHSM_MODULE = process.env.SOFTHSM2_MODULE ?? '/usr/lib/softhsm/libsofthsm2.so';

/** Distinctive enough that finding it in any output proves a leak. */
export const TEST_PIN = 'Pk11-Distinctive-Pin-7391';
export const TEST_SO_PIN = 'So-Pin-Distinctive-4410';

export interface SoftHsm {
  dir: string;
  conf: string;
  modulePath: string;
  pinFile: string;
  /** `pkcs11:token=<label>[;object=…]?module-path=…&pin-source=file:…` */
  ref(label: string, object?: string): string;
  initToken(label: string, pin?: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Creates the token directory and config, and points SOFTHSM2_CONF at it: SoftHSM reads it at C_Initialize,
 * so this must run before the first open in the process (vitest runs each test file in its own process).
 */
export async function startSoftHsm(tokens: string[]): Promise<SoftHsm> {
  const dir = await mkdtemp(join(tmpdir(), 'cosignkit-softhsm-'));
  const conf = join(dir, 'softhsm2.conf');
  await writeFile(
    conf,
    `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`,
  );
  await run('mkdir', ['-p', join(dir, 'tokens')]);
  const pinFile = join(dir, 'user.pin');
  await writeFile(pinFile, `${TEST_PIN}\n`, { mode: 0o600 });
  process.env.SOFTHSM2_CONF = conf;
  const hsm: SoftHsm = {
    dir,
    conf,
    modulePath: SOFTHSM_MODULE,
    pinFile,
    ref: (label, object) =>
      `pkcs11:token=${encodeURIComponent(label)}${object === undefined ? '' : `;object=${encodeURIComponent(object)}`}` +
      `?module-path=${SOFTHSM_MODULE}&pin-source=file:${pinFile}`,
    async initToken(label, pin = TEST_PIN) {
      // softhsm2-util takes PINs only in argv: acceptable for this test-setup tool, never for cosignkit itself.
      await run('softhsm2-util', ['--init-token', '--free', '--label', label, '--so-pin', TEST_SO_PIN, '--pin', pin], {
        env: { ...process.env, SOFTHSM2_CONF: conf },
      });
    },
    async stop() {
      await rm(dir, { recursive: true, force: true });
    },
  };
  for (const label of tokens) await hsm.initToken(label);
  return hsm;
}

/** Every string an error exposes: message, stack, details, and the same down its cause chain. */
export function errorText(error: unknown, depth = 0): string {
  if (depth > 5 || error === null || error === undefined) return '';
  if (typeof error !== 'object') return String(error);
  const e = error as { message?: unknown; stack?: unknown; details?: unknown; cause?: unknown };
  let details = '';
  try {
    details = JSON.stringify(e.details ?? {});
  } catch {
    details = String(e.details);
  }
  return [String(e.message ?? ''), String(e.stack ?? ''), details, String(error), errorText(e.cause, depth + 1)].join(
    '\n',
  );
}
