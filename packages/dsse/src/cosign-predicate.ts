import { CosignkitError } from '@cosignkit/core';
import { goEscape, goJson, goStruct } from './go-json.js';
import { PREDICATE_TYPES, resolvePredicateType } from './predicate-types.js';
import { STATEMENT_V01, STATEMENT_V1, type Subject } from './statement.js';

// Fields cosign requires before unmarshalling into its Go structs (the non-omitempty JSON tags).
const REQUIRED_FIELDS: Readonly<Record<string, readonly string[]>> = {
  slsaprovenance: ['builder', 'buildType'],
  slsaprovenance02: ['builder', 'buildType'],
  slsaprovenance1: ['buildDefinition', 'runDetails'],
  link: ['_type', 'name', 'materials', 'products', 'byproducts', 'command', 'environment'],
};

export interface CosignStatementInput {
  /** A cosign `--type` name or a predicate type URI. */
  type: string;
  /** The predicate file's bytes. */
  predicate: Uint8Array;
  subjects: readonly Subject[];
  /** Statement version: cosign 2.x writes v0.1; v1 is the current in-toto version. */
  version?: 'v1' | 'v0.1';
  /** The time `custom` predicates record (cosign: now, UTC, whole seconds). */
  now?: Date;
}

/**
 * The statement payload cosign's `attest-blob` would write for a predicate file and `--type`: `custom`
 * wraps the file as `{"Data": <text>, "Timestamp": <RFC 3339>}`, `spdx` embeds it as a string, every other
 * type embeds the parsed JSON with keys sorted as Go writes maps. (cosign re-shapes SLSA, link and vuln
 * predicates through Go structs, which adds empty defaults; cosignkit keeps the predicate's own fields.)
 */
export function cosignStatementPayload(input: CosignStatementInput): Buffer {
  const predicateType = resolvePredicateType(input.type);
  const text = Buffer.from(input.predicate).toString('utf8');
  let predicateJson: string;
  if (input.type === 'custom' || predicateType === PREDICATE_TYPES.custom) {
    const stamp = (input.now ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    predicateJson = goStruct([
      ['Data', text],
      ['Timestamp', stamp],
    ]);
  } else if (input.type === 'spdx') {
    predicateJson = goJson(text);
  } else {
    const parsed = parsePredicate(text, predicateType);
    const anyJson = input.type === 'spdxjson' || input.type === 'cyclonedx';
    if (!anyJson && (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))) {
      throw new CosignkitError('USAGE', `the predicate for ${predicateType} must be a JSON object`);
    }
    for (const field of REQUIRED_FIELDS[input.type] ?? []) {
      if (!Object.hasOwn(parsed as object, field)) {
        throw new CosignkitError('USAGE', `the ${input.type} predicate lacks the required field "${field}"`);
      }
    }
    predicateJson = goJson(parsed);
  }
  const subjects = `[${input.subjects
    .map((s) =>
      goStruct(
        s.name === undefined
          ? [['digest', s.digest]]
          : [
              ['name', s.name],
              ['digest', s.digest],
            ],
      ),
    )
    .join(',')}]`;
  const type = input.version === 'v1' ? STATEMENT_V1 : STATEMENT_V01;
  return Buffer.from(
    `{"_type":${goEscape(JSON.stringify(type))},"predicateType":${goEscape(JSON.stringify(predicateType))},` +
      `"subject":${subjects},"predicate":${predicateJson}}`,
    'utf8',
  );
}

function parsePredicate(text: string, predicateType: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CosignkitError('USAGE', `invalid JSON predicate for ${predicateType}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
