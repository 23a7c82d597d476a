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
  statfsSync,
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
 * The procfs WAIT_FIFO reopens the fifo through: a fresh one of the
 * container's pid namespace with process directories only (subset=pid), no
 * host path and nothing the container's own /proc does not show.
 */
function isPidOnlyProcfs(path: string): boolean {
  try {
    if (statfsSync(path).type !== 0x9fa0) return false;
    const entries = readdirSync(path);
    return (
      entries.includes('1') &&
      entries.every((entry) => /^\d+$/.test(entry) || entry === 'self' || entry === 'thread-self')
    );
  } catch {
    return false;
  }
}

/**
 * The fds of `pid` that are not allowed while a container is created (runc's
 * rule): anything but stdio, the exec fifo, and anonymous pipes, sockets and
 * inodes; and, whatever its name, a directory.
 */
function forbiddenFds(pid: number, fifo: string): string[] {
  const bad: string[] = [];
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    const path = `/proc/${pid}/fd/${fd}`;
    if (isPidOnlyProcfs(path)) continue;
    const allowed =
      ['0', '1', '2'].includes(fd) || target === fifo || /^(pipe|socket|anon_inode):/.test(target);
    if (!allowed || statSync(path).isDirectory()) bad.push(`${fd} -> ${target}`);
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

/** Runs our runc asynchronously (many at once); output through files, as runCaptured. */
function runcAsync(
  args: string[],
): Promise<{ args: string[]; status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(runcTs, ['--root', sandbox.root, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    // Not 'close': a created init keeps the create's stdio open.
    child.once('exit', (status) => {
      setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        resolve({ args, status, stdout, stderr: stderr.replaceAll('\\"', '"') });
      }, 50);
    });
  });
}

/** The message of a failed call, as the CLI logs it. */
const messageOf = (stderr: string) =>
  (/msg="(.*)"/.exec(stderr)?.[1] ?? stderr).replace(/^exec failed: /, '');

describe('50 parallel operations on one id', () => {
  it("exactly one create wins; every other call succeeds or fails with runc's message; state stays whole", async () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['sleep', '1000'];
    });
    const id = sandbox.id('race');
    const calls: string[][] = [];
    for (let i = 0; i < 10; i++) {
      calls.push(
        ['create', '--bundle', bundle, id],
        ['create', '--bundle', bundle, id],
        ['state', id],
        ['kill', id, 'CONT'],
        ['exec', '-d', id, 'true'],
      );
    }
    try {
      const results = await Promise.all(calls.map((args) => runcAsync(args)));
      const unexpected: string[] = [];
      let created = 0;
      for (const result of results) {
        const [command] = result.args;
        const message = messageOf(result.stderr);
        if (result.status === 0) {
          if (command === 'create') created++;
          if (command === 'state') {
            const state = JSON.parse(result.stdout);
            if (state.id !== id || !['created', 'stopped'].includes(state.status)) {
              unexpected.push(`state: ${result.stdout}`);
            }
          }
          continue;
        }
        const allowed: Record<string, RegExp> = {
          create: new RegExp(`^container with given ID already exists: ${id}$`),
          state: new RegExp(`^container does not exist: ${id}$`),
          kill: new RegExp(`^(container does not exist: ${id}|container not running)$`),
          exec: new RegExp(
            `^(container does not exist: ${id}|cannot exec in a stopped container)$`,
          ),
        };
        // runc exec fails with 255, every other command with 1.
        const status = command === 'exec' ? 255 : 1;
        if (result.status !== status || !allowed[command!]!.test(message)) {
          unexpected.push(`${result.args.join(' ')}: exit ${result.status}: ${result.stderr}`);
        }
      }
      expect(unexpected).toEqual([]);
      expect(created).toBe(1);
      expect(sandbox.state(id).status).toBe('created');
    } finally {
      sandbox.runc(['delete', '--force', id]);
    }
  }, 120_000);

  it('creates racing force deletes: whatever wins, state is whole and delete --force leaves nothing', async () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['sleep', '1000'];
    });
    const id = sandbox.id('race');
    const calls: string[][] = [];
    for (let i = 0; i < 10; i++) {
      calls.push(
        ['create', '--bundle', bundle, id],
        ['delete', '--force', id],
        ['state', id],
        ['kill', id, 'KILL'],
        ['exec', '-d', id, 'true'],
      );
    }
    try {
      const results = await Promise.all(calls.map((args) => runcAsync(args)));
      const unexpected = results.filter((result) => {
        if (result.status === 0) return false;
        const message = messageOf(result.stderr);
        return !(
          message === `container with given ID already exists: ${id}` ||
          message === `container does not exist: ${id}` ||
          message === 'container not running' ||
          message === 'cannot exec in a stopped container' ||
          // An exec whose container a racing delete removed while it joined.
          message.startsWith('runc-ts-init')
        );
      });
      expect(unexpected.map((r) => `${r.args.join(' ')}: ${r.stderr}`)).toEqual([]);
      // Whole: either no container, or one whose state reads.
      const state = sandbox.runc(['state', id]);
      if (state.status === 0) expect(JSON.parse(state.stdout).id).toBe(id);
      else expect(messageOf(state.stderr)).toBe(`container does not exist: ${id}`);
    } finally {
      expect(sandbox.runc(['delete', '--force', id]).status).toBe(0);
    }
    expect(existsSync(join(sandbox.root, id))).toBe(false);
    expect(existsSync(join(sandbox.root, '@locks', id))).toBe(false);
  }, 120_000);
});

describe('a corrupt state file', () => {
  it('state names it; delete --force removes it (it used to fail on it forever)', () => {
    const id = sandbox.id('corrupt');
    // Make the root as our runc does, then a container directory by hand.
    expect(sandbox.runc(['list']).status).toBe(0);
    mkdirSync(join(sandbox.root, id), { recursive: true });
    writeFileSync(join(sandbox.root, id, 'state.json'), '{"id": "x", "pi');
    const state = sandbox.runc(['state', id]);
    expect(state.status).toBe(1);
    expect(state.stderr).toContain(
      `state of container ${id} is corrupt (${join(sandbox.root, id, 'state.json')}: `,
    );
    const deleted = sandbox.runc(['delete', '--force', id]);
    expect(deleted.status).toBe(0);
    expect(deleted.stderr).toContain('level=warning');
    expect(deleted.stderr).toContain('removed; its processes and cgroup, if any, are not known');
    expect(existsSync(join(sandbox.root, id))).toBe(false);
  });
});
