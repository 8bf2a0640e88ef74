import { CosignkitError } from '@cosignkit/core';

/** A cosign `-regexp` flag compiled for JavaScript with Go RE2's meaning. */
export interface GoRegexp {
  source: string;
  regexp: RegExp;
  /** True when the pattern is anchored at both ends (`^…$` or `\A…\z`): otherwise it matches substrings. */
  anchored: boolean;
}

const POSIX_CLASSES: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`\\{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};
// Go's Perl classes are ASCII-only; JavaScript's \s also matches Unicode spaces, so spell them out.
const PERL_IN_CLASS: Record<string, string> = { d: '0-9', w: '0-9A-Za-z_', s: '\\t\\n\\f\\r ' };
const SYNTAX = new Set('\\^$.|?*+()[]{}/'.split(''));

/**
 * Compiles a Go (RE2) regular expression as cosign's `--certificate-identity-regexp` and
 * `--certificate-oidc-issuer-regexp` use it: unanchored (`regexp.MatchString`), so `myorg` matches anywhere.
 * The pattern is translated token by token rather than handed to `new RegExp`, because the dialects differ
 * where it matters for identities: Go's `.` matches `\r` and U+2028, its `\s` is ASCII, `\A`/`\z`, `\Q…\E`,
 * `(?P<name>)`, `[[:alpha:]]`, `\pL` and flag groups `(?i)` exist only in Go; lookaround and backreferences
 * exist only in JavaScript (Go refuses them, and so does this).
 */
export function compileGoRegexp(source: string, flag: string): GoRegexp {
  const fail = (why: string): never => {
    throw new CosignkitError('USAGE', `${flag} "${source}" is not a valid Go regular expression: ${why}`);
  };
  let out = '';
  let i = 0;
  // Leading flags `(?i)`/`(?s)`/`(?m)` become JavaScript flags (RegExp modifier groups need Node ≥ 23).
  let jsFlags = 'u';
  const leading = /^\(\?([ims]+)\)/.exec(source);
  if (leading) {
    jsFlags += [...new Set(leading[1]!)].join('');
    i = leading[0].length;
  }
  const dotAll = jsFlags.includes('s');
  // Each open group remembers how many modifier groups `(?i)` opened inside it, to close them with it.
  const groups: number[] = [0];
  const n = source.length;
  while (i < n) {
    const ch = source[i]!;
    if (ch === '\\') {
      const [text, next] = translateEscape(source, i, false, fail);
      out += text;
      i = next;
    } else if (ch === '[') {
      const [text, next] = translateClass(source, i, fail);
      out += text;
      i = next;
    } else if (ch === '.') {
      out += dotAll ? '[^]' : '[^\\n]';
      i++;
    } else if (ch === '(') {
      if (source.startsWith('(?', i)) {
        const named = /^\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>/.exec(source.slice(i));
        if (named) {
          out += `(?<${named[1]}>`;
          groups.push(0);
          i += named[0].length;
          continue;
        }
        const flags = /^\(\?([imsU]*)(?:-([imsU]*))?(:|\))/.exec(source.slice(i));
        if (!flags) fail('unsupported group (lookaround and the like are not RE2)');
        const [all, on = '', off = '', end] = flags!;
        if (/[Us]/.test(on + off)) fail('the U flag, and s other than as a leading (?s), are not supported here');
        const modifier = `${on}${off ? `-${off}` : ''}`;
        if (end === ':') {
          out += modifier === '' ? '(?:' : `(?${modifier}:`;
          groups.push(0);
        } else if (modifier !== '') {
          // `(?i)` applies to the rest of the enclosing group: open a modifier group closed with it.
          out += `(?${modifier}:`;
          groups[groups.length - 1]! += 1;
        }
        i += all.length;
        continue;
      }
      out += '(';
      groups.push(0);
      i++;
    } else if (ch === ')') {
      if (groups.length === 1) fail('unexpected )');
      out += `${')'.repeat(groups.pop()!)})`;
      i++;
    } else if (ch === '{') {
      const rep = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i));
      out += rep ? rep[0] : '\\{'; // Go reads a `{` that starts no repetition as a literal
      i += rep ? rep[0].length : 1;
    } else if (ch === '}') {
      out += '\\}';
      i++;
    } else if (ch === '/') {
      out += '\\/';
      i++;
    } else {
      out += ch === ']' ? '\\]' : ch === '\n' ? '\\n' : ch; // Go reads a lone ] as a literal; /u does not
      i++;
    }
  }
  if (groups.length !== 1) fail('missing )');
  out += ')'.repeat(groups[0]!);
  let regexp: RegExp;
  try {
    regexp = new RegExp(out, jsFlags);
  } catch (error) {
    return fail((error as Error).message.replace(/^Invalid regular expression: /, ''));
  }
  return { source, regexp, anchored: isAnchored(source.replace(/^\(\?[ims]+\)/, '')) };
}

type Fail = (why: string) => never;

/** `^…$` or `\A…\z`, the closing one not itself escaped. */
function isAnchored(source: string): boolean {
  if (!source.startsWith('^') && !source.startsWith('\\A')) return false;
  const end = source.endsWith('\\z') ? source.length - 2 : source.endsWith('$') ? source.length - 1 : -1;
  if (end <= 0) return false;
  let slashes = 0;
  for (let k = end - 1; k >= 0 && source[k] === '\\'; k--) slashes++;
  return slashes % 2 === 0;
}

function translateEscape(source: string, i: number, inClass: boolean, fail: Fail): [string, number] {
  const next = source[i + 1];
  if (next === undefined) fail('trailing backslash');
  const c = next!;
  switch (c) {
    case 'A':
      return inClass ? fail('\\A inside a class') : ['^', i + 2];
    case 'z':
      return inClass ? fail('\\z inside a class') : ['$', i + 2];
    case 'Q': {
      const end = source.indexOf('\\E', i + 2);
      const text = source.slice(i + 2, end === -1 ? undefined : end);
      const escaped = [...text].map((ch) => (SYNTAX.has(ch) ? `\\${ch}` : ch === '\n' ? '\\n' : ch)).join('');
      return [escaped, end === -1 ? source.length : end + 2];
    }
    case 'd':
    case 'w':
      return [inClass ? PERL_IN_CLASS[c]! : `[${PERL_IN_CLASS[c]!}]`, i + 2];
    case 's':
      return [inClass ? PERL_IN_CLASS.s! : `[${PERL_IN_CLASS.s!}]`, i + 2];
    case 'D':
    case 'W':
    case 'S':
      if (inClass) fail(`\\${c} inside a class is not supported here`);
      return [`[^${PERL_IN_CLASS[c.toLowerCase()]!}]`, i + 2];
    case 'b':
    case 'B':
      return inClass ? fail(`\\${c} inside a class`) : [`\\${c}`, i + 2];
    case 'n':
    case 't':
    case 'r':
    case 'f':
    case 'v':
      return [`\\${c}`, i + 2];
    case 'a':
      return ['\\x07', i + 2];
    case 'x': {
      const braced = /^\\x\{([0-9A-Fa-f]{1,6})\}/.exec(source.slice(i));
      if (braced) return [`\\u{${braced[1]}}`, i + braced[0].length];
      const two = /^\\x([0-9A-Fa-f]{2})/.exec(source.slice(i));
      return two ? [`\\x${two[1]}`, i + 4] : fail('bad \\x escape');
    }
    case 'p':
    case 'P': {
      const one = /^\\[pP]([A-Za-z])/.exec(source.slice(i));
      const named = /^\\[pP]\{(\^?)([A-Za-z_]+)\}/.exec(source.slice(i));
      if (named) {
        const negate = (c === 'P') !== (named[1] === '^');
        return [`\\${negate ? 'P' : 'p'}{${unicodeName(named[2]!)}}`, i + named[0].length];
      }
      if (one) return [`\\${c}{${one[1]}}`, i + 3];
      return fail('bad \\p escape');
    }
    default:
      if (/[0-7]/.test(c)) {
        // Go: \0 and octal \123; backreferences (\1) do not exist in RE2.
        const oct = /^\\([0-7]{1,3})/.exec(source.slice(i))!;
        if (c !== '0' && oct[1]!.length === 1) fail(`backreference \\${c} is not RE2`);
        return [`\\u{${parseInt(oct[1]!, 8).toString(16)}}`, i + oct[0].length];
      }
      if (/[!-/:-@[-`{-~]/.test(c)) return [`\\u{${c.charCodeAt(0).toString(16)}}`, i + 2];
      return fail(`unknown escape \\${c}`);
  }
}

function unicodeName(name: string): string {
  // Go names scripts bare (\p{Greek}); JavaScript wants Script=… for scripts, bare for categories.
  return /^[A-Z][a-z]?$/.test(name) || name === 'Any' ? (name === 'Any' ? 'Any' : name) : `Script=${name}`;
}

function translateClass(source: string, start: number, fail: Fail): [string, number] {
  let i = start + 1;
  let out = '[';
  if (source[i] === '^') {
    out += '^';
    i++;
  }
  let first = true;
  for (;;) {
    if (i >= source.length) fail('missing ]');
    const ch = source[i]!;
    if (ch === ']' && !first) break;
    first = false;
    if (ch === '[' && source[i + 1] === ':') {
      const posix = /^\[:(\^?)([a-z]+):\]/.exec(source.slice(i));
      if (!posix || POSIX_CLASSES[posix[2]!] === undefined) fail('bad [: :] class');
      if (posix![1] === '^') fail('negated [:^…:] classes are not supported here');
      out += POSIX_CLASSES[posix![2]!];
      i += posix![0].length;
    } else if (ch === '\\') {
      const [text, next] = translateEscape(source, i, true, fail);
      out += text;
      i = next;
    } else if (ch === '-') {
      // A range dash between two members stays a range; elsewhere it is a literal (escaped for /u).
      const prev = source[i - 1];
      const nextCh = source[i + 1];
      out += prev !== undefined && prev !== '[' && prev !== '^' && nextCh !== ']' ? '-' : '\\-';
      i++;
    } else if ('[]{}()|/'.includes(ch)) {
      out += `\\${ch}`;
      i++;
    } else {
      out += ch === '\n' ? '\\n' : ch;
      i++;
    }
  }
  return [`${out}]`, i + 1];
}

/** cosign's match: the pattern may match anywhere in the value (Go `regexp.MatchString`). */
export function goRegexpMatches(pattern: GoRegexp, value: string): boolean {
  return pattern.regexp.test(value);
}
