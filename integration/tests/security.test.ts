import { spawnSync } from 'node:child_process';
import {
  closeSync,
  constants,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runcTs } from '../support/runc.js';
import { leftovers, Sandbox } from '../support/sandbox.js';

const sandbox = new Sandbox();
afterAll(() => sandbox.cleanup());

describe('security invariants', () => {
  it('the executor runs from a sealed memfd: its binary cannot be opened for writing', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['true'];
    });
    const id = sandbox.id('sealed');
    expect(sandbox.runc(['create', '-b', bundle, id]).status).toBe(0);
    // While created, the init is still the executor, waiting on exec.fifo.
    const { pid } = sandbox.state(id);
    expect(readlinkSync(`/proc/${pid}/exe`)).toMatch(/^\/memfd:runc-ts-init/);
    let error: NodeJS.ErrnoException | undefined;
    try {
      closeSync(openSync(`/proc/${pid}/exe`, constants.O_WRONLY));
    } catch (caught) {
      error = caught as NodeJS.ErrnoException;
    }
    expect(['ETXTBSY', 'EPERM', 'EACCES']).toContain(error?.code);
    expect(sandbox.runc(['delete', '-f', id]).status).toBe(0);
  });

  it('a mount target that is a symlink to a host path stays inside the rootfs', () => {
    const hostDir = join(sandbox.dir, 'host-target');
    mkdirSync(hostDir);
    writeFileSync(join(hostDir, 'precious'), 'keep me');
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['sh', '-c', 'echo inside > /escape/written; ls /escape'];
      spec.root!.readonly = false;
      spec.mounts!.push({ destination: '/escape', type: 'tmpfs', source: 'tmpfs' });
    });
    symlinkSync(hostDir, join(bundle, 'rootfs/escape'));
    const result = sandbox.runc(['run', '-b', bundle, sandbox.id('escape')]);
    expect(result).toMatchObject({ status: 0, stdout: 'written\n' });
    // The host directory was neither mounted over nor written to.
    expect(readdirSync(hostDir)).toEqual(['precious']);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(hostDir);
    expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
  });

  it('no file descriptor of the caller reaches the container unless preserved', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['sh', '-c', 'ls /proc/self/fd | tr "\\n" " "; cat <&3'];
    });
    const secret = join(sandbox.dir, 'secret');
    writeFileSync(secret, 'preserved');
    const fd = openSync(secret, 'r');
    try {
      // The caller has the file at fds 3 and 4 (inherited, not CLOEXEC).
      const leak = spawnSync(
        runcTs,
        ['--root', sandbox.root, 'run', '-b', bundle, sandbox.id('fds')],
        {
          stdio: ['ignore', 'pipe', 'pipe', fd, fd],
          encoding: 'utf8',
        },
      );
      expect(leak.stdout.startsWith('0 1 2 3 ')).toBe(true); // fd 3: ls' own directory
      expect(leak.status).not.toBe(0); // cat: fd 3 is not the file
      const kept = spawnSync(
        runcTs,
        ['--root', sandbox.root, 'run', '--preserve-fds', '1', '-b', bundle, sandbox.id('kept')],
        { stdio: ['ignore', 'pipe', 'pipe', fd, fd], encoding: 'utf8' },
      );
      expect(kept.stdout).toBe('0 1 2 3 4 preserved');
      expect(kept.status).toBe(0);
    } finally {
      closeSync(fd);
    }
  });

  it('state directories: --root 0700, container directory 0711, state.json 0600', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['true'];
    });
    const id = sandbox.id('modes');
    expect(sandbox.runc(['create', '-b', bundle, id]).status).toBe(0);
    const mode = (path: string) =>
      spawnSync('stat', ['-c', '%a', path], { encoding: 'utf8' }).stdout.trim();
    expect(mode(sandbox.root)).toBe('700');
    expect(mode(join(sandbox.root, id))).toBe('711');
    expect(mode(join(sandbox.root, id, 'state.json'))).toBe('600');
    expect(sandbox.runc(['delete', '-f', id]).status).toBe(0);
  });
});

describe('container ids', () => {
  it('every id-taking command refuses an id that leaves --root, touching nothing there', () => {
    // A prepared container beside --root, whose hook would leave a marker
    // were its state read and its hooks run.
    const probe = join(sandbox.dir, 'probe');
    const marker = join(sandbox.dir, 'hook-ran');
    mkdirSync(probe);
    const hook = { path: '/bin/sh', args: ['sh', '-c', `touch ${marker}`] };
    writeFileSync(
      join(probe, 'state.json'),
      JSON.stringify({
        id: 'probe',
        pid: process.pid,
        pidStartTime: '0',
        bundle: probe,
        rootfs: probe,
        created: '2026-01-01T00:00:00Z',
        owner: '',
        config: {
          ociVersion: '1.3.0',
          root: { path: 'rootfs' },
          hooks: { poststart: [hook], poststop: [hook] },
        },
      }),
    );
    const bundle = sandbox.bundle();
    const id = '/../probe';
    const commands: string[][] = [
      ['start', id],
      ['state', id],
      ['kill', id, 'KILL'],
      ['delete', id],
      ['delete', '--force', id],
      ['pause', id],
      ['resume', id],
      ['update', '--pids-limit', '10', id],
      ['events', '--stats', id],
      ['ps', id],
      ['exec', id, 'true'],
      ['create', '--bundle', bundle, id],
      ['run', '--bundle', bundle, id],
    ];
    for (const command of commands) {
      const result = sandbox.runc(command);
      const exec = command[0] === 'exec';
      expect(result.status, command.join(' ')).toBe(exec ? 255 : 1);
      expect(result.stderr, command.join(' ')).toContain(
        `${exec ? 'exec failed: ' : ''}invalid container ID format: \\"/../probe\\"`,
      );
    }
    expect(readdirSync(probe)).toEqual(['state.json']);
    expect(readdirSync(sandbox.dir)).not.toContain('hook-ran');
  });
});
