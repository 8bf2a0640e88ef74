import { escapeForTerminal, MALFORMED_INPUT_CODES, type RegistryVerificationResult } from '@cosignkit/core';
import type { RoleOptions } from 'cosignkit';
import { booleanFlag, type ParsedFlags } from '../args.js';
import type { CommandContext, CommandResult } from '../command.js';
import { usageError } from '../usage-error.js';
import { registryTimeoutMs } from './registry-timeout.js';
import { roleOptions } from '../role-options.js';

export { REGISTRY_FLAGS, REGISTRY_HELP } from './registry-flags.js';

/** The role options of a registry command (engine, keys, plain-HTTP permission) from its context and flags. */
export function ociRoleOptions(context: CommandContext, flags: ParsedFlags): RoleOptions {
  return {
    ...roleOptions(context),
    allowHttp:
      booleanFlag(flags, 'allow-http-registry') === true || booleanFlag(flags, 'allow-insecure-registry') === true,
    registryTimeoutMs: registryTimeoutMs(flags, context.env),
  };
}

/** `-a key=value` annotations. */
export function parseAnnotations(command: string, values: unknown): Record<string, string> | undefined {
  const list = Array.isArray(values) ? (values as string[]) : typeof values === 'string' ? [values] : [];
  if (list.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw usageError(command, `annotation "${item}" is not key=value`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

export function parseFormat(command: string, value: string | undefined): 'legacy' | 'bundle' | undefined {
  if (value === undefined) return undefined;
  if (value !== 'legacy' && value !== 'bundle') throw usageError(command, '--format takes legacy or bundle');
  return value;
}

/**
 * The command result of a registry verification: the payloads on stdout when verified; exit 2 when no
 * signature verifies, 3 when every signature found is malformed.
 */
export function verificationOutcome(result: RegistryVerificationResult, what: string, keyless = false): CommandResult {
  const data = { ...result };
  const withNotes = (r: CommandResult): CommandResult => ({ ...r, notes: r.notes?.map(escapeForTerminal) });
  if (result.verified) {
    const payloads = result.payloads;
    return withNotes({
      text: JSON.stringify(payloads),
      data,
      notes: [
        `engine: ${result.engine}`,
        `Verification for ${result.image} --`,
        'The following checks were performed on each of these signatures:',
        ...(keyless ? keylessChecks(result) : [`  - The ${what} were verified against the specified public key`]),
        `  - ${result.signatures.filter((s) => s.verified).length} of ${result.signatures.length} found verified`,
      ],
    });
  }
  const malformedOnly =
    result.failures.length > 0 &&
    result.failures.every((f) => (MALFORMED_INPUT_CODES as ReadonlySet<string>).has(f.code));
  // The failure messages quote the registry's digests and annotations: escaped so none can fake a line.
  return withNotes({
    exitCode: malformedOnly ? 3 : 2,
    data,
    // One line for people, like every other failure: all reasons, the first malformed code or VERIFICATION_FAILED.
    notes: [
      `cosignkit: verification failed: ${result.failures.map((f) => f.message).join('; ')} [${malformedOnly ? result.failures[0]!.code : 'VERIFICATION_FAILED'}]`,
    ],
  });
}

export function requireKey(command: string, key: string | undefined): string {
  if (key === undefined) throw usageError(command, 'no key: pass --key <ref> or set a default key');
  return key;
}

/** cosign's keyless check list, and who signed each verified signature. */
function keylessChecks(result: RegistryVerificationResult): string[] {
  const root = (result as { trustedRoot?: { kind?: string; path?: string; instance?: string } }).trustedRoot;
  const logged = result.signatures.some((x) => x.verified && (x.tlogEntries?.length ?? 0) > 0);
  const lines = [
    '  - The cosign claims were validated',
    ...(logged ? ['  - Existence of the claims in the transparency log was verified offline'] : []),
    '  - The code-signing certificate was verified using trusted certificate authority certificates',
  ];
  if (root)
    lines.push(`  - trusted root: ${root.kind === 'file' ? root.path : `${root.instance ?? ''} (${root.kind})`}`);
  for (const s of result.signatures.filter((x) => x.verified && x.certificate)) {
    lines.push(`  - signed by ${s.certificate!.identity} (issuer ${s.certificate!.issuer})`);
  }
  return lines;
}
