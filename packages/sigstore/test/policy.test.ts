import { describe, expect, it } from 'vitest';
import { compileGoRegexp, compileIdentityPolicy, evaluateIdentityPolicy, goRegexpMatches } from '../src/index.js';
import { quietLogger } from './helpers.js';

const matches = (pattern: string, value: string) => goRegexpMatches(compileGoRegexp(pattern, '--x'), value);

describe('Go RE2 regexps with cosign semantics', () => {
  it('is unanchored: a substring pattern matches, as Go regexp.MatchString', () => {
    expect(matches('myorg', 'https://github.com/myorg/repo/.github/workflows/x.yml@refs/heads/main')).toBe(true);
    expect(matches('^myorg$', 'xmyorgx')).toBe(false);
    expect(compileGoRegexp('^a$', '--x').anchored).toBe(true);
    expect(compileGoRegexp('^a', '--x').anchored).toBe(false);
    expect(compileGoRegexp('^a\\$', '--x').anchored).toBe(false);
    expect(compileGoRegexp('\\Aa\\z', '--x').anchored).toBe(true);
    expect(compileGoRegexp('(?i)^a$', '--x').anchored).toBe(true);
  });
  it('translates Go-only syntax', () => {
    expect(matches('\\Ahttps://\\Qgithub.com\\E/', 'https://github.com/x')).toBe(true);
    expect(matches('\\Ahttps://\\Qgithub.com\\E/', 'https://githubXcom/x')).toBe(false);
    expect(matches('^(?P<org>[[:alpha:]]+)/x$', 'abc/x')).toBe(true);
    expect(matches('(?i)^USER@EXAMPLE\\.COM$', 'user@example.com')).toBe(true);
    expect(matches('^a\\z', 'a\n')).toBe(false);
    expect(matches('^\\pL+$', 'été')).toBe(true);
    expect(matches('^\\x{41}\\101$', 'AA')).toBe(true);
    expect(matches('^a{2}]$', 'aa]')).toBe(true);
    expect(matches('^a\\-b\\@c$', 'a-b@c')).toBe(true);
  });
  it("keeps Go's meaning where JavaScript differs", () => {
    expect(matches('^a.b$', 'a\rb')).toBe(true); // JS `.` excludes \r; Go's only \n
    expect(matches('^a.b$', 'a\nb')).toBe(false);
    expect(matches('^\\s$', '\u00a0')).toBe(false); // Go's \s is ASCII
    expect(matches('^[\\s]$', '\u2028')).toBe(false);
    expect(matches('^\\d$', '٣')).toBe(false);
  });
  it('refuses what RE2 refuses (lookaround, backreferences) with USAGE', () => {
    for (const bad of ['(?=a)', 'a(?!b)', '(a)\\1', '(', 'a)', '[a', '\\']) {
      expect(() => compileGoRegexp(bad, '--certificate-identity-regexp')).toThrow(
        expect.objectContaining({ code: 'USAGE' }),
      );
    }
  });
});

describe('identity policy', () => {
  const signer = {
    subjectAlternativeNames: ['https://github.com/o/r/.github/workflows/w.yml@refs/heads/main'],
    extensions: { issuer: 'https://token.actions.githubusercontent.com', githubWorkflowTrigger: 'push' },
  };
  it('needs an identity and an issuer for keyless bundles, as cosign', () => {
    expect(() => compileIdentityPolicy({ certificateOidcIssuer: 'x' }, { required: true })).toThrow(
      /--certificate-identity or --certificate-identity-regexp/,
    );
    expect(() => compileIdentityPolicy({ certificateIdentity: 'x' }, { required: true })).toThrow(
      /--certificate-oidc-issuer or/,
    );
  });
  it('warns when a regexp lacks ^…$ (cosign does not)', () => {
    const { logger, warnings } = quietLogger();
    compileIdentityPolicy(
      {
        certificateIdentityRegexp: 'github.com/o/',
        certificateOidcIssuerRegexp: '^https://token\\.actions\\.githubusercontent\\.com$',
      },
      { required: true, logger },
    );
    expect(warnings).toEqual([
      '--certificate-identity-regexp "github.com/o/" has no ^…$: it matches anywhere in the value, as in cosign',
    ]);
  });
  it('names every unmet rule', () => {
    const policy = compileIdentityPolicy(
      {
        certificateIdentityRegexp: '^https://github\\.com/other/',
        certificateOidcIssuer: 'https://accounts.google.com',
        githubWorkflowTrigger: 'release',
      },
      { required: true },
    );
    expect(evaluateIdentityPolicy(policy, signer)).toEqual([
      '--certificate-identity-regexp: "^https://github\\\\.com/other/" matches none of "https://github.com/o/r/.github/workflows/w.yml@refs/heads/main"',
      '--certificate-oidc-issuer: expected "https://accounts.google.com", the certificate has "https://token.actions.githubusercontent.com"',
      '--certificate-github-workflow-trigger: expected "release", the certificate has "push"',
    ]);
  });
});
