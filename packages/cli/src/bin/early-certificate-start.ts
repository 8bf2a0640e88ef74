// In sign-blob's hot bundle only (sign-blob-main.ts), run as the bundle loads, before main.
import { loadConfigSync } from '@cosignkit/core/config';
import {
  prestartCertificateRequest,
  resolveSigningServicesWithoutConfig,
} from '@cosignkit/sigstore/certificate-prestart';
import { booleanFlag, parseFlags, stringFlag } from '../args.js';
import { SIGN_BLOB_FLAGS } from '../commands/sign-blob-flags.js';
import { parseGlobals } from '../global-flags.js';
import { looksLikeGlob } from '../glob-pattern.js';

/** Flags after which the command would not send this request, or not certainly: the line keeps today's path. */
const NOT_HERE = ['key', 'push', 'identity-token', 'signing-config'] as const;

/**
 * Starts a keyless sign-blob's Fulcio request before the command loads, when the command line alone makes it
 * certain that the command will send that very request (@cosignkit/sigstore/certificate-prestart: the same
 * key type, body, Fulcio and token; the command's EphemeralCertificateKey takes it over). A certificate asked
 * for is issued, and a real Fulcio logs it, so a line the command would refuse before asking must not get
 * here; every check below is the command's own, run the way the command runs it, and anything else returns
 * false (the command then asks Fulcio itself, as it always did):
 * - main: the global flags parse, no help, not the cosign engine, the command is sign-blob;
 * - sign-blob: the line parses with its flag table and names one file that is not a glob (no batch); no
 *   --key, no --push (the mode is keyless: --fulcio-url asks for it);
 * - the context: the config files load (loadConfig would refuse the same files);
 * - signBlobWithServices: --bundle given, not --new-bundle-format=false, the file a regular file;
 * - prepareSigner: the services from the flags alone (no --signing-config: reading one is the command's
 *   work), the token from $SIGSTORE_ID_TOKEN (no --identity-token), well formed and unexpired.
 */
export function startEarlyCertificate(argv: readonly string[], env: NodeJS.ProcessEnv, cwd = process.cwd()): boolean {
  try {
    const token = env.SIGSTORE_ID_TOKEN?.trim();
    // Two scans of argv first: a keyed sign-blob (most of this bundle's runs) pays for nothing more.
    if (!token || !argv.some((t) => t === '--fulcio-url' || t.startsWith('--fulcio-url='))) return false;
    const globals = parseGlobals(argv);
    if (globals.help || globals.engine === 'cosign' || globals.rest[0] !== 'sign-blob') return false;
    const flags = parseFlags('sign-blob', globals.rest.slice(1), SIGN_BLOB_FLAGS, {
      min: 1,
      max: 1,
      names: 'the file to sign',
    });
    const file = flags.positionals[0]!;
    const fulcioUrl = stringFlag(flags, 'fulcio-url');
    if (looksLikeGlob(file) || fulcioUrl === undefined || NOT_HERE.some((name) => flags.values[name] !== undefined))
      return false;
    if (stringFlag(flags, 'bundle') === undefined || booleanFlag(flags, 'new-bundle-format') === false) return false;
    const where = process.getBuiltinModule('node:path').resolve(cwd, file);
    if (!process.getBuiltinModule('node:fs').statSync(where, { throwIfNoEntry: false })?.isFile()) return false;
    loadConfigSync({ cwd, env });
    const tlogUpload = booleanFlag(flags, 'tlog-upload');
    const services = resolveSigningServicesWithoutConfig({
      keyless: true,
      fulcioUrl,
      rekorUrl: stringFlag(flags, 'rekor-url'),
      timestampServerUrl: stringFlag(flags, 'timestamp-server-url'),
      ...(tlogUpload !== undefined ? { tlogUpload } : {}),
    });
    return prestartCertificateRequest(services.fulcioUrl!, token);
  } catch {
    return false;
  }
}
