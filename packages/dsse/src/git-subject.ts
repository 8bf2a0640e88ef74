import { resolveJsonPointer } from './json-pointer.js';
import type { Statement } from './statement.js';

/**
 * ReleaseGate's subject for a commit (seed 003): `git+https://github.com/<owner>/<repo>@<commit_sha>`. The
 * repository compares case-insensitively (GitHub's owner and repository names do), the commit as lower-case
 * hex, and a shortened sha never matches a full one: a policy names the commit it means.
 */
const GIT_SUBJECT = /^git\+https:\/\/github\.com\/([A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+)@([0-9a-fA-F]{7,64})$/;

export interface GitSubject {
  repo: string;
  commit: string;
}

export function parseGitSubject(name: string | undefined): GitSubject | undefined {
  const m = name === undefined ? null : GIT_SUBJECT.exec(name);
  return m ? { repo: m[1]!, commit: m[2]!.toLowerCase() } : undefined;
}

export function gitSubjectName(repo: string, commit: string): string {
  return `git+https://github.com/${repo}@${commit.toLowerCase()}`;
}

/**
 * Where ReleaseGate's native attestation may also name the repository and commit, in its predicate. When a
 * field is there it must agree with the requirement too: a predicate that contradicts its subject fails.
 */
const PREDICATE_REPO = ['/subject/repo', '/repo', '/repository'];
const PREDICATE_COMMIT = ['/subject/commit_sha', '/commit_sha', '/subject/commit', '/commit'];

/** The problems of a statement against --require-repo / --require-commit; empty when both hold. */
export function gitBindingProblems(
  statement: Statement,
  requireRepo: string | undefined,
  requireCommit: string | undefined,
): { rule: 'require-repo' | 'require-commit'; message: string }[] {
  const problems: { rule: 'require-repo' | 'require-commit'; message: string }[] = [];
  const subjects = statement.subject.map((s) => parseGitSubject(s.name)).filter((s) => s !== undefined);
  const repoOk = (r: string) => requireRepo === undefined || r.toLowerCase() === requireRepo.toLowerCase();
  const commitOk = (c: string) => requireCommit === undefined || c === requireCommit.toLowerCase();
  if (subjects.length === 0) {
    const message = 'no subject named git+https://github.com/<owner>/<repo>@<commit>';
    if (requireRepo !== undefined) problems.push({ rule: 'require-repo', message });
    if (requireCommit !== undefined) problems.push({ rule: 'require-commit', message });
    return problems;
  }
  // Both given: one subject must carry both (a repo from one subject and a commit from another prove nothing).
  if (!subjects.some((s) => repoOk(s.repo) && commitOk(s.commit))) {
    if (!subjects.some((s) => repoOk(s.repo)))
      problems.push({ rule: 'require-repo', message: `no subject is of repository ${requireRepo}` });
    else
      problems.push({
        rule: 'require-commit',
        message: `no subject${requireRepo ? ` of ${requireRepo}` : ''} is at commit ${requireCommit}`,
      });
    return problems;
  }
  const field = (pointers: string[]) =>
    pointers.map((p) => resolveJsonPointer(statement.predicate, p)).find((v) => typeof v === 'string') as
      | string
      | undefined;
  const predicateRepo = field(PREDICATE_REPO);
  if (requireRepo !== undefined && predicateRepo !== undefined && !repoOk(predicateRepo))
    problems.push({ rule: 'require-repo', message: `the predicate names repository ${predicateRepo}` });
  const predicateCommit = field(PREDICATE_COMMIT);
  if (requireCommit !== undefined && predicateCommit !== undefined && !commitOk(predicateCommit.toLowerCase()))
    problems.push({ rule: 'require-commit', message: `the predicate names commit ${predicateCommit}` });
  return problems;
}
