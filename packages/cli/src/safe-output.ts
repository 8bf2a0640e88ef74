/**
 * What the CLI prints on success is escaped like its errors: file names and registry or file text can hold
 * ESC, CR, newlines or bidi controls, and `Wrote bundle to <name>` must not be able to move the cursor, fake
 * a line ("cosignkit: Verified OK") or reorder what is shown. The same characters as core's escapeForTerminal
 * (kept here so that printing a result never loads core).
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** One line for people: every unsafe character as a visible escape (`\x1b`, `\n`, `\u202e`). */
export function safeLine(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const named = NAMED[c];
    if (named) return named;
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Lines for people: each line escaped, the line breaks kept. */
export function safeLines(text: string): string {
  return text.split('\n').map(safeLine).join('\n');
}

/**
 * JSON text (the --json result, an envelope printed on stdout): JSON.stringify leaves DEL, C1 controls and
 * U+2028/2029 and bidi marks raw inside strings; `\uXXXX` is the same value for a JSON reader and inert on
 * a terminal. Outside strings JSON has no such characters, so the document stays valid.
 */
export function safeJson(text: string): string {
  return text.replace(
    /[\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Text a command printed on stdout: a JSON document keeps its form, anything else is escaped per line. */
export function safeText(text: string): string {
  const body = text.trimEnd();
  if ((body.startsWith('{') || body.startsWith('[')) && isJson(body)) return safeJson(text);
  return safeLines(text);
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    // JSON lines (download): each line its own document.
    return text.split('\n').every((line) => {
      try {
        JSON.parse(line);
        return true;
      } catch {
        return false;
      }
    });
  }
}
