// Every example of the documents below runs as written, and prints what the
// document says it prints (integration/support/doc-examples.ts: how blocks
// are marked). Examples that need systemd run in
// integration/systemd/docs.test.ts under systemd-nspawn; those that need
// cgroup v2 in the cgroup v2 VM (scripts/vm/cgroup2-suite).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DocExampleRunner,
  docBlocks,
  docExamples,
  exampleSkipReason,
  outputMatches,
} from '../support/doc-examples.js';
import { repoRoot } from '../support/runc.js';

/** The documents whose every code block is an example, its output or a file it uses. */
const TESTED_DOCS = [
  'docs/terminals.md',
  'docs/systemd.md',
  'docs/cgroup-v2.md',
  'docs/experimental.md',
];

const runner = new DocExampleRunner(true);
afterAll(() => runner.cleanup());

describe('documentation examples', () => {
  it('every code block of the tested documents is marked, and every output belongs to an example', () => {
    const problems: string[] = [];
    for (const doc of TESTED_DOCS) {
      const blocks = docBlocks(doc);
      const tests = new Set(blocks.map((b) => b.attrs.test).filter(Boolean));
      for (const block of blocks) {
        const where = `${doc}:${block.line}`;
        const marks = ['test', 'output', 'file'].filter((m) => block.attrs[m] !== undefined);
        if (marks.length !== 1)
          problems.push(`${where}: needs exactly one of test=, output=, file=`);
        if (block.attrs.output !== undefined && !tests.has(block.attrs.output)) {
          problems.push(`${where}: output of no example (${block.attrs.output})`);
        }
      }
      if (tests.size !== blocks.filter((b) => b.attrs.test !== undefined).length) {
        problems.push(`${doc}: two examples have the same name`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('the README links each of them, and the checkpoint page', () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const missing = [...TESTED_DOCS, 'docs/checkpoint-restore.md'].filter(
      (doc) => !readme.includes(`](${doc})`),
    );
    expect(missing).toEqual([]);
  });

  for (const doc of TESTED_DOCS) {
    const { examples, files } = docExamples(doc);
    for (const { block, output } of examples) {
      it(`${doc}: ${block.attrs.test} (line ${block.line})`, { timeout: 120_000 }, (context) => {
        const skip = exampleSkipReason(block);
        if (skip) {
          console.warn(`${doc}: example ${block.attrs.test} skipped: ${skip}`);
          context.skip();
          return;
        }
        const result = runner.run(block, runner.workDir(files));
        expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
        if (output) {
          expect(
            outputMatches(output.body, result.stdout),
            `expected (${doc}:${output.line}):\n${output.body}\nprinted:\n${result.stdout}\nstderr:\n${result.stderr}`,
          ).toBe(true);
        }
      });
    }
  }
});
