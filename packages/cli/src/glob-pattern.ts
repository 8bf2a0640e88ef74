/**
 * Whether an argument reads as a glob pattern (`*`, `?`, `[`, `{`): one such argument makes a blob command a
 * batch. A tiny module of its own so the one-file path can ask without loading the batch code.
 */
export function looksLikeGlob(argument: string): boolean {
  return /[*?[{]/.test(argument);
}
