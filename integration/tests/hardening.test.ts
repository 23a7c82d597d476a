// Issue 12 hardening, as root with real containers: what a created init
// holds open, the state root's permissions, host-network sysctls, and many
// operations racing on one id.
import { spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { referenceRunc, runCaptured, runcTs } from '../support/runc.js';
import { Sandbox } from '../support/sandbox.js';

const sandbox = new Sandbox();
afterAll(() => sandbox.cleanup());

/**
 * The fds of `pid` that are not allowed while a container is created (runc's
 * rule): anything but stdio, the exec fifo, and anonymous pipes, sockets and
 * inodes; and, whatever its name, a directory.
 */
function forbiddenFds(pid: number, fifo: string): string[] {
  const bad: string[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    const allowed =
      ['0', '1', '2'].includes(fd) || target === fifo || /^(pipe|socket|anon_inode):/.test(target);
    if (!allowed || statSync(`/proc/${pid}/fd/${fd}`).isDirectory()) bad.push(`${fd} -> ${target}`);
  }
  return bad;
}

describe('a created container holds no host directory open (CVE-2024-21626 class)', () => {
  it.each([
    ['root', undefined],
    ['a non-root user', { uid: 1000, gid: 1000 }],
  ])('as %s: only stdio and the exec fifo; start still releases it', (_, user) => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['sleep', '1000'];
      if (user) spec.process!.user = user;
    });
    const id = sandbox.id('fds');
    expect(sandbox.runc(['create', '--bundle', bundle, id])).toMatchObject({
      status: 0,
      stderr: '',
    });
    try {
      const { pid } = sandbox.state(id);
      // Before the fix: "4 -> <root>/<id>", the state directory itself.
      expect(forbiddenFds(pid, join(sandbox.root, id, 'exec.fifo'))).toEqual([]);
      expect(sandbox.runc(['start', id])).toMatchObject({ status: 0, stderr: '' });
      expect(sandbox.state(id).status).toBe('running');
    } finally {
      sandbox.runc(['delete', '--force', id]);
    }
  });
});

describe('a state root other users can write to is refused', () => {
  it('list, state, kill, delete and create fail naming the root and its mode; nothing is run or signalled', () => {
    const root = join(sandbox.dir, 'shared-root');
    mkdirSync(root);
    chmodSync(root, 0o1777);
    // What another user could plant: a state file naming a process of ours
    // (and hooks root would run on delete).
    const victim = spawn('sleep', ['1000'], { stdio: 'ignore' });
    try {
      mkdirSync(join(root, 'planted'));
      writeFileSync(
        join(root, 'planted', 'state.json'),
        JSON.stringify({ id: 'planted', pid: victim.pid, pidStartTime: '', config: {} }),
      );
      const message = `state directory --root ${root} is writable by other users (mode 01777): make it 0700 (chmod go-w) or pass another --root`;
      const bundle = sandbox.bundle();
      for (const args of [
        ['list'],
        ['state', 'planted'],
        ['kill', 'planted', 'KILL'],
        ['delete', '--force', 'planted'],
        ['create', '--bundle', bundle, 'fresh'],
      ]) {
        const result = runCaptured(runcTs, ['--root', root, ...args], {
          dir: sandbox.dir,
          input: '',
        });
        expect(result.status, args.join(' ')).toBe(1);
        expect(result.stderr, args.join(' ')).toContain(message);
      }
      expect(victim.exitCode).toBeNull();
      expect(readdirSync(root)).toEqual(['planted']);
    } finally {
      victim.kill('SIGKILL');
    }
  });
});

describe('net.* sysctls in the host network namespace joined by path', () => {
  it('are refused as runc refuses them, before anything is made', () => {
    const holder = spawn('sleep', ['1000'], { stdio: 'ignore' });
    try {
      const key = 'net.ipv4.conf.lo.forwarding';
      // Its current value: even a runtime that wrongly wrote it changes nothing.
      const value = readFileSync(`/proc/sys/${key.replaceAll('.', '/')}`, 'utf8').trim();
      const bundle = sandbox.bundle((spec) => {
        spec.process!.args = ['true'];
        const netns = spec.linux!.namespaces!.find((ns) => ns.type === 'network')!;
        netns.path = `/proc/${holder.pid}/ns/net`;
        spec.linux!.sysctl = { [key]: value };
      });
      const message = `sysctl "${key}" not allowed in host network namespace`;
      const id = sandbox.id('netns');
      const ours = sandbox.runc(['create', '--bundle', bundle, id]);
      expect(ours.status).toBe(1);
      // logfmt escapes the quotes
      expect(ours.stderr.replaceAll('\\"', '"')).toContain(message);
      expect(existsSync(join(sandbox.root, id))).toBe(false);
      const theirs = runCaptured(
        referenceRunc,
        ['--root', join(sandbox.dir, 'runc-root'), 'create', '--bundle', bundle, id],
        { dir: sandbox.dir, input: '' },
      );
      expect(theirs.status).toBe(1);
      expect(theirs.stderr.replaceAll('\\"', '"')).toContain(message);
    } finally {
      holder.kill('SIGKILL');
    }
  });
});
