// The v1 driver on this host's real cgroup filesystems, as root: values read
// back from the kernel, and limits enforced on real processes.

import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LinuxResources } from '@runc-ts/spec';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  blkioWeightFile,
  isRoot,
  killCgroupProcesses,
  killShells,
  processState,
  spawnWaitingShell,
  uniqueCgroupName,
  waitFor,
} from '../test/test-root.js';
import { containerDeviceRules } from './devices.js';
import { CgroupError } from './errors.js';
import { FsV1Manager } from './fs-v1.js';
import { detectLayout, parseProcCgroup } from './layout.js';
import { newFsManager } from './manager.js';
import type { CgroupLayout } from './types.js';

function detectOrUndefined(): CgroupLayout | undefined {
  try {
    return detectLayout();
  } catch {
    return undefined;
  }
}

const layout = detectOrUndefined();
const skipReason = !isRoot
  ? 'needs root (creates cgroups on the host)'
  : layout === undefined || layout.mode === 'unified'
    ? 'needs a cgroup v1 or hybrid host'
    : undefined;
if (skipReason) console.warn(`fs-v1.root.test.ts: skipping: ${skipReason}`);

// linux.resources.blockIO.weight only where the kernel has a weight file.
const blkioWeight = skipReason ? undefined : blkioWeightFile(layout?.v1Mounts.blkio);
if (blkioWeight?.why) {
  console.warn(`fs-v1.root.test.ts: blockIO.weight not checked: ${blkioWeight.why}`);
}

function has(...controllers: string[]): boolean {
  return controllers.every((controller) => layout?.v1Mounts[controller] !== undefined);
}

/** A block device of this host, for throttling rules (the first disk that is not a loop or zram device). */
function someBlockDevice(): { major: number; minor: number } | undefined {
  for (const name of readdirSync('/sys/block')) {
    if (/^(loop|zram|ram)/.test(name)) continue;
    const [major, minor] = readFileSync(`/sys/block/${name}/dev`, 'utf8')
      .trim()
      .split(':')
      .map(Number);
    return { major: major as number, minor: minor as number };
  }
  return undefined;
}

let manager: FsV1Manager | undefined;

function newTestManager(): FsV1Manager {
  const name = uniqueCgroupName();
  manager = newFsManager(
    { containerId: name, cgroupsPath: `/${name}`, systemd: false },
    layout as CgroupLayout,
  ) as FsV1Manager;
  return manager;
}

const read = (key: string, file: string) =>
  readFileSync(join(manager?.path(key) as string, file), 'utf8').trim();

vi.setConfig({ testTimeout: 30000 });

afterEach(async () => {
  await killShells();
  if (manager) {
    for (const dir of Object.values(manager.state().paths)) killCgroupProcesses(dir);
    await manager.destroy();
  }
  manager = undefined;
});

describe('FsV1Manager on this host', () => {
  it.skipIf(skipReason)(
    'moves a process into every hierarchy and writes values the kernel reads back (root)',
    async () => {
      const cgroup = newTestManager();
      const shell = spawnWaitingShell('sleep 30');
      await cgroup.apply(shell.pid);
      const name = cgroup.path('memory')?.split('/').pop() as string;
      const placed = parseProcCgroup(readFileSync(`/proc/${shell.pid}/cgroup`, 'utf8'));
      for (const key of Object.keys(cgroup.state().paths)) expect(placed[key]).toBe(`/${name}`);

      const device = someBlockDevice();
      const resources: LinuxResources = {
        devices: containerDeviceRules([{ allow: false, access: 'rwm' }]),
        memory: { limit: 67108864, reservation: 33554432, swappiness: 20, disableOOMKiller: false },
        cpu: {
          shares: 512,
          quota: 20000,
          period: 100000,
          cpus: '0',
          mems: '0',
          realtimePeriod: 1000000,
          realtimeRuntime: 10000,
        },
        pids: { limit: 20 },
      };
      if (
        existsSync(join(cgroup.path('memory') as string, 'memory.memsw.limit_in_bytes')) &&
        resources.memory
      ) {
        resources.memory.swap = 134217728;
      }
      if (device && has('blkio')) {
        resources.blockIO = { throttleReadBpsDevice: [{ ...device, rate: 1048576 }] };
        if (blkioWeight?.file) resources.blockIO.weight = 300;
      }
      await cgroup.set(resources);
      expect(read('memory', 'memory.limit_in_bytes')).toBe('67108864');
      expect(read('memory', 'memory.soft_limit_in_bytes')).toBe('33554432');
      if (resources.memory?.swap)
        expect(read('memory', 'memory.memsw.limit_in_bytes')).toBe('134217728');
      expect(read('memory', 'memory.swappiness')).toBe('20');
      expect(read('memory', 'memory.oom_control')).toMatch(/^oom_kill_disable 0$/m);
      expect(read('cpu', 'cpu.shares')).toBe('512');
      expect(read('cpu', 'cpu.cfs_quota_us')).toBe('20000');
      expect(read('cpu', 'cpu.cfs_period_us')).toBe('100000');
      expect(read('cpu', 'cpu.rt_runtime_us')).toBe('10000');
      expect(read('cpuset', 'cpuset.cpus')).toBe('0');
      expect(read('pids', 'pids.max')).toBe('20');
      if (resources.blockIO) {
        if (blkioWeight?.file) expect(read('blkio', blkioWeight.file)).toBe('300');
        expect(read('blkio', 'blkio.throttle.read_bps_device')).toBe(
          `${device?.major}:${device?.minor} 1048576`,
        );
      }
      expect(read('devices', 'devices.list').split('\n')).toContain('c 136:* rwm');

      // Lowering the quota below a burst needs the burst lowered first: the retry order handles it.
      if (existsSync(join(cgroup.path('cpu') as string, 'cpu.cfs_burst_us'))) {
        await cgroup.set({ cpu: { quota: 50000, burst: 40000 } });
        await cgroup.set({ cpu: { quota: 10000, burst: 5000 } });
        expect(read('cpu', 'cpu.cfs_burst_us')).toBe('5000');
      }

      const clamped = await cgroup.set({ cpu: { shares: 1 } }).catch((error: unknown) => error);
      expect(clamped).toBeInstanceOf(CgroupError);
      expect((clamped as CgroupError).message).toBe(
        'linux.resources.cpu.shares: 1 is out of range: the minimum allowed cpu-shares is 2',
      );
      const busy = await cgroup
        .set({ memory: { limit: 4096, swap: 4096 } })
        .catch((error: unknown) => error);
      if (busy instanceof CgroupError) {
        expect(busy.message).toMatch(
          /^linux\.resources\.memory\.(limit|swap): write \/sys\/fs\/cgroup\/memory\/.*: "4096": /,
        );
      }

      const stats = cgroup.stats();
      expect(stats.pids.current).toBe(1);
      expect(stats.pids.limit).toBe(20);
      expect(stats.memory.usage.limit).toBeGreaterThan(0);
      expect(stats.cpuset.cpus).toEqual([0]);
      expect(cgroup.pids().sort()).toEqual(
        readFileSync(join(cgroup.path('pids') as string, 'cgroup.procs'), 'utf8')
          .trim()
          .split('\n')
          .map(Number)
          .sort(),
      );
    },
  );

  it.skipIf(skipReason)(
    'OOM-kills a memory hog at the memory limit and reports it through onOom (root)',
    async () => {
      const cgroup = newTestManager();
      const shell = spawnWaitingShell('head -c 512m /dev/zero | tail; echo survived');
      await cgroup.apply(shell.pid);
      await cgroup.set({ memory: { limit: 33554432 } });
      let ooms = 0;
      const stop = cgroup.onOom(() => {
        ooms++;
      });
      try {
        shell.start();
        await waitFor(() => ooms > 0, 15000, 'OOM notification');
        await shell.exited;
      } finally {
        stop();
      }
      expect(read('memory', 'memory.oom_control')).toMatch(/^oom_kill [1-9]/m);
      expect(cgroup.stats().memory.usage.failcnt).toBeGreaterThan(0);
    },
  );

  it.skipIf(skipReason || !has('pids'))('refuses forks beyond pids.max (root)', async () => {
    const cgroup = newTestManager();
    const shell = spawnWaitingShell('for i in 1 2 3 4 5 6; do sleep 30 & done; echo started');
    await cgroup.apply(shell.pid);
    await cgroup.set({ pids: { limit: 4 } });
    shell.start();
    // dash gives up on the script at the first fork that fails.
    await Promise.race([
      shell.exited,
      waitFor(() => shell.output().includes('started'), 10000, 'forking shell'),
    ]);
    expect(shell.output()).toMatch(/fork/i);
    expect(Number(read('pids', 'pids.current'))).toBeLessThanOrEqual(4);
    expect(readFileSync(join(cgroup.path('pids') as string, 'pids.events'), 'utf8')).toMatch(
      /^max [1-9]/m,
    );
  });

  it.skipIf(skipReason || !has('devices'))(
    'denies a device the rules deny and keeps the others (root)',
    async () => {
      const cgroup = newTestManager();
      const shell = spawnWaitingShell('cat /dev/null; echo "null=$?"; head -c 3 /dev/zero | wc -c');
      await cgroup.apply(shell.pid);
      await cgroup.set({
        devices: [
          ...containerDeviceRules([{ allow: false, access: 'rwm' }]),
          { allow: false, type: 'c', major: 1, minor: 3, access: 'rwm' },
        ],
      });
      expect(read('devices', 'devices.list').split('\n')).not.toContain('c 1:3 rwm');
      shell.start();
      await shell.exited;
      expect(shell.output()).toMatch(/\/dev\/null: Operation not permitted/);
      expect(shell.output()).toMatch(/null=1/);
      expect(shell.output()).toMatch(/^3$/m);
    },
  );

  it.skipIf(skipReason || !has('freezer'))('freezes and thaws every process (root)', async () => {
    const cgroup = newTestManager();
    const shell = spawnWaitingShell('while :; do echo tick; sleep 0.02; done');
    await cgroup.apply(shell.pid);
    shell.start();
    await waitFor(() => shell.output().length > 20, 5000, 'ticking shell');
    await cgroup.freeze();
    expect(cgroup.freezerState()).toBe('frozen');
    expect(processState(shell.pid)).toBe('D');
    const frozenOutput = shell.output().length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(shell.output().length).toBe(frozenOutput);
    await cgroup.thaw();
    expect(cgroup.freezerState()).toBe('thawed');
    await waitFor(() => shell.output().length > frozenOutput, 5000, 'shell resuming');
  });

  it.skipIf(skipReason)('destroy removes the directory of every hierarchy (root)', async () => {
    const cgroup = newTestManager();
    const shell = spawnWaitingShell('sleep 30');
    await cgroup.apply(shell.pid);
    const dirs = Object.values(cgroup.state().paths);
    expect(dirs.every((dir) => existsSync(dir))).toBe(true);
    shell.kill();
    await shell.exited;
    await cgroup.destroy();
    expect(dirs.filter((dir) => existsSync(dir))).toEqual([]);
    expect(cgroup.exists()).toBe(false);
    await cgroup.destroy();
  });
});

const skipImmutable = skipReason ?? (existsSync('/usr/bin/chattr') ? undefined : 'needs chattr');

describe('FsV1Manager rootless', () => {
  it.skipIf(skipImmutable)(
    'skips a cgroup it may not create and says why a value cannot be set (root, chattr +i)',
    async () => {
      const { execFileSync } = await import('node:child_process');
      const base = mkdtempSync(join(tmpdir(), 'cgroups-rootless-'));
      const locked = join(base, 'locked');
      mkdirSync(locked);
      chmodSync(locked, 0o755);
      execFileSync('chattr', ['+i', locked]);
      try {
        const rootless = new FsV1Manager({ memory: join(locked, 'ctr') }, { rootless: true });
        await rootless.apply(process.pid);
        expect(rootless.state()).toEqual({ driver: 'fs', paths: {}, rootless: true });
        expect(rootless.skipped[0]).toMatch(/^create .*locked\/ctr: Operation not permitted$/);
        await rootless.set({ pids: { limit: 3 } }).catch(() => undefined);
        const error = await rootless
          .set({ memory: { limit: 1 } })
          .catch((caught: unknown) => caught);
        expect((error as CgroupError).message).toBe(
          'linux.resources.memory: cannot be set: its cgroup could not be created as an unprivileged user',
        );
        await expect(new FsV1Manager({ memory: join(locked, 'ctr') }).apply(0)).rejects.toThrow(
          /Operation not permitted/,
        );
      } finally {
        execFileSync('chattr', ['-i', locked]);
        rmSync(base, { recursive: true, force: true });
      }
    },
  );
});
