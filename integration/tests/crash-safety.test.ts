// kill -9 at every step (issue 12): the runtime SIGKILLed at each named point
// of create, start, exec and delete (RUNC_TS_TEST_KILL_AT, see
// packages/libcontainer/src/crash-points.ts), and at increasing delays into a
// create; afterwards `delete --force` must leave no process, cgroup, mount,
// state directory, lock or fifo, and the id must be usable again.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import type { Spec } from '@runc-ts/spec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cgroupDirsNamed } from '../support/cgroups.js';
import { repoRoot, runCaptured, runcTs } from '../support/runc.js';
import { Sandbox } from '../support/sandbox.js';

const CRASH_POINT_ENV = 'RUNC_TS_TEST_KILL_AT';
/** The points the runtime has, from its source (the test runs the built binary). */
const CRASH_POINTS = [
  ...readFileSync(join(repoRoot, 'packages/libcontainer/src/crash-points.ts'), 'utf8').matchAll(
    /^ {2}'((?:create|start|exec|delete):[a-z-]+)',$/gm,
  ),
].map((match) => match[1]!);

const sandbox = new Sandbox();
let agent: Server | undefined;
afterAll(() => {
  agent?.close();
  sandbox.cleanup();
});

const agentSocket = join(sandbox.dir, 'agent.sock');
beforeAll(async () => {
  // The container's root user (host uid 100000) walks to its rootfs.
  chmodSync(sandbox.dir, 0o711);
  // A seccomp agent that only takes the connection (the notify fd arrives in
  // the backlog): enough for create to pass its SECCOMP step.
  agent = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => agent!.listen(agentSocket, resolve));
});

/** A container passing every step create has: hooks, a user namespace, a seccomp agent. */
function fullBundle(marker: string): string {
  return sandbox.bundle((spec: Spec) => {
    spec.process!.args = ['sleep', marker];
    spec.hooks = {
      prestart: [{ path: '/bin/true' }],
      createRuntime: [{ path: '/bin/true' }],
      // Run by the executor in the container: create passes its STATE step.
      createContainer: [{ path: '/bin/true' }],
    };
    spec.linux!.namespaces!.push({ type: 'user' });
    spec.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    spec.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    spec.mounts = spec.mounts!.filter((m) => m.type !== 'cgroup');
    spec.linux!.seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      listenerPath: agentSocket,
      syscalls: [{ names: ['mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
    };
  });
}

/** Runs `body` on a fresh id; whatever happens, the container is force-deleted after. */
function withId(body: (id: string) => void): void {
  const id = sandbox.id('k9');
  try {
    body(id);
  } finally {
    runcKilledAt(undefined, ['delete', '--force', id]);
  }
}

/** Runs our runc, SIGKILLing itself at `point`; returns its status (-1: killed). */
function runcKilledAt(point: string | undefined, args: string[]) {
  return runCaptured(runcTs, ['--root', sandbox.root, ...args], {
    dir: sandbox.dir,
    input: '',
    env: { ...process.env, ...(point ? { [CRASH_POINT_ENV]: point } : {}) },
  });
}

/** Processes with a root, cwd or open file inside the sandbox (not this one). */
function processesUsingSandbox(): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const links: string[] = [];
    try {
      links.push(readlinkSync(`/proc/${entry}/root`), readlinkSync(`/proc/${entry}/cwd`));
      for (const fd of readdirSync(`/proc/${entry}/fd`)) {
        links.push(readlinkSync(`/proc/${entry}/fd/${fd}`));
      }
    } catch {
      // exited, or a zombie
    }
    const hit = links.find((link) => link.startsWith(sandbox.dir));
    if (hit) {
      let cmdline = '?';
      try {
        cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      } catch {
        // gone
      }
      found.push(`${entry} (${cmdline}): ${hit}`);
    }
  }
  return found;
}

/** What is left of container `id`, after waiting (bounded) for its processes to go. */
function leftoversOf(id: string): string[] {
  let processes = processesUsingSandbox();
  for (let i = 0; i < 100 && processes.length > 0; i++) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    processes = processesUsingSandbox();
  }
  const left = processes.map((p) => `process ${p}`);
  for (const dir of cgroupDirsNamed(id)) left.push(`cgroup ${dir}`);
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((line) => line.includes(sandbox.dir));
  for (const mount of mounts) left.push(`mount ${mount}`);
  if (existsSync(join(sandbox.root, id))) {
    left.push(`state directory ${id}: [${readdirSync(join(sandbox.root, id)).join(', ')}]`);
  }
  if (existsSync(join(sandbox.root, '@locks', id))) left.push(`lock ${id}`);
  return left;
}

/** delete --force succeeds and leaves nothing; the id can then be created again. */
function expectCleanAfterForceDelete(id: string): void {
  const deleted = runcKilledAt(undefined, ['delete', '--force', id]);
  expect(deleted.stderr).toBe('');
  expect(deleted.status).toBe(0);
  expect(leftoversOf(id)).toEqual([]);
}

function expectIdReusable(id: string, bundle: string): void {
  const again = runcKilledAt(undefined, ['create', '--bundle', bundle, id]);
  expect(again.stderr).toBe('');
  expect(again.status).toBe(0);
  expect(runcKilledAt(undefined, ['delete', '--force', id]).status).toBe(0);
  expect(leftoversOf(id)).toEqual([]);
}

describe('kill -9 at every step', () => {
  const createPoints = CRASH_POINTS.filter((point) => point.startsWith('create:'));

  it.each(createPoints)('create killed at %s: delete --force leaves nothing', (point) => {
    const bundle = fullBundle('7101');
    withId((id) => {
      const killed = runcKilledAt(point, ['create', '--bundle', bundle, id]);
      // -1: ended by a signal; the point was reached.
      expect({ status: killed.status, stderr: killed.stderr }).toEqual({ status: -1, stderr: '' });
      expectCleanAfterForceDelete(id);
      expectIdReusable(id, bundle);
    });
  });

  it.each(createPoints)('create killed at %s: the next create takes its place', (point) => {
    const bundle = fullBundle('7106');
    withId((id) => {
      expect(runcKilledAt(point, ['create', '--bundle', bundle, id]).status).toBe(-1);
      const again = runcKilledAt(undefined, ['create', '--bundle', bundle, id]);
      if (point === 'create:done') {
        // Killed after its work was done: the container exists.
        expect(again.status).toBe(1);
        expect(again.stderr).toContain(`container with given ID already exists: ${id}`);
      } else {
        expect({ status: again.status, stderr: again.stderr }).toEqual({ status: 0, stderr: '' });
        expect(runcKilledAt(undefined, ['state', id]).stdout).toContain('"status": "created"');
      }
      expectCleanAfterForceDelete(id);
    });
  });

  it('a create killed before its state file is written wedges nothing: create works again at once', () => {
    const bundle = fullBundle('7102');
    withId((id) => {
      expect(runcKilledAt('create:dir-made', ['create', '--bundle', bundle, id]).status).toBe(-1);
      // Before: "container with given ID already exists" here, and delete
      // --force said "container does not exist".
      const list = runcKilledAt(undefined, ['list', '-q']);
      expect(list.stdout.split('\n')).not.toContain(id);
      const again = runcKilledAt(undefined, ['create', '--bundle', bundle, id]);
      expect(again).toMatchObject({ status: 0, stderr: '' });
      expectCleanAfterForceDelete(id);
    });
  });

  const laterPoints = CRASH_POINTS.filter((point) => !point.startsWith('create:'));

  it.each(laterPoints)('killed at %s: delete --force leaves nothing', (point) => {
    const bundle = fullBundle('7103');
    withId((id) => {
      expect(runcKilledAt(undefined, ['create', '--bundle', bundle, id])).toMatchObject({
        status: 0,
      });
      const [command] = point.split(':');
      if (command !== 'start') {
        expect(runcKilledAt(undefined, ['start', id]).status).toBe(0);
      }
      const args =
        command === 'start'
          ? ['start', id]
          : command === 'exec'
            ? ['exec', '-d', id, 'sleep', '7104']
            : ['delete', '--force', id];
      const killed = runcKilledAt(point, args);
      expect({ status: killed.status, stderr: killed.stderr }).toEqual({ status: -1, stderr: '' });
      if (command === 'start') {
        // Whatever the killed start did, the next one answers at once (it
        // used to wait forever when the init was released but the fifo left).
        const again = runcKilledAt(undefined, ['start', id]);
        if (again.status !== 0) {
          expect(again.stderr).toMatch(
            /cannot start an already running container|cannot start a container that has stopped/,
          );
        }
      }
      expectCleanAfterForceDelete(id);
      expectIdReusable(id, bundle);
    });
  });
});

describe('kill -9 at increasing delays into a create', () => {
  it('0 of 30 kills between 0 and 87 ms leave anything after delete --force', async () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['sleep', '7105'];
    });
    const leaks: string[] = [];
    for (let i = 0; i < 30; i++) {
      const id = sandbox.id('k9d');
      const child = spawn(runcTs, ['--root', sandbox.root, 'create', '--bundle', bundle, id], {
        stdio: 'ignore',
      });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      await new Promise((resolve) => setTimeout(resolve, i * 3));
      child.kill('SIGKILL');
      await exited;
      const deleted = spawnSync(runcTs, ['--root', sandbox.root, 'delete', '--force', id], {
        encoding: 'utf8',
        timeout: 20_000,
      });
      if (deleted.status !== 0) leaks.push(`${id}: delete --force: ${deleted.stderr}`);
      for (const left of leftoversOf(id)) leaks.push(`${id} (killed at ${i * 3} ms): ${left}`);
    }
    expect(leaks).toEqual([]);
  }, 180_000);
});
