import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { referenceRunc, run, runcTs, runTs, tempDir } from '../support/runc.js';

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir('cli');
  writeFileSync(join(dir.path, 'config.json'), '{}');
});
afterEach(() => dir.cleanup());

describe('the runc command line', () => {
  it('--version: name, version, commit and spec lines', () => {
    const result = runTs(['--version']);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(
      /^runc version \d+\.\d+\.\d+ \(runc-ts\)\ncommit: \S+\nspec: 1\.3\.0\n/,
    );
    expect(runTs(['-v']).stdout).toBe(result.stdout);
  });

  it('--log-format json on stderr: one {"level","msg","time"} object per line', () => {
    const result = runTs(['--log-format', 'json', 'spec', '-b', dir.path]);
    expect(result.status).toBe(1);
    const line = JSON.parse(result.stderr);
    expect(Object.keys(line)).toEqual(['level', 'msg', 'time']);
    const reference = JSON.parse(
      run(referenceRunc, ['--log-format', 'json', 'spec', '-b', dir.path]).stderr,
    );
    expect(line.msg).toBe(reference.msg);
    expect(line.level).toBe(reference.level);
  });

  it('--log FILE: the JSON line goes to the file, the message to stderr, as runc', () => {
    const ours = join(dir.path, 'ours.log');
    const theirs = join(dir.path, 'theirs.log');
    const mine = runTs(['--log', ours, '--log-format', 'json', 'spec', '-b', dir.path]);
    const reference = run(referenceRunc, [
      '--log',
      theirs,
      '--log-format',
      'json',
      'spec',
      '-b',
      dir.path,
    ]);
    expect(mine.status).toBe(reference.status);
    expect(mine.stderr).toBe(reference.stderr);
    const strip = (text: string) => text.replace(/"time":"[^"]*"/, '"time":T');
    expect(strip(readFileSync(ours, 'utf8'))).toBe(strip(readFileSync(theirs, 'utf8')));
  });

  it('exit codes of usage errors match runc', () => {
    for (const args of [
      ['no-such-command'],
      ['--no-such-flag'],
      ['spec', '--no-such-flag'],
      ['spec', 'extra'],
    ]) {
      expect(runTs(args).status, args.join(' ')).toBe(run(referenceRunc, args).status);
    }
  });

  it('every command has --help', () => {
    for (const command of ['spec', 'features']) {
      const result = runTs([command, '--help']);
      expect(result.status).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^NAME:\n {3}runc ${command} - `));
    }
  });
});

describe('bin/runc launcher', () => {
  it('starts from a V8 code cache that this Node accepts', () => {
    const probe = [
      "process.argv = [process.argv[0], 'runc', '--version'];",
      `const script = require(${JSON.stringify(`${runcTs}.cjs`)}).launch();`,
      "process.on('exit', () => { if (script.cachedDataRejected !== false) process.exitCode = 9; });",
    ].join('\n');
    const result = run(process.execPath, ['-e', probe]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^runc version .* \(runc-ts\)/);
  });
});
