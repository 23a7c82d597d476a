import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigSchema, parseConfig } from '@runc-ts/spec';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { referenceRunc, run, runTs, tempDir } from '../support/runc.js';
import { applyDocumentedDifferences } from '../support/runc-differences.js';

let ours: ReturnType<typeof tempDir>;
let theirs: ReturnType<typeof tempDir>;
beforeEach(() => {
  ours = tempDir('spec-ours');
  theirs = tempDir('spec-runc');
});
afterEach(() => {
  ours.cleanup();
  theirs.cleanup();
});

const read = (dir: string) => readFileSync(join(dir, 'config.json'), 'utf8');

describe.each([
  ['runc spec', []],
  ['runc spec --rootless', ['--rootless']],
])('%s in an empty directory', (_name, flags) => {
  it('writes a config our schema accepts (fast validator and zod)', () => {
    expect(runTs(['spec', ...flags], ours.path)).toMatchObject({
      status: 0,
      stdout: '',
      stderr: '',
    });
    const text = read(ours.path);
    expect(() => parseConfig(text, { forCreate: true })).not.toThrow();
    expect(ConfigSchema.safeParse(JSON.parse(text)).success).toBe(true);
  });

  it("matches runc's template field by field, apart from the documented differences", () => {
    expect(runTs(['spec', ...flags], ours.path).status).toBe(0);
    expect(run(referenceRunc, ['spec', ...flags], theirs.path).status).toBe(0);
    const expected = applyDocumentedDifferences(JSON.parse(read(theirs.path)));
    const actual = JSON.parse(read(ours.path));
    expect(actual).toEqual(expected);
    // Same key order and layout (tabs, no trailing newline) as runc writes.
    expect(read(ours.path)).toBe(JSON.stringify(expected, null, '\t'));
  });

  it('refuses a second run exactly as runc does, leaving the file alone', () => {
    runTs(['spec', ...flags], ours.path);
    run(referenceRunc, ['spec', ...flags], theirs.path);
    writeFileSync(join(ours.path, 'config.json'), 'edited');
    const mine = runTs(['spec', ...flags], ours.path);
    const reference = run(referenceRunc, ['spec', ...flags], theirs.path);
    expect(mine.status).toBe(reference.status);
    expect(mine.status).toBe(1);
    const strip = (line: string) => line.replace(/time="[^"]*"/, 'time=T');
    expect(strip(mine.stderr)).toBe(strip(reference.stderr));
    expect(read(ours.path)).toBe('edited');
  });
});

describe('runc spec --bundle', () => {
  it('writes into the bundle directory', () => {
    expect(runTs(['spec', '--bundle', ours.path]).status).toBe(0);
    expect(() => parseConfig(read(ours.path))).not.toThrow();
  });

  it('fails with exit 1 and names a missing bundle, creating nothing', () => {
    const missing = join(ours.path, 'missing');
    const result = runTs(['spec', '-b', missing]);
    expect(result.status).toBe(run(referenceRunc, ['spec', '-b', missing]).status);
    expect(result.stderr).toContain(`bundle directory ${missing}: no such file or directory`);
  });
});
