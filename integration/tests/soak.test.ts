// The short variant of scripts/soak (issue 12): create → start → kill →
// delete cycles leave no process, cgroup, mount, state file, lock or memfd,
// and memory stays flat. The full run (1,000 cycles) is `scripts/soak`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/runc.js';

describe('soak (short)', () => {
  it('30 cycles: no leaks, flat memory', (context) => {
    if (!existsSync('/usr/bin/time')) context.skip('GNU time is missing (apt-get install time)');
    const soak = spawnSync(
      join(repoRoot, 'scripts/soak'),
      ['--cycles', '30', '--max-seconds', '150'],
      {
        encoding: 'utf8',
        timeout: 240_000,
      },
    );
    expect(soak.stderr).toBe('');
    expect(soak.stdout).toContain('cycles: 30 of 30');
    expect(soak.stdout).toContain('leaks: none');
    expect(soak.status).toBe(0);
  }, 300_000);
});
