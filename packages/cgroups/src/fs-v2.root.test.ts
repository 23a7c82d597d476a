// The v2 driver on this host's real cgroup2 mount, as root. On a hybrid host
// (this one) the mount has no controllers: joining, the freezer, the device
// filter and core files are checked there; the controller tests run where
// cgroup2 has them (a unified host, the CI VM).

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  isRoot,
  killCgroupProcesses,
  killShells,
  spawnWaitingShell,
  uniqueCgroupName,
  waitFor,
} from '../test/test-root.js';
import { containerDeviceRules } from './devices.js';
import type { CgroupError } from './errors.js';
import { FsV2Manager } from './fs-v2.js';
import { detectLayout, parseProcCgroup } from './layout.js';

function v2MountOrUndefined(): string | undefined {
  try {
    return detectLayout().v2Mount;
  } catch {
    return undefined;
  }
}

const mountPoint = v2MountOrUndefined();
const skipReason = !isRoot
  ? 'needs root (creates cgroups on the host)'
  : mountPoint === undefined
    ? 'no cgroup2 mount on this host'
    : undefined;
if (skipReason) console.warn(`fs-v2.root.test.ts: skipping: ${skipReason}`);

const rootControllers = new Set(
  mountPoint === undefined
    ? []
    : (() => {
        try {
          return readFileSync(join(mountPoint, 'cgroup.controllers'), 'utf8').trim().split(/\s+/);
        } catch {
          return [];
        }
      })(),
);

function skipWithout(controller: string): string | undefined {
  if (skipReason) return skipReason;
  if (rootControllers.has(controller)) return undefined;
  const reason = `the cgroup2 mount has no ${controller} controller (hybrid host)`;
  console.warn(`fs-v2.root.test.ts: skipping the ${controller} test: ${reason}`);
  return reason;
}

vi.setConfig({ testTimeout: 30000 });

let manager: FsV2Manager | undefined;

function newTestManager(): FsV2Manager {
  manager = new FsV2Manager(join(mountPoint as string, uniqueCgroupName()), { mountPoint });
  return manager;
}

afterEach(async () => {
  await killShells();
  if (manager) {
    killCgroupProcesses(manager.dir);
    await manager.destroy();
  }
  manager = undefined;
});

describe('FsV2Manager on this host', () => {
  it.skipIf(skipReason)(
    'joins, lists pids, writes core files and removes the cgroup (root)',
    async () => {
      const cgroup = newTestManager();
      const shell = spawnWaitingShell('sleep 30');
      await cgroup.apply(shell.pid);
      const placed = parseProcCgroup(readFileSync(`/proc/${shell.pid}/cgroup`, 'utf8'));
      expect(join(mountPoint as string, placed[''] as string)).toBe(cgroup.dir);
      expect(cgroup.pids()).toEqual([shell.pid]);
      await cgroup.set({ unified: { 'cgroup.max.depth': '3' } });
      expect(readFileSync(join(cgroup.dir, 'cgroup.max.depth'), 'utf8').trim()).toBe('3');
      if (!rootControllers.has('memory')) {
        const error = await cgroup
          .set({ unified: { 'memory.high': '1' } })
          .catch((caught: unknown) => caught);
        expect((error as CgroupError).code).toBe('UNSUPPORTED');
        expect((error as CgroupError).message).toMatch(/the memory controller is not enabled/);
      }
      shell.kill();
      await shell.exited;
      await cgroup.destroy();
      expect(existsSync(cgroup.dir)).toBe(false);
    },
  );

  it.skipIf(skipReason)('freezes and thaws through cgroup.freeze (root)', async () => {
    const cgroup = newTestManager();
    const shell = spawnWaitingShell('while :; do echo tick; sleep 0.02; done');
    await cgroup.apply(shell.pid);
    shell.start();
    await waitFor(() => shell.output().length > 20, 5000, 'ticking shell');
    await cgroup.freeze();
    expect(cgroup.freezerState()).toBe('frozen');
    const frozenOutput = shell.output().length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(shell.output().length).toBe(frozenOutput);
    await cgroup.thaw();
    expect(cgroup.freezerState()).toBe('thawed');
    await waitFor(() => shell.output().length > frozenOutput, 5000, 'shell resuming');
  });

  it.skipIf(skipReason)('enforces the device rules through the eBPF filter (root)', async () => {
    const cgroup = newTestManager();
    const shell = spawnWaitingShell('cat /dev/null; echo "null=$?"; head -c 3 /dev/zero | wc -c');
    await cgroup.apply(shell.pid);
    await cgroup.set({
      devices: [
        ...containerDeviceRules([{ allow: false, access: 'rwm' }]),
        { allow: false, type: 'c', major: 1, minor: 3, access: 'rwm' },
      ],
    });
    shell.start();
    await shell.exited;
    expect(shell.output()).toMatch(/\/dev\/null: Operation not permitted/);
    expect(shell.output()).toMatch(/^3$/m);
  });

  it.skipIf(skipWithout('memory'))(
    'OOM-kills a memory hog and reports it through onOom (root, cgroup2 memory controller)',
    async () => {
      const cgroup = newTestManager();
      const shell = spawnWaitingShell('head -c 512m /dev/zero | tail; echo survived');
      await cgroup.apply(shell.pid);
      await cgroup.set({ memory: { limit: 33554432, swap: 33554432 } });
      expect(readFileSync(join(cgroup.dir, 'memory.max'), 'utf8').trim()).toBe('33554432');
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
      // tail was killed before it could print its 512 MiB line; the shell
      // itself may survive (the kernel picks the largest task, no oom.group).
      expect(shell.output().length).toBeLessThan(1024 * 1024);
    },
  );

  it.skipIf(skipWithout('pids'))(
    'refuses forks beyond pids.max (root, cgroup2 pids controller)',
    async () => {
      const cgroup = newTestManager();
      const shell = spawnWaitingShell('for i in 1 2 3 4 5 6; do sleep 30 & done; echo started');
      await cgroup.apply(shell.pid);
      await cgroup.set({ pids: { limit: 4 } });
      shell.start();
      await Promise.race([
        shell.exited,
        waitFor(() => shell.output().includes('started'), 10000, 'forking shell'),
      ]);
      expect(shell.output()).toMatch(/fork/i);
      expect(Number(readFileSync(join(cgroup.dir, 'pids.current'), 'utf8'))).toBeLessThanOrEqual(4);
    },
  );

  it.skipIf(skipWithout('cpu'))(
    'converts cpu values into cpu.weight and cpu.max (root, cgroup2 cpu controller)',
    async () => {
      const cgroup = newTestManager();
      await cgroup.apply(0);
      await cgroup.set({ cpu: { shares: 1024, quota: 20000, period: 100000 } });
      expect(readFileSync(join(cgroup.dir, 'cpu.weight'), 'utf8').trim()).toBe('39');
      expect(readFileSync(join(cgroup.dir, 'cpu.max'), 'utf8').trim()).toBe('20000 100000');
      expect(cgroup.stats().cpu.usage.kernel).toBeGreaterThanOrEqual(0);
    },
  );
});
