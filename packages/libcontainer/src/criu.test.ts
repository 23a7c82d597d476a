import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lastLogErrors } from './criu.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function log(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'criu-log-'));
  dirs.push(dir);
  const path = join(dir, 'dump.log');
  writeFileSync(path, text);
  return path;
}

describe('lastLogErrors', () => {
  it('finds the last error of a CRIU log, not the first one CRIU reports', () => {
    // A lazy-pages dump on a host without CAP_SYS_RESOURCE (the project's CI).
    const path = log(
      [
        "(00.032003) Error (criu/util.c:1533): rlimit: Can't setup RLIMIT_NOFILE for self: Operation not permitted",
        '(00.364741) Starting lazy pages server',
        '(01.541070) Error (criu/page-pipe.c:424): page-pipe: splice: -1: Bad file descriptor',
        '(01.541867) Error (criu/cr-dump.c:2019): Lazy pages transfer FAILED.',
        '(01.541871) Unfreezing tasks into 1',
        '',
      ].join('\n'),
    );
    expect(lastLogErrors(path, 2)).toEqual([
      'Error (criu/page-pipe.c:424): page-pipe: splice: -1: Bad file descriptor',
      'Error (criu/cr-dump.c:2019): Lazy pages transfer FAILED.',
    ]);
  });

  it('reads only the end of a long log, and nothing of a missing one', () => {
    const path = log(`${'(00.000001) Error (x.c:1): early\n'}${'(00.1) noise\n'.repeat(20_000)}`);
    expect(lastLogErrors(path, 3)).toEqual([]);
    expect(lastLogErrors(join(tmpdir(), 'no-such-criu-log'), 3)).toEqual([]);
  });
});
