// runc 1.1.5 as the oracle, as root on this v1/hybrid host: the same config
// gives the same cgroup paths, the same file values (devices.list byte for
// byte) and stats of the same shape as `runc events --stats`.

import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LinuxResources } from '@runc-ts/spec';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  blkioWeightFile,
  isRoot,
  killCgroupProcesses,
  killShells,
  spawnWaitingShell,
} from '../test/test-root.js';
import { containerDeviceRules } from './devices.js';
import { FsV1Manager } from './fs-v1.js';
import { detectLayout, readOwnCgroups } from './layout.js';
import { newFsManager } from './manager.js';
import { v1CgroupPaths } from './paths.js';
import { formatStatsJson } from './stats.js';
import type { CgroupLayout } from './types.js';

const makeBundle = fileURLToPath(new URL('../../../scripts/make-busybox-bundle', import.meta.url));

function hostLayout(): CgroupLayout | undefined {
  try {
    return detectLayout();
  } catch {
    return undefined;
  }
}

const layout = hostLayout();
const hasRunc = spawnSync('runc', ['--version']).status === 0;
const skipReason = !isRoot
  ? 'needs root (runs runc containers)'
  : !hasRunc
    ? 'runc is not installed'
    : layout === undefined || layout.mode === 'unified'
      ? 'the comparison is for cgroup v1 and hybrid hosts'
      : !existsSync('/bin/busybox')
        ? 'busybox-static is not installed (scripts/make-busybox-bundle needs it)'
        : undefined;
if (skipReason) console.warn(`runc-oracle.root.test.ts: skipping: ${skipReason}`);

// linux.resources.blockIO.weight only where the kernel has a weight file.
const blkioWeight = skipReason ? undefined : blkioWeightFile(layout?.v1Mounts.blkio);
if (blkioWeight?.why) {
  console.warn(`runc-oracle.root.test.ts: blockIO.weight not compared: ${blkioWeight.why}`);
}

vi.setConfig({ testTimeout: 60000, hookTimeout: 60000 });

let work: string;
let stateRoot: string;
const started: string[] = [];

function runc(...args: string[]): string {
  return execFileSync('runc', ['--root', stateRoot, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs a detached `sleep` container with `linux` merged into `runc spec`'s config; returns runc's cgroup_paths. */
function runContainer(id: string, linux: Record<string, unknown>): Record<string, string> {
  const bundle = join(work, id);
  execFileSync('mkdir', ['-p', bundle]);
  execFileSync('runc', ['spec', '--bundle', bundle]);
  const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
  config.root.path = join(work, 'rootfs');
  config.process.args = ['sleep', '1000'];
  config.process.terminal = false;
  Object.assign(config.linux, linux);
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
  started.push(id);
  // Detached: the container keeps the stdio it is given, so give it none.
  execFileSync('runc', ['--root', stateRoot, 'run', '-d', '--bundle', bundle, id], {
    stdio: 'ignore',
  });
  return JSON.parse(readFileSync(join(stateRoot, id, 'state.json'), 'utf8')).cgroup_paths;
}

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

beforeAll(() => {
  if (skipReason) return;
  work = mkdtempSync(join(tmpdir(), 'cgroups-oracle-'));
  stateRoot = join(work, 'state');
  execFileSync(makeBundle, [work]);
});

afterAll(async () => {
  if (skipReason) return;
  await killShells();
  for (const id of started) {
    spawnSync('runc', ['--root', stateRoot, 'delete', '-f', id]);
  }
  rmSync(work, { recursive: true, force: true });
});

describe('against runc 1.1.5', () => {
  it.skipIf(skipReason)(
    'places a container without cgroupsPath where runc does (root, runc)',
    () => {
      const id = `runc-ts-oracle-${randomBytes(4).toString('hex')}`;
      const runcPaths = runContainer(id, {});
      expect(v1CgroupPaths({ containerId: id }, layout as CgroupLayout, readOwnCgroups())).toEqual(
        runcPaths,
      );
    },
  );

  it.skipIf(skipReason)(
    'writes the same values and the same devices.list as runc (root, runc)',
    async () => {
      const suffix = randomBytes(4).toString('hex');
      const device = someBlockDevice();
      const resources: LinuxResources = {
        devices: [
          { allow: false, access: 'rwm' },
          { allow: true, type: 'c', major: 4, access: 'r' },
          { allow: true, type: 'c', major: 1, minor: 3, access: 'w' },
          { allow: false, type: 'c', major: 5, minor: 2, access: 'rwm' },
          { allow: true, type: 'b', major: 8, minor: 1, access: 'rw' },
        ],
        memory: { limit: 104857600, reservation: 52428800, swappiness: 30, disableOOMKiller: true },
        cpu: {
          shares: 512,
          quota: 50000,
          period: 100000,
          realtimePeriod: 1000000,
          cpus: '0',
          mems: '0',
        },
        pids: { limit: 50 },
      };
      const withSwap = existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes');
      if (withSwap && resources.memory) resources.memory.swap = 209715200;
      if (device) {
        resources.blockIO = {
          throttleReadBpsDevice: [{ ...device, rate: 1048576 }],
          throttleWriteIOPSDevice: [{ ...device, rate: 100 }],
        };
        if (blkioWeight?.file) resources.blockIO.weight = 500;
      }
      const runcPaths = runContainer(`runc-ts-oracle-${suffix}`, {
        cgroupsPath: `/runc-ts-oracle-${suffix}-runc`,
        resources,
      });

      const ours = newFsManager(
        {
          containerId: `ours-${suffix}`,
          cgroupsPath: `/runc-ts-oracle-${suffix}-ours`,
          systemd: false,
        },
        layout as CgroupLayout,
      ) as FsV1Manager;
      try {
        const shell = spawnWaitingShell('sleep 1000');
        await ours.apply(shell.pid);
        await ours.set({ ...resources, devices: containerDeviceRules(resources.devices) });
        const files: [string, string][] = [
          ['memory', 'memory.limit_in_bytes'],
          ['memory', 'memory.soft_limit_in_bytes'],
          ['memory', 'memory.swappiness'],
          ['memory', 'memory.oom_control'],
          ['memory', 'memory.use_hierarchy'],
          ['cpu', 'cpu.shares'],
          ['cpu', 'cpu.cfs_quota_us'],
          ['cpu', 'cpu.cfs_period_us'],
          ['cpu', 'cpu.rt_period_us'],
          ['cpu', 'cpu.rt_runtime_us'],
          ['cpuset', 'cpuset.cpus'],
          ['cpuset', 'cpuset.mems'],
          ['pids', 'pids.max'],
          ['devices', 'devices.list'],
          ['freezer', 'freezer.state'],
        ];
        if (withSwap) files.push(['memory', 'memory.memsw.limit_in_bytes']);
        if (device) {
          if (blkioWeight?.file) files.push(['blkio', blkioWeight.file]);
          files.push(
            ['blkio', 'blkio.throttle.read_bps_device'],
            ['blkio', 'blkio.throttle.write_iops_device'],
          );
        }
        const contents = (paths: Record<string, string>) =>
          Object.fromEntries(
            files.map(([key, file]) => [
              file,
              readFileSync(join(paths[key] as string, file), 'utf8'),
            ]),
          );
        const ourFiles = contents(ours.state().paths);
        const runcFiles = contents(runcPaths);
        expect(ourFiles['devices.list']).toContain('c 4:* r\nc 5:0 rwm\nc 5:2 rwm\nb 8:1 rw\n');
        expect(ourFiles['cpu.shares']).toBe('512\n');
        expect(ourFiles).toEqual(runcFiles);
      } finally {
        for (const dir of Object.values(ours.state().paths)) killCgroupProcesses(dir);
        await killShells();
        await ours.destroy();
      }
    },
  );

  it.skipIf(skipReason)(
    'reads stats of the same shape as `runc events --stats` (root, runc)',
    () => {
      const id = `runc-ts-oracle-${randomBytes(4).toString('hex')}`;
      const runcPaths = runContainer(id, {
        resources: { memory: { limit: 104857600 }, pids: { limit: 30 } },
      });
      const event = JSON.parse(runc('events', '--stats', id));
      const ours = JSON.parse(formatStatsJson(new FsV1Manager(runcPaths).stats()));
      const theirs = event.data;
      delete theirs.intel_rdt;
      delete theirs.network_interfaces;
      // Same fields, in the same order, present and absent alike...
      expect(shapeOf(ours)).toEqual(shapeOf(theirs));
      // ...and the same values where nothing moves while the container sleeps.
      expect(ours.memory.usage.limit).toBe(theirs.memory.usage.limit);
      expect(ours.memory.swap.limit).toBe(theirs.memory.swap.limit);
      expect(ours.memory.kernelTCP).toEqual(theirs.memory.kernelTCP);
      expect(ours.cpuset).toEqual(theirs.cpuset);
      expect(ours.pids).toEqual(theirs.pids);
      expect(ours.hugetlb).toEqual(theirs.hugetlb);
      expect(ours.cpu.usage.total).toBeGreaterThanOrEqual(theirs.cpu.usage.total);
      // Exact digits for limits beyond 2^53, as runc prints them.
      const text = runc('events', '--stats', id);
      const limit = /"kernelTCP":\{"limit":(\d+)/.exec(text)?.[1];
      expect(formatStatsJson(new FsV1Manager(runcPaths).stats())).toContain(
        `"kernelTCP":{"limit":${limit}`,
      );
    },
  );
});

/** Key paths in order; arrays of numbers count as leaves (their length varies with usage). */
function shapeOf(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) {
    return value.every((item) => typeof item === 'number')
      ? [prefix]
      : value.flatMap((item, index) => shapeOf(item, `${prefix}[${index}]`));
  }
  if (value !== null && typeof value === 'object') {
    // raw (memory.stat) keys are the kernel's, listed in both; compare them as a set.
    if (prefix === 'memory.raw') return [prefix, ...Object.keys(value).sort()];
    return Object.entries(value).flatMap(([key, item]) => [
      `${prefix}${prefix ? '.' : ''}${key}`,
      ...shapeOf(item, `${prefix}${prefix ? '.' : ''}${key}`),
    ]);
  }
  return [];
}
