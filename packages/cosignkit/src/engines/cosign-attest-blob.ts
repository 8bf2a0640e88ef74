import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CosignkitError,
  cosignError,
  removeQuietly,
  renameAll,
  reserveTempFile,
  tempPathFor,
  type CosignRunner,
} from '@cosignkit/core';

export interface CosignAttestBlobOptions {
  /** A key file or `cosignkit://…` (the plugin). */
  key: string;
  password?: string;
  file: string;
  predicate: string;
  type: string;
  statementVersion: 'v0.1' | 'v1';
  outputFile?: string;
  bundle?: string;
  legacyBundle: boolean;
  signal?: AbortSignal;
}

/**
 * `cosign attest-blob` (no log): cosign writes the envelope (and the bundle) to temp files beside the
 * targets, renamed into place only when it succeeded, so a failure leaves no output half-written.
 */
export async function cosignAttestBlob(
  runner: CosignRunner,
  o: CosignAttestBlobOptions,
): Promise<{ envelope: string; subjects: { name?: string; digest: Record<string, string> }[] }> {
  if (o.statementVersion !== 'v0.1') {
    throw new CosignkitError(
      'NOT_SUPPORTED',
      'cosign attest-blob writes in-toto v0.1 statements: use --engine native for --statement-version v1',
    );
  }
  const scratch = o.outputFile === undefined ? await mkdtemp(join(tmpdir(), 'cosignkit-attest-')) : undefined;
  const envelopeTemp = o.outputFile === undefined ? join(scratch!, 'envelope.json') : tempPathFor(o.outputFile);
  const bundleTemp = o.bundle === undefined ? undefined : tempPathFor(o.bundle);
  const args = [
    'attest-blob',
    '--key',
    o.key,
    '--predicate',
    o.predicate,
    '--type',
    o.type,
    '--tlog-upload=false',
    '--output-signature',
    envelopeTemp,
  ];
  if (bundleTemp !== undefined) {
    args.push('--bundle', bundleTemp);
    if (!o.legacyBundle) args.push('--new-bundle-format');
    else if (runner.info.grammar === 'v3') args.push('--new-bundle-format=false');
  }
  if (runner.info.grammar === 'v3') args.push('--use-signing-config=false');
  args.push(o.file);
  try {
    if (o.outputFile !== undefined) await reserveTempFile(envelopeTemp, o.outputFile);
    if (bundleTemp !== undefined) await reserveTempFile(bundleTemp, o.bundle!);
    const out = await runner.run(args, { secretEnv: { COSIGN_PASSWORD: o.password ?? '' }, signal: o.signal });
    if (out.exitCode !== 0) throw cosignError('attest-blob', out);
    const envelope = (await readFile(envelopeTemp, 'utf8')).trim();
    // As cosign prints it and the native engine writes it: the JSON and one newline.
    if (o.outputFile !== undefined) await writeFile(envelopeTemp, `${envelope}\n`);
    const moves = [];
    if (o.outputFile !== undefined) moves.push({ from: envelopeTemp, to: o.outputFile });
    if (bundleTemp !== undefined) moves.push({ from: bundleTemp, to: o.bundle! });
    await renameAll(moves);
    return { envelope, subjects: subjectsOf(envelope) };
  } finally {
    await removeQuietly([envelopeTemp, ...(bundleTemp ? [bundleTemp] : [])]);
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}

/** The statement's subjects, for the result (cosign prints none). */
function subjectsOf(envelope: string): { name?: string; digest: Record<string, string> }[] {
  try {
    const payload = JSON.parse(envelope).payload as string;
    const statement = JSON.parse(Buffer.from(payload, 'base64').toString('utf8')) as {
      subject?: { name?: string; digest: Record<string, string> }[];
    };
    return statement.subject ?? [];
  } catch (error) {
    throw new CosignkitError('ENVELOPE_MALFORMED', 'cosign attest-blob wrote an envelope that is not DSSE JSON', {
      cause: error,
    });
  }
}
