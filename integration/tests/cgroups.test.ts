import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cgroupDirOf, cgroupDirsNamed, isUnified, readCgroupFile } from '../support/cgroups.js';
import { runcTs } from '../support/runc.js';
import { leftovers, Sandbox } from '../support/sandbox.js';

// Resources are written *and* enforced, on whatever layout the host has:
// cgroup v1/hybrid here, v2 in the CI VM (scripts/vm/cgroup2-vm).

const sandbox = new Sandbox();
afterAll(() => sandbox.cleanup());

// In the emulated v2 VM every command is ~10x slower: there, only what
// depends on the driver runs; the rest is the same code on every layout.
const inVm = process.env.RUNC_TS_VM_GUEST !== undefined;
const hostOnly = it.skipIf(inVm);
if (inVm) console.warn('cgroups.test.ts: driver-independent cases run on the host only');

const MiB = 1024 * 1024;
const sleepMs = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Waits stretched for the emulated VM. */
const slowdown = process.env.RUNC_TS_VM_GUEST !== undefined ? 10 : 1;

function waitFor(what: string, condition: () => boolean, timeoutMs = 10_000 * slowdown): void {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    sleepMs(20);
  }
}

/** Starts a detached container running `script`; returns its id, init pid and bundle. */
function startDetached(
  script: string,
  edit: (spec: any) => void = () => {},
): { id: string; pid: number; bundle: string } {
  const bundle = sandbox.bundle((spec) => {
    spec.process!.args = ['sh', '-c', script];
    edit(spec);
  });
  const id = sandbox.id('cg');
  const result = sandbox.runc(['run', '-d', '--bundle', bundle, id]);
  expect(result, result.stderr).toMatchObject({ status: 0 });
  return { id, pid: sandbox.state(id).pid, bundle };
}

function deleteAndCheck(id: string, bundle: string): void {
  expect(sandbox.runc(['delete', '--force', id]).status).toBe(0);
  expect(cgroupDirsNamed(id)).toEqual([]);
  expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
}

describe('resources on create', () => {
  it('memory: the limit is written and a hog is OOM-killed; events reports the oom', async () => {
    // The hog waits for /dev/shm/go, written once `events` listens.
    const script = 'while [ ! -e /dev/shm/go ]; do sleep 0.1; done; tail /dev/zero; sleep 1000';
    const { id, pid, bundle } = startDetached(script, (spec) => {
      spec.linux.resources = { memory: { limit: 32 * MiB, swap: 32 * MiB } };
    });
    expect(Number(readCgroupFile(pid, 'memory', 'memory.limit_in_bytes', 'memory.max'))).toBe(
      32 * MiB,
    );
    const events = spawn(runcTs, ['--root', sandbox.root, 'events', '--interval', '1s', id]);
    let output = '';
    events.stdout.on('data', (chunk) => {
      output += chunk;
    });
    try {
      // The first stats line comes after the OOM listener is set up.
      const listening = Date.now() + 15_000 * slowdown;
      while (!output.includes('"type":"stats"') && Date.now() < listening) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      writeFileSync(`/proc/${pid}/root/dev/shm/go`, '');
      const deadline = Date.now() + 15_000 * slowdown;
      while (!output.includes('"type":"oom"') && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(output).toContain(`{"type":"oom","id":"${id}"}`);
      const stats = output
        .split('\n')
        .filter((line) => line.includes('"type":"stats"'))
        .map((line) => JSON.parse(line));
      expect(stats.length).toBeGreaterThan(0);
      expect(stats[0].data.memory.usage.limit).toBe(32 * MiB);
    } finally {
      events.kill('SIGKILL');
    }
    deleteAndCheck(id, bundle);
  });

  it('pids: forking stops at the limit', () => {
    const { id, pid, bundle } = startDetached('sleep 1000', (spec) => {
      spec.linux.resources = { pids: { limit: 8 } };
    });
    expect(readCgroupFile(pid, 'pids', 'pids.max', 'pids.max')).toBe('8');
    const bomb = sandbox.runc([
      'exec',
      id,
      'sh',
      '-c',
      'n=0; while [ $n -lt 20 ]; do sleep 100 & n=$((n+1)); done; wait',
    ]);
    expect(bomb.stderr).toMatch(/can't fork|Resource temporarily unavailable/);
    expect(Number(readCgroupFile(pid, 'pids', 'pids.current', 'pids.current'))).toBeLessThanOrEqual(
      8,
    );
    deleteAndCheck(id, bundle);
  });

  it('cpu: a quota visibly throttles a busy loop', () => {
    const started = Date.now();
    const { id, pid, bundle } = startDetached('while :; do :; done', (spec) => {
      spec.linux.resources = { cpu: { quota: 10_000, period: 100_000 } };
    });
    if (isUnified()) {
      expect(readCgroupFile(pid, 'cpu', '', 'cpu.max')).toBe('10000 100000');
    } else {
      expect(readCgroupFile(pid, 'cpu', 'cpu.cfs_quota_us', '')).toBe('10000');
    }
    sleepMs(1500);
    const stats = JSON.parse(sandbox.runc(['events', '--stats', id]).stdout);
    expect(stats.data.cpu.throttling.throttledPeriods).toBeGreaterThan(5);
    // 10 % of one cpu: far less than the time it has been running.
    const elapsed = (Date.now() - started) / 1000;
    expect(stats.data.cpu.usage.total / 1e9).toBeLessThan(0.3 * elapsed);
    deleteAndCheck(id, bundle);
  });

  it('devices: a device outside the allow list cannot be opened', () => {
    const result = sandbox.exec(
      [
        'sh',
        '-c',
        'mknod /dev/mem2 c 1 1 && (head -c 1 /dev/mem2 >/dev/null && echo opened || echo denied); mknod /dev/null2 c 1 3 && echo x > /dev/null2 && echo null-ok',
      ],
      (spec) => {
        // mknod is allowed by runc's "c *:* m" rule; opening is what the list decides.
        for (const set of ['bounding', 'effective', 'permitted'] as const) {
          spec.process!.capabilities![set]!.push('CAP_MKNOD');
        }
      },
    );
    expect(result.stdout).toContain('denied');
    expect(result.stdout).toContain('null-ok');
    expect(result.stderr).toContain('Operation not permitted');
  });

  hostOnly('an absolute cgroupsPath is used as given, and removed on delete', () => {
    const path = `/runc-ts-it-${process.pid}-abs`;
    const { id, pid, bundle } = startDetached('sleep 1000', (spec) => {
      spec.linux.cgroupsPath = path;
      spec.linux.resources = { pids: { limit: 42 } };
    });
    expect(cgroupDirOf(pid, 'pids').endsWith(path)).toBe(true);
    expect(readCgroupFile(pid, 'pids', 'pids.max', 'pids.max')).toBe('42');
    expect(sandbox.runc(['delete', '--force', id]).status).toBe(0);
    expect(cgroupDirsNamed(`runc-ts-it-${process.pid}-abs`)).toEqual([]);
    expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
  });

  it('a frozen cgroupsPath is refused before anything is created; a shared one is warned about', () => {
    const name = `runc-ts-it-${process.pid}-frozen`;
    const frozenDir = isUnified() ? `/sys/fs/cgroup/${name}` : `/sys/fs/cgroup/freezer/${name}`;
    mkdirSync(frozenDir);
    try {
      writeFileSync(
        join(frozenDir, isUnified() ? 'cgroup.freeze' : 'freezer.state'),
        isUnified() ? '1' : 'FROZEN',
      );
      const bundle = sandbox.bundle((spec) => {
        spec.process!.args = ['sleep', '1000'];
        spec.linux!.cgroupsPath = `/${name}`;
      });
      const id = sandbox.id('frozen');
      const refused = sandbox.runc(['run', '-d', '--bundle', bundle, id]);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain("container's cgroup unexpectedly frozen");
      expect(sandbox.runc(['state', id]).status).toBe(1);
      expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
    } finally {
      // The test's own directory: it holds no process (nothing was started).
      for (const dir of cgroupDirsNamed(name)) rmdirSync(dir);
    }

    const shared = `/runc-ts-it-${process.pid}-shared`;
    const first = startDetached('sleep 1000', (spec) => {
      spec.linux.cgroupsPath = shared;
    });
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['sleep', '1000'];
      spec.linux!.cgroupsPath = shared;
    });
    const second = sandbox.id('shared');
    const warned = sandbox.runc(['run', '-d', '--bundle', bundle, second]);
    expect(warned.status).toBe(0);
    expect(warned.stderr).toContain(
      'level=warning msg="container\'s cgroup is not empty: 1 process(es) found"',
    );
    expect(sandbox.runc(['delete', '--force', second]).status).toBe(0);
    expect(sandbox.runc(['delete', '--force', first.id]).status).toBe(0);
    expect(cgroupDirsNamed(`runc-ts-it-${process.pid}-shared`)).toEqual([]);
  });

  hostOnly('a cgroup namespace has the container cgroup as its root', () => {
    const result = sandbox.exec(['cat', '/proc/self/cgroup'], (spec) => {
      spec.linux!.namespaces!.push({ type: 'cgroup' });
    });
    expect(result.status).toBe(0);
    for (const line of result.stdout.trim().split('\n')) expect(line).toMatch(/:\/$/);
  });

  hostOnly('bad resources fail create with the field named and nothing left behind', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.linux!.resources = { memory: { limit: 64 * MiB, swap: 16 * MiB } };
    });
    const id = sandbox.id('bad');
    const result = sandbox.runc(['create', '--bundle', bundle, id]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/memory/);
    expect(sandbox.runc(['state', id]).status).toBe(1);
    expect(cgroupDirsNamed(id)).toEqual([]);
    expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
  });
});

describe('update, pause, resume, ps, exec, kill --all', () => {
  it('update changes the limits of a running container, from flags and from a file', () => {
    const { id, pid, bundle } = startDetached('sleep 1000', (spec) => {
      spec.linux.resources = { memory: { limit: 64 * MiB }, pids: { limit: 20 } };
    });
    expect(sandbox.runc(['update', '--memory', '128m', '--pids-limit', '30', id]).status).toBe(0);
    expect(Number(readCgroupFile(pid, 'memory', 'memory.limit_in_bytes', 'memory.max'))).toBe(
      128 * MiB,
    );
    expect(readCgroupFile(pid, 'pids', 'pids.max', 'pids.max')).toBe('30');
    const file = join(bundle, 'resources.json');
    writeFileSync(file, JSON.stringify({ pids: { limit: 40 } }));
    expect(sandbox.runc(['update', '--resources', file, id]).status).toBe(0);
    expect(readCgroupFile(pid, 'pids', 'pids.max', 'pids.max')).toBe('40');
    expect(sandbox.runc(['update', '-r', '-', id], { input: '{"pids":{"limit":50}}' }).status).toBe(
      0,
    );
    expect(readCgroupFile(pid, 'pids', 'pids.max', 'pids.max')).toBe('50');
    // Kept in the state: memory from the first update survives the later ones.
    const stored = JSON.parse(readFileSync(join(sandbox.root, id, 'state.json'), 'utf8'));
    expect(stored.config.linux.resources).toMatchObject({
      memory: { limit: 128 * MiB },
      pids: { limit: 50 },
    });
    const bad = sandbox.runc(['update', '--memory', '1x', id]);
    expect(bad).toMatchObject({ status: 1 });
    expect(bad.stderr).toContain("invalid value for memory: invalid size: '1x'");
    deleteAndCheck(id, bundle);
  });

  it('pause freezes every process and resume thaws them', () => {
    const { id, bundle } = startDetached(
      'i=0; while :; do i=$((i+1)); echo $i > /tmp/counter; done',
      (spec) => {
        spec.root.readonly = false;
      },
    );
    const counter = join(bundle, 'rootfs/tmp/counter');
    const read = () => {
      try {
        return Number(readFileSync(counter, 'utf8') || '0');
      } catch {
        return 0; // not written yet
      }
    };
    waitFor('the counter', () => read() > 0);
    expect(sandbox.runc(['pause', id]).status).toBe(0);
    expect(sandbox.state(id).status).toBe('paused');
    const frozenAt = read();
    sleepMs(300);
    expect(read()).toBe(frozenAt);
    const again = sandbox.runc(['pause', id]);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('container not running');
    const exec = sandbox.runc(['exec', id, 'true']);
    expect(exec.status).toBe(255);
    expect(exec.stderr).toContain('cannot exec in a paused container');
    expect(sandbox.runc(['resume', id]).status).toBe(0);
    expect(sandbox.state(id).status).toBe('running');
    waitFor('the counter to move again', () => read() > frozenAt);
    const notPaused = sandbox.runc(['resume', id]);
    expect(notPaused.status).toBe(1);
    expect(notPaused.stderr).toContain('container not paused');
    deleteAndCheck(id, bundle);
  });

  hostOnly('a paused container can be deleted with --force', () => {
    const { id, bundle } = startDetached('sleep 1000');
    expect(sandbox.runc(['pause', id]).status).toBe(0);
    deleteAndCheck(id, bundle);
  });

  it('ps lists the processes of the container, exec joins its cgroup', () => {
    const { id, pid, bundle } = startDetached('sleep 1000');
    const exec = sandbox.runc(['exec', '-d', id, 'sleep', '999']);
    expect(exec.status).toBe(0);
    const pids: number[] = JSON.parse(sandbox.runc(['ps', '--format', 'json', id]).stdout);
    expect(pids).toHaveLength(2);
    expect(pids).toContain(pid);
    const other = pids.find((p) => p !== pid)!;
    expect(readFileSync(`/proc/${other}/cgroup`, 'utf8')).toBe(
      readFileSync(`/proc/${pid}/cgroup`, 'utf8'),
    );
    const table = sandbox.runc(['ps', id]).stdout.trim().split('\n');
    expect(table[0]).toMatch(/^UID\s+PID\s+PPID/);
    expect(
      table
        .slice(1)
        .map((row) => Number(row.trim().split(/\s+/)[1]))
        .sort(),
    ).toEqual([...pids].sort());
    // exec --cgroup: an existing sub-cgroup (v1: of one controller).
    mkdirSync(join(cgroupDirOf(pid, 'pids'), 'sub'));
    const target = isUnified() ? 'sub' : 'pids:sub';
    const inSub = sandbox.runc(['exec', '--cgroup', target, id, 'cat', '/proc/self/cgroup']);
    expect(inSub.status, inSub.stderr).toBe(0);
    expect(inSub.stdout).toMatch(isUnified() ? /^0::.*\/sub$/m : /:pids:.*\/sub$/m);
    const custom = sandbox.runc(['ps', id, '-o', 'pid,args']).stdout.trim().split('\n');
    expect(custom[0]).toMatch(/^\s*PID\s+COMMAND/);
    expect(custom.slice(1).join('\n')).toContain('sleep 999');
    deleteAndCheck(id, bundle);
  });

  hostOnly('kill --all reaches every process of a container without its own pid namespace', () => {
    // sh forks one sleep and becomes the other: two processes, the init one of them.
    const { id, pid, bundle } = startDetached('sleep 1000 & exec sleep 1001', (spec) => {
      spec.linux.namespaces = spec.linux.namespaces.filter((ns: any) => ns.type !== 'pid');
    });
    waitFor(
      'both sleeps',
      () => JSON.parse(sandbox.runc(['ps', '-f', 'json', id]).stdout).length >= 2,
    );
    const pids: number[] = JSON.parse(sandbox.runc(['ps', '-f', 'json', id]).stdout);
    expect(sandbox.runc(['kill', '--all', id, 'KILL']).status).toBe(0);
    waitFor('every process to die', () =>
      pids.every((p) => {
        try {
          return readFileSync(`/proc/${p}/stat`, 'utf8').split(' ')[2] === 'Z';
        } catch {
          return true;
        }
      }),
    );
    expect(pid).toBeGreaterThan(0);
    deleteAndCheck(id, bundle);
  });
});

describe('no cgroup is left behind', () => {
  // 200 on the host; the emulated cgroup v2 VM runs each command ~10x slower.
  const cycles = inVm ? 5 : 200;
  it(`after ${cycles} create/delete cycles with resources set`, { timeout: 600_000 }, () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['true'];
      spec.linux!.resources = {
        memory: { limit: 64 * MiB },
        pids: { limit: 100 },
        cpu: { shares: 512 },
      };
    });
    const prefix = sandbox.id('cycle');
    for (let i = 0; i < cycles; i++) {
      const id = `${prefix}-${i}`;
      const created = sandbox.runc(['create', '--bundle', bundle, id]);
      expect(created.status, created.stderr).toBe(0);
      const deleted = sandbox.runc(['delete', id]);
      expect(deleted.status, deleted.stderr).toBe(0);
    }
    expect(cgroupDirsNamed(prefix)).toEqual([]);
    expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
  });
});
