/**
 * JSON as Go's encoding/json writes it for maps: object keys sorted, and `<`, `>`, `&`, U+2028, U+2029
 * escaped. cosign re-marshals predicates through Go maps, so this makes cosignkit's payload bytes match.
 */
export function goJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return goEscape(JSON.stringify(value) ?? 'null');
  if (Array.isArray(value)) return `[${value.map((v) => goJson(v)).join(',')}]`;
  const keys = Object.keys(value).sort(compareUtf16AsBytes);
  return `{${keys.map((k) => `${goEscape(JSON.stringify(k))}:${goJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
}

/** Object members in the order given (a Go struct), values written with goJson. */
export function goStruct(fields: readonly (readonly [string, unknown])[]): string {
  return `{${fields.map(([k, v]) => `${goEscape(JSON.stringify(k))}:${goJson(v)}`).join(',')}}`;
}

/** A value already written as JSON, embedded verbatim by goStruct/goJson callers. */
export function goEscape(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

// Go sorts map keys by their UTF-8 bytes; comparing code points gives the same order.
function compareUtf16AsBytes(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}
