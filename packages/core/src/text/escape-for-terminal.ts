/**
 * Makes text from an untrusted party (a registry's digests, annotations, error messages) safe to print on a
 * terminal: C0 and C1 control characters (newline, carriage return and ESC included), DEL, and the Unicode
 * bidirectional and line/paragraph separators are written as visible escapes (`\n`, `\x1b`, `\u202e`), so
 * no such text can start a line, move the cursor, recolour the output or reorder what is shown.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

export function escapeForTerminal(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const named = NAMED[c];
    if (named) return named;
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
