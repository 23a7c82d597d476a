// The filesystem CVE classes of issue 12 (docs/security-filesystem.md):
// procfs writes that a mount redirects (CVE-2025-52881), masks and read-only
// paths routed through the container's /proc or an image symlink
// (CVE-2025-31133), and the terminal's /dev/console (CVE-2025-52565).
import { spawnSync } from 'node:child_process';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { leftovers, Sandbox } from '../support/sandbox.js';

const sandbox = new Sandbox();
afterAll(() => sandbox.cleanup());

/** Reads `file` in the IPC namespace of `pid` (its sysctls), from the host. */
function ipcSysctl(pid: number, file: string): string {
  const read = spawnSync('nsenter', ['-t', String(pid), '-i', 'cat', `/proc/sys/kernel/${file}`], {
    encoding: 'utf8',
  });
  if (read.status !== 0) throw new Error(`nsenter cat ${file}: ${read.stderr}`);
  return read.stdout.trim();
}

describe('procfs writes (CVE-2025-52881 class)', () => {
  it('a procfs file bind-mounted over a sysctl does not receive the write', () => {
    // A createContainer hook plays the racing attacker: in the container's
    // mount namespace it binds kernel/shmmni over kernel/shm_rmid_forced,
    // so a write that trusts "the file is on procfs" lands in shmmni.
    const hook = join(sandbox.dir, 'bind-over-sysctl');
    writeFileSync(
      hook,
      [
        '#!/bin/sh',
        'set -e',
        // the OCI state on stdin names the bundle
        `rootfs=$(sed -n 's/.*"bundle":"\\([^"]*\\)".*/\\1/p')/rootfs`,
        'mount --bind "$rootfs/proc/sys/kernel/shmmni" "$rootfs/proc/sys/kernel/shm_rmid_forced"',
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['true'];
      spec.linux!.sysctl = { 'kernel.shm_rmid_forced': '1' };
      spec.hooks = { createContainer: [{ path: hook }] };
    });
    const id = sandbox.id('sysctl');
    const created = sandbox.runc(['create', '-b', bundle, id]);
    expect(created).toMatchObject({ status: 0, stderr: '' });
    try {
      const { pid } = sandbox.state(id);
      // The intended sysctl got the value; the file mounted over it did not.
      expect(ipcSysctl(pid, 'shm_rmid_forced')).toBe('1');
      expect(ipcSysctl(pid, 'shmmni')).toBe('4096');
    } finally {
      expect(sandbox.runc(['delete', '-f', id]).status).toBe(0);
    }
    expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
  });
});
