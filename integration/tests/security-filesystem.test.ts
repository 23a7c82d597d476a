// The filesystem CVE classes of issue 12 (docs/security-filesystem.md):
// procfs writes that a mount redirects (CVE-2025-52881), masks and read-only
// paths routed through the container's /proc or an image symlink
// (CVE-2025-31133), and the terminal's /dev/console (CVE-2025-52565).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { referenceRunc } from '../support/runc.js';
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

describe('masks, read-only paths and mount targets (CVE-2025-31133 class)', () => {
  it('a mount destination that an image symlink routes into /proc is refused', () => {
    const source = join(sandbox.dir, 'pattern');
    writeFileSync(source, '|/tmp/x\n');
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['cat', '/proc/sys/kernel/core_pattern'];
      // "/data/core_pattern" is not inside /proc by its text
      spec.mounts!.push({
        destination: '/data/core_pattern',
        type: 'bind',
        source,
        options: ['bind'],
      });
    });
    symlinkSync('/proc/sys/kernel', join(bundle, 'rootfs/data'));
    const result = sandbox.runc(['run', '-b', bundle, sandbox.id('toproc')]);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('mount /data/core_pattern (');
    expect(result.stderr).toContain('cannot be mounted because it resolves to a path inside /proc');
    expect(sandbox.runc(['list', '-q']).stdout).toBe('');
    expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
  });

  it('a masked path that the image made a symlink is not followed', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['cat', '/etc/group'];
      spec.linux!.maskedPaths = ['/etc/masked'];
    });
    // The mask would land on /etc/group
    symlinkSync('/etc/group', join(bundle, 'rootfs/etc/masked'));
    const result = sandbox.runc(['run', '-b', bundle, sandbox.id('masklink')]);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('/etc/masked (a symbolic link in the rootfs');
    expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
  });

  it("a file is masked with the real null device, not the image's /dev/null", () => {
    // No /dev tmpfs: the image's /dev/null is a symlink to a file it wants
    // bound over the masked path. The device node replaces the symlink, and
    // the mask checks what it binds is the character device 1:3.
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['sh', '-c', 'wc -c < /etc/masked; stat -c %t:%T /dev/null'];
      spec.mounts = spec.mounts!.filter((mount) => mount.destination !== '/dev');
      spec.linux!.maskedPaths = ['/etc/masked'];
    });
    const rootfs = join(bundle, 'rootfs');
    writeFileSync(join(rootfs, 'etc/masked'), 'secret');
    mkdirSync(join(rootfs, 'dev'), { recursive: true });
    symlinkSync('/etc/group', join(rootfs, 'dev/null'));
    const group = readFileSync(join(rootfs, 'etc/group'), 'utf8');
    const result = sandbox.runc(['run', '-b', bundle, sandbox.id('nullink')]);
    expect(result).toMatchObject({ status: 0, stdout: '0\n1:3\n', stderr: '' });
    expect(readFileSync(join(rootfs, 'etc/group'), 'utf8')).toBe(group);
    expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
  });

  it("read-only paths and masks do not go through the container's /proc", () => {
    // Without a /proc mount, the image's /proc/self/fd/N are whatever the
    // image planted: symlinks to /victim. A mount through the string
    // "/proc/self/fd/N" would protect /victim instead of /ro and /masked.
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = [
        'sh',
        '-c',
        'touch /ro/x 2>/dev/null && echo ro-writable; ls /masked | wc -l; ' +
          'touch /victim/y && echo victim-writable',
      ];
      spec.mounts = spec.mounts!.filter((mount) => mount.destination !== '/proc');
      spec.root!.readonly = false;
      spec.linux!.readonlyPaths = ['/ro'];
      spec.linux!.maskedPaths = ['/masked'];
    });
    const rootfs = join(bundle, 'rootfs');
    for (const dir of ['ro', 'victim', 'masked']) mkdirSync(join(rootfs, dir));
    writeFileSync(join(rootfs, 'masked/secret'), 'secret');
    mkdirSync(join(rootfs, 'proc/self/fd'), { recursive: true });
    for (let fd = 0; fd < 128; fd++) symlinkSync('/victim', join(rootfs, `proc/self/fd/${fd}`));
    const result = sandbox.runc(['run', '-b', bundle, sandbox.id('fdstrings')]);
    expect(result).toMatchObject({ status: 0, stdout: '0\nvictim-writable\n', stderr: '' });
    expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
  });

  it('read-only paths are read-only mounts; masks hide files and directories', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = [
        'sh',
        '-c',
        'echo x > /ro/file; grep " /ro " /proc/self/mountinfo | grep -c " ro,"; ' +
          'cat /masked-file | wc -c; ls /masked-dir | wc -l; echo y > /masked-dir/z',
      ];
      spec.root!.readonly = false;
      spec.linux!.readonlyPaths = ['/ro'];
      spec.linux!.maskedPaths = ['/masked-file', '/masked-dir'];
    });
    const rootfs = join(bundle, 'rootfs');
    mkdirSync(join(rootfs, 'ro'));
    mkdirSync(join(rootfs, 'masked-dir'));
    writeFileSync(join(rootfs, 'masked-dir/secret'), 'secret');
    writeFileSync(join(rootfs, 'masked-file'), 'secret');
    const result = sandbox.runc(['run', '-b', bundle, sandbox.id('ro')]);
    expect(result.stdout).toBe('1\n0\n0\n');
    expect(result.stderr).toMatch(
      /\/ro\/file: Read-only file system[\s\S]*\/masked-dir\/z: Read-only/,
    );
    expect(readFileSync(join(rootfs, 'masked-file'), 'utf8')).toBe('secret');
    expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
  });
});

describe('/dev/console of a terminal container (CVE-2025-52565 class)', () => {
  const probe = 'tty; stat -c "%t:%T %F" /dev/console $(tty)';

  it("is the process' pty, as with runc", () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.terminal = true;
      spec.process!.args = ['sh', '-c', probe];
    });
    const ours = sandbox.runc(['run', '-b', bundle, sandbox.id('console')]);
    expect(ours).toMatchObject({ status: 0, stderr: '' });
    const lines = ours.stdout.replace(/\r/g, '').split('\n');
    // /dev/pts/0, then /dev/console and the pty: one character device
    expect(lines[0]).toBe('/dev/pts/0');
    expect(lines[1]).toMatch(/^88:0 character special file$/);
    expect(lines[2]).toBe(lines[1]);
    // runc wants a terminal on its own stdin: give it one with script(1)
    const reference = spawnSync(
      'script',
      [
        '-qec',
        `${referenceRunc} --root ${sandbox.dir}/ref run -b ${bundle} ${sandbox.id('ref')}`,
        '/dev/null',
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 },
    );
    if (reference.error || reference.status !== 0) {
      console.log(`reference runc not compared: ${reference.error ?? reference.stderr}`);
    } else {
      // script echoes the NUL it sends as ^@, before or after the output
      expect(reference.stdout.replace(/\r|\0|\^@/g, '')).toBe(ours.stdout.replace(/\r/g, ''));
    }
    expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
  });

  it('is the pty in a user namespace too', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.terminal = true;
      spec.process!.args = ['sh', '-c', probe];
      spec.linux!.namespaces!.push({ type: 'user' });
      spec.linux!.uidMappings = [{ containerID: 0, hostID: 0, size: 65536 }];
      spec.linux!.gidMappings = [{ containerID: 0, hostID: 0, size: 65536 }];
    });
    const result = sandbox.runc(['run', '-b', bundle, sandbox.id('consoleuserns')]);
    expect(result).toMatchObject({ status: 0, stderr: '' });
    const lines = result.stdout.replace(/\r/g, '').split('\n');
    expect(lines[0]).toBe('/dev/pts/0');
    expect(lines[1]).toMatch(/^88:0 character special file$/);
    expect(lines[2]).toBe(lines[1]);
  });

  it('is not mounted through a /dev/console symlink planted in the image', () => {
    // No /dev tmpfs: the image's own /dev, where it left a symlink.
    const bundle = sandbox.bundle((spec) => {
      spec.process!.terminal = true;
      spec.process!.args = ['cat', '/etc/group'];
      spec.mounts = spec.mounts!.filter((mount) => mount.destination !== '/dev');
    });
    const rootfs = join(bundle, 'rootfs');
    mkdirSync(join(rootfs, 'dev'), { recursive: true });
    symlinkSync('/etc/group', join(rootfs, 'dev/console'));
    const before = readFileSync(join(rootfs, 'etc/group'), 'utf8');
    const result = sandbox.runc(['run', '-b', bundle, sandbox.id('consolelink')]);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(
      'mount console /dev/console (a symbolic link in the rootfs: refusing to mount the console through it)',
    );
    expect(readFileSync(join(rootfs, 'etc/group'), 'utf8')).toBe(before);
    expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
  });
});
