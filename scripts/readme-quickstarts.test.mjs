import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { quickstartBlocks, runBlock } from './readme-quickstarts.mjs';

// The README's quick-starts, run as written (issue 17): a newcomer pastes these, so CI runs them.
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const blocks = quickstartBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'));

describe('quickstartBlocks', () => {
  it('takes only `sh quickstart` blocks, whole, and refuses one left open', () => {
    const text = ['```sh', 'not me', '```', '```sh quickstart', 'echo a', '', 'echo b', '```', 'prose'].join('\n');
    expect(quickstartBlocks(text)).toEqual([{ line: 4, script: 'echo a\n\necho b\n' }]);
    expect(() => quickstartBlocks('```sh quickstart\necho never closed\n')).toThrow(/never closed/);
  });

  it('finds a quick-start for each backend, the registry, the tarballs, verify-dsse and the agent', () => {
    const all = blocks.map((b) => b.script).join('\n');
    for (const needle of [
      'scripts/pack-tarballs',
      'generate-key-pair',
      'softhsm2-util',
      'swtpm socket',
      'with-secret-service.sh',
      'scripts/test-registry start',
      'verify-dsse',
      'agent start',
    ]) {
      expect(all, needle).toContain(needle);
    }
  });

  it('a failing block fails the run', () => {
    expect(runBlock({ line: 1, script: 'true\nfalse\necho never\n' })).toMatchObject({ status: 1, stdout: '' });
  });
});

describe('the README quick-starts, as written', () => {
  for (const block of blocks) {
    const first = block.script.split('\n').find((l) => l && !l.startsWith('export PATH=')) ?? '';
    it(`README line ${block.line}: ${first.slice(0, 60)}`, () => {
      const result = runBlock(block);
      expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
    }, 900_000);
  }
});
