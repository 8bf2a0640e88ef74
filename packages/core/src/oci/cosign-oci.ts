import type { CosignRunner } from '../engines/cosign/cosign-runner.js';
import { cosignError, cosignReason, isVerificationMismatch } from '../engines/cosign/cosign-errors.js';
import type { VerificationFailure } from '../contracts/verification-result.js';

/** argv pieces shared by cosign's registry commands. */
export interface CosignRegistryArgs {
  /** The key for cosign's `--key`: a key file, a PEM public key, or `cosignkit://…`. */
  key: string;
  image: string;
  allowHttp?: boolean;
}

function registryFlags(o: CosignRegistryArgs): string[] {
  return o.allowHttp ? ['--allow-http-registry', '--allow-insecure-registry'] : [];
}

/** `cosign sign` (legacy layout, no log) of an image given by digest. */
export async function cosignSign(
  runner: CosignRunner,
  o: CosignRegistryArgs & { password?: string; annotations?: Record<string, string>; signal?: AbortSignal },
): Promise<void> {
  const args = ['sign', '--key', o.key, '--tlog-upload=false', '--yes', ...registryFlags(o)];
  if (runner.info.grammar === 'v3') args.push('--new-bundle-format=false', '--use-signing-config=false');
  for (const [k, v] of Object.entries(o.annotations ?? {})) args.push('-a', `${k}=${v}`);
  args.push(o.image);
  const out = await runner.run(args, { secretEnv: { COSIGN_PASSWORD: o.password ?? '' }, signal: o.signal });
  if (out.exitCode !== 0) throw cosignError('sign', out);
}

/** `cosign attest` of an image given by digest; `bundle` writes the Sigstore-bundle referrer. */
export async function cosignAttest(
  runner: CosignRunner,
  o: CosignRegistryArgs & { password?: string; predicate: string; type: string; bundle: boolean; signal?: AbortSignal },
): Promise<void> {
  const args = ['attest', '--key', o.key, '--tlog-upload=false', '--yes', '--predicate', o.predicate, '--type', o.type, ...registryFlags(o)];
  if (o.bundle) args.push('--new-bundle-format');
  else if (runner.info.grammar === 'v3') args.push('--new-bundle-format=false', '--use-signing-config=false');
  args.push(o.image);
  const out = await runner.run(args, { secretEnv: { COSIGN_PASSWORD: o.password ?? '' }, signal: o.signal });
  if (out.exitCode !== 0) throw cosignError('attest', out);
}

/**
 * `cosign verify` / `verify-attestation` with a PEM public key, no log. A mismatch or a missing signature is
 * a failure in the result; anything else throws. Returns the payloads cosign printed.
 */
export async function cosignVerifyImage(
  runner: CosignRunner,
  o: CosignRegistryArgs & { attestationType?: string; signal?: AbortSignal },
): Promise<{ verified: boolean; payloads: unknown[]; failure?: VerificationFailure }> {
  const command = o.attestationType === undefined ? 'verify' : 'verify-attestation';
  const args = [command, '--key', o.key, '--insecure-ignore-tlog', ...registryFlags(o)];
  if (o.attestationType !== undefined) args.push('--type', o.attestationType);
  args.push(o.image);
  const out = await runner.run(args, { secretEnv: { COSIGN_PASSWORD: '' }, signal: o.signal });
  if (out.exitCode === 0) return { verified: true, payloads: parsePrinted(out.stdout) };
  if (isVerificationMismatch(out) || /no (matching )?(signatures|attestations)|none of the attestations matched/i.test(out.stderr)) {
    return { verified: false, payloads: [], failure: { code: 'VERIFICATION_FAILED', message: `cosign: ${cosignReason(out.stderr)}` } };
  }
  throw cosignError(command, out);
}

/**
 * Whether a payload cosign printed names the image digest: a simple-signing payload's
 * `critical.image.docker-manifest-digest` (verify), or an in-toto statement subject inside the DSSE envelope
 * (verify-attestation).
 */
export function payloadNamesDigest(payload: unknown, digest: string): boolean {
  const p = payload as { critical?: { image?: { 'docker-manifest-digest'?: unknown } }; payload?: unknown };
  if (p?.critical) return p.critical.image?.['docker-manifest-digest'] === digest;
  if (typeof p?.payload !== 'string') return false;
  try {
    const statement = JSON.parse(Buffer.from(p.payload, 'base64').toString('utf8')) as { subject?: { digest?: Record<string, unknown> }[] };
    const hex = digest.slice('sha256:'.length);
    return Array.isArray(statement.subject) && statement.subject.some((s) => s?.digest?.sha256 === hex);
  } catch {
    return false;
  }
}

/** cosign prints a JSON array (verify) or one JSON object per line (verify-attestation). */
function parsePrinted(stdout: string): unknown[] {
  const text = stdout.trim();
  if (!text) return [];
  try {
    const value = JSON.parse(text) as unknown;
    return Array.isArray(value) ? value : [value];
  } catch {
    return text.split('\n').flatMap((line) => {
      try {
        return [JSON.parse(line) as unknown];
      } catch {
        return [];
      }
    });
  }
}
