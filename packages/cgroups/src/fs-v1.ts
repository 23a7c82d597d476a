import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type {
  LinuxBlockIo,
  LinuxCpu,
  LinuxHugepageLimit,
  LinuxMemory,
  LinuxNetwork,
  LinuxRdma,
  LinuxResources,
} from '@runc-ts/spec';
import { applyV1DeviceRules } from './devices.js';
import { CgroupError } from './errors.js';
import { v1FreezerState } from './freezer-state.js';
import {
  cgroupFileExists,
  collectPids,
  makeCgroupDir,
  parseUnsigned,
  RootlessSkips,
  readCgroupFile,
  readOptionalFile,
  removeCgroupTree,
  writeCgroupFile,
} from './fsutil.js';
import { watchV1Oom } from './oom.js';
import { readV1Stats } from './stats.js';
import type { CgroupManager, CgroupState, CgroupStats, FreezerState } from './types.js';
import {
  type FileWrite,
  integerText,
  invalid,
  isSet,
  requireFile,
  writeAll,
  writeInAnyWorkingOrder,
} from './writes.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface FsV1Options {
  /** Unprivileged caller: cgroups it may not create or write are skipped (see `skipped`). */
  rootless?: boolean;
}

/** How long freeze() waits for the freezer to report FROZEN before giving up and thawing. */
const FREEZE_TIMEOUT_MS = 5000;

/**
 * A container's cgroup on a cgroup v1 (or hybrid) host: one directory per
 * hierarchy. `paths` maps runc's hierarchy keys ("cpu", "cpuacct",
 * "name=systemd", '' for the cgroup2 directory of a hybrid host) to absolute
 * directories; co-mounted controllers share a directory.
 */
export class FsV1Manager implements CgroupManager {
  readonly driver = 'fs' as const;
  private readonly paths: Record<string, string>;
  private readonly skips: RootlessSkips;
  /** Hierarchies whose directory could not be created (rootless). */
  private readonly dropped = new Set<string>();

  constructor(paths: Record<string, string>, options: FsV1Options = {}) {
    this.paths = { ...paths };
    this.skips = new RootlessSkips(options.rootless ?? false);
  }

  /** What was skipped as rootless (directory or file, and why); empty otherwise. */
  get skipped(): readonly string[] {
    return this.skips.entries;
  }

  /** The directory of a hierarchy ("memory", "name=systemd", '' for cgroup2), if the container has one. */
  path(key: string): string | undefined {
    return this.paths[key];
  }

  private uniqueDirs(): string[] {
    return [...new Set(Object.values(this.paths))];
  }

  /**
   * Creates every directory and moves `pid` into each (a pid of 0 or less
   * only creates). New cpuset directories get their parent's cpus and mems:
   * the kernel leaves them empty and refuses tasks until they are set.
   */
  async apply(pid: number): Promise<void> {
    for (const dir of this.uniqueDirs()) {
      const created = this.skips.attempt(`create ${dir}`, () => makeCgroupDir(dir));
      if (!created) {
        for (const [key, value] of Object.entries(this.paths)) {
          if (value !== dir) continue;
          delete this.paths[key];
          this.dropped.add(key);
        }
        continue;
      }
      if (this.paths.cpuset === dir)
        this.skips.attempt(`initialise ${dir}`, () => inheritCpuset(dir));
      if (pid > 0) {
        this.skips.attempt(`join ${dir}`, () => writeCgroupFile(dir, 'cgroup.procs', String(pid)));
      }
    }
  }

  private need(controller: string, field: string): string {
    const dir = this.paths[controller];
    if (dir !== undefined) return dir;
    const why = this.dropped.has(controller)
      ? 'its cgroup could not be created as an unprivileged user'
      : `the ${controller} controller is not mounted on this host`;
    throw new CgroupError('UNSUPPORTED', `${field}: cannot be set: ${why}`);
  }

  /**
   * Writes every resource the kernel has a file for, controller by
   * controller as runc does. `resources.devices` is the complete rule list
   * (see containerDeviceRules) and replaces the cgroup's rules; left
   * undefined, device access is not touched (runc update).
   */
  async set(resources: LinuxResources): Promise<void> {
    if (resources.unified && Object.keys(resources.unified).length > 0) {
      throw invalid(
        'linux.resources.unified',
        'invalid configuration: unified resources need cgroup v2, and this host has cgroup v1',
      );
    }
    const { cpu, memory } = resources;
    if (cpu && (cpu.cpus || cpu.mems)) {
      const dir = this.need(
        'cpuset',
        cpu.cpus ? 'linux.resources.cpu.cpus' : 'linux.resources.cpu.mems',
      );
      const writes: FileWrite[] = [];
      if (cpu.cpus)
        writes.push({ file: 'cpuset.cpus', value: cpu.cpus, field: 'linux.resources.cpu.cpus' });
      if (cpu.mems)
        writes.push({ file: 'cpuset.mems', value: cpu.mems, field: 'linux.resources.cpu.mems' });
      writeInAnyWorkingOrder(dir, writes, this.skips);
    }
    if (resources.devices !== undefined) {
      applyV1DeviceRules(
        this.need('devices', 'linux.resources.devices'),
        resources.devices,
        this.skips,
      );
    }
    if (memory && hasMemoryValues(memory))
      setMemory(this.need('memory', 'linux.resources.memory'), memory, this.skips);
    if (cpu && hasCpuValues(cpu)) setCpu(this.need('cpu', 'linux.resources.cpu'), cpu, this.skips);
    if (resources.pids) {
      const dir = this.need('pids', 'linux.resources.pids.limit');
      const limit = resources.pids.limit;
      const value = limit > 0 ? integerText(limit, 'linux.resources.pids.limit') : 'max';
      writeAll(dir, [{ file: 'pids.max', value, field: 'linux.resources.pids.limit' }], this.skips);
    }
    if (resources.blockIO && hasBlockIoValues(resources.blockIO)) {
      setBlockIo(this.need('blkio', 'linux.resources.blockIO'), resources.blockIO, this.skips);
    }
    if (resources.hugepageLimits && resources.hugepageLimits.length > 0) {
      setHugepages(
        this.need('hugetlb', 'linux.resources.hugepageLimits'),
        resources.hugepageLimits,
        this.skips,
      );
    }
    if (resources.network) this.setNetwork(resources.network);
    if (resources.rdma && Object.keys(resources.rdma).length > 0) {
      setRdma(this.need('rdma', 'linux.resources.rdma'), resources.rdma, this.skips);
    }
  }

  private setNetwork(network: LinuxNetwork): void {
    if (network.classID !== undefined) {
      const dir = this.need('net_cls', 'linux.resources.network.classID');
      const value = integerText(network.classID, 'linux.resources.network.classID');
      writeAll(
        dir,
        [{ file: 'net_cls.classid', value, field: 'linux.resources.network.classID' }],
        this.skips,
      );
    }
    if (network.priorities && network.priorities.length > 0) {
      const dir = this.need('net_prio', 'linux.resources.network.priorities');
      writeAll(
        dir,
        network.priorities.map((entry, index) => ({
          file: 'net_prio.ifpriomap',
          value: `${entry.name} ${entry.priority}`,
          field: `linux.resources.network.priorities[${index}]`,
        })),
        this.skips,
      );
    }
  }

  pids(): number[] {
    for (const key of ['devices', 'freezer', 'pids', 'memory', 'cpu', ...Object.keys(this.paths)]) {
      const dir = this.paths[key];
      if (dir !== undefined && existsSync(dir)) return collectPids(dir);
    }
    return [];
  }

  stats(): CgroupStats {
    return readV1Stats(this.paths);
  }

  /** Freezes every process and waits until the freezer says FROZEN. */
  async freeze(): Promise<void> {
    const dir = this.need('freezer', 'freeze');
    const started = Date.now();
    let attempts = 0;
    for (;;) {
      // Writing FROZEN again restarts a freeze that a forking task made stall.
      if (attempts % 10 === 0) writeCgroupFile(dir, 'freezer.state', 'FROZEN');
      attempts++;
      await sleep(10);
      if (readCgroupFile(dir, 'freezer.state').trim() === 'FROZEN') return;
      if (Date.now() - started > FREEZE_TIMEOUT_MS) {
        writeCgroupFile(dir, 'freezer.state', 'THAWED');
        throw new CgroupError(
          'BUSY',
          `freeze ${dir}: still FREEZING after ${FREEZE_TIMEOUT_MS} ms; thawed again`,
          { path: `${dir}/freezer.state` },
        );
      }
    }
  }

  async thaw(): Promise<void> {
    const dir = this.need('freezer', 'thaw');
    writeCgroupFile(dir, 'freezer.state', 'THAWED');
    const started = Date.now();
    while (readCgroupFile(dir, 'freezer.state').trim() !== 'THAWED') {
      if (Date.now() - started > FREEZE_TIMEOUT_MS) {
        throw new CgroupError('BUSY', `thaw ${dir}: not THAWED after ${FREEZE_TIMEOUT_MS} ms`, {
          path: `${dir}/freezer.state`,
        });
      }
      await sleep(10);
    }
  }

  freezerState(): FreezerState {
    return v1FreezerState(this.paths.freezer);
  }

  /** Removes every hierarchy's directory (and cgroups made below them); already gone is fine. */
  async destroy(): Promise<void> {
    let first: unknown;
    for (const dir of this.uniqueDirs()) {
      try {
        if (cgroupFileExists(dir, 'cgroup.sane_behavior')) {
          throw new CgroupError(
            'INVALID',
            `refusing to remove ${dir}: it is the root of a cgroup hierarchy`,
            {
              path: dir,
            },
          );
        }
        await removeCgroupTree(dir);
      } catch (error) {
        first ??= error;
      }
    }
    if (first !== undefined) throw first;
  }

  exists(): boolean {
    return this.uniqueDirs().some((dir) => existsSync(dir));
  }

  onOom(listener: () => void): () => void {
    return watchV1Oom(this.need('memory', 'OOM notification'), listener);
  }

  state(): CgroupState {
    const state: CgroupState = { driver: 'fs', paths: { ...this.paths } };
    if (this.skips.rootless) state.rootless = true;
    return state;
  }
}

/** Gives `dir` and each empty ancestor the cpus and mems of the nearest ancestor that has them. */
function inheritCpuset(dir: string): void {
  const empty: string[] = [];
  for (let current = dir; ; current = dirname(current)) {
    const cpus = readOptionalFile(current, 'cpuset.cpus');
    const mems = readOptionalFile(current, 'cpuset.mems');
    if (cpus === undefined || mems === undefined) return;
    if (cpus.trim() !== '' && mems.trim() !== '') break;
    empty.unshift(current);
    if (current === dirname(current)) return;
  }
  for (const current of empty) {
    const parent = dirname(current);
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      if (readCgroupFile(current, file).trim() === '') {
        writeCgroupFile(current, file, readCgroupFile(parent, file).trim());
      }
    }
  }
}

function hasMemoryValues(memory: LinuxMemory): boolean {
  return (
    isSet(memory.limit) ||
    isSet(memory.reservation) ||
    isSet(memory.swap) ||
    isSet(memory.kernel) ||
    isSet(memory.kernelTCP) ||
    memory.swappiness !== undefined ||
    memory.disableOOMKiller !== undefined ||
    memory.useHierarchy !== undefined
  );
}

/** swappiness -1 (2^64-1 once a uint64) means "leave it as it is". */
export function swappinessToWrite(value: number | undefined, field: string): number | undefined {
  if (value === undefined || value === -1 || value >= 2 ** 64 - 1) return undefined;
  if (!Number.isInteger(value) || value < 0 || value > 100) {
    throw invalid(field, `${value} is not a valid swappiness (0 to 100)`);
  }
  return value;
}

/** Spec swap is memory+swap; checks it against the memory limit as the kernel would. */
export function checkSwapAgainstLimit(memory: LinuxMemory): void {
  const { limit, swap } = memory;
  if (!isSet(swap) || swap === -1) return;
  if (swap < -1)
    throw invalid('linux.resources.memory.swap', `${swap} is not a limit (-1 for none)`);
  if (limit === -1) {
    throw invalid(
      'linux.resources.memory.swap',
      `${swap} limits memory+swap while linux.resources.memory.limit is -1 (unlimited)`,
    );
  }
  if (isSet(limit) && swap < limit) {
    throw invalid(
      'linux.resources.memory.swap',
      `${swap} is below linux.resources.memory.limit ${limit}: swap counts memory plus swap, so it must be at least the memory limit`,
    );
  }
}

function setMemory(dir: string, memory: LinuxMemory, skips: RootlessSkips): void {
  checkSwapAgainstLimit(memory);
  const { limit, swap } = memory;
  if (memory.checkBeforeUpdate && isSet(limit) && limit > 0) {
    const usage = parseUnsigned(
      readCgroupFile(dir, 'memory.usage_in_bytes'),
      `${dir}/memory.usage_in_bytes`,
    );
    if (usage > limit) {
      throw invalid(
        'linux.resources.memory.limit',
        `${limit} is below the cgroup's current usage ${usage} (checkBeforeUpdate is set)`,
      );
    }
  }
  const limitWrite: FileWrite | undefined = isSet(limit)
    ? {
        file: 'memory.limit_in_bytes',
        value: integerText(limit, 'linux.resources.memory.limit'),
        field: 'linux.resources.memory.limit',
      }
    : undefined;
  let swapWrite: FileWrite | undefined;
  if (isSet(swap)) {
    const hasMemsw = cgroupFileExists(dir, 'memory.memsw.limit_in_bytes');
    // Without swap accounting there is no memsw file, and -1 is what it would say anyway.
    if (hasMemsw || swap !== -1) {
      requireFile(
        dir,
        'memory.memsw.limit_in_bytes',
        'linux.resources.memory.swap',
        'swap accounting is off: boot with swapaccount=1',
      );
      swapWrite = {
        file: 'memory.memsw.limit_in_bytes',
        value: integerText(swap, 'linux.resources.memory.swap'),
        field: 'linux.resources.memory.swap',
      };
    }
  }
  // The kernel keeps memory.limit <= memsw.limit at every step: raising the
  // limit above the current memsw limit needs memsw raised first.
  const ordered: FileWrite[] = [];
  if (limitWrite && swapWrite) {
    const currentMemsw = parseUnsigned(
      readCgroupFile(dir, 'memory.memsw.limit_in_bytes'),
      `${dir}/memory.memsw.limit_in_bytes`,
    );
    const newLimit = limit === -1 ? Number.POSITIVE_INFINITY : (limit as number);
    if (newLimit > currentMemsw) ordered.push(swapWrite, limitWrite);
    else ordered.push(limitWrite, swapWrite);
  } else {
    if (limitWrite) ordered.push(limitWrite);
    if (swapWrite) ordered.push(swapWrite);
  }
  if (isSet(memory.reservation)) {
    ordered.push({
      file: 'memory.soft_limit_in_bytes',
      value: integerText(memory.reservation, 'linux.resources.memory.reservation'),
      field: 'linux.resources.memory.reservation',
    });
  }
  if (isSet(memory.kernel)) {
    requireFile(
      dir,
      'memory.kmem.limit_in_bytes',
      'linux.resources.memory.kernel',
      'this kernel has no kernel memory accounting',
    );
    ordered.push({
      file: 'memory.kmem.limit_in_bytes',
      value: integerText(memory.kernel, 'linux.resources.memory.kernel'),
      field: 'linux.resources.memory.kernel',
    });
  }
  if (isSet(memory.kernelTCP)) {
    requireFile(
      dir,
      'memory.kmem.tcp.limit_in_bytes',
      'linux.resources.memory.kernelTCP',
      'this kernel has no TCP memory accounting',
    );
    ordered.push({
      file: 'memory.kmem.tcp.limit_in_bytes',
      value: integerText(memory.kernelTCP, 'linux.resources.memory.kernelTCP'),
      field: 'linux.resources.memory.kernelTCP',
    });
  }
  const swappiness = swappinessToWrite(memory.swappiness, 'linux.resources.memory.swappiness');
  if (swappiness !== undefined) {
    ordered.push({
      file: 'memory.swappiness',
      value: String(swappiness),
      field: 'linux.resources.memory.swappiness',
    });
  }
  if (memory.disableOOMKiller !== undefined) {
    ordered.push({
      file: 'memory.oom_control',
      value: memory.disableOOMKiller ? '1' : '0',
      field: 'linux.resources.memory.disableOOMKiller',
    });
  }
  if (memory.useHierarchy !== undefined) {
    ordered.push({
      file: 'memory.use_hierarchy',
      value: memory.useHierarchy ? '1' : '0',
      field: 'linux.resources.memory.useHierarchy',
    });
  }
  writeAll(dir, ordered, skips);
}

function hasCpuValues(cpu: LinuxCpu): boolean {
  return (
    isSet(cpu.shares) ||
    isSet(cpu.quota) ||
    isSet(cpu.period) ||
    cpu.burst !== undefined ||
    isSet(cpu.realtimeRuntime) ||
    isSet(cpu.realtimePeriod) ||
    cpu.idle !== undefined
  );
}

function setCpu(dir: string, cpu: LinuxCpu, skips: RootlessSkips): void {
  if (isSet(cpu.shares)) {
    const field = 'linux.resources.cpu.shares';
    writeAll(dir, [{ file: 'cpu.shares', value: integerText(cpu.shares, field), field }], skips);
    // The kernel clamps shares into 2..262144 silently; runc reports the clamp.
    const actual = readOptionalFile(dir, 'cpu.shares');
    if (actual !== undefined && Number(actual.trim()) !== cpu.shares) {
      const bound = Number(actual.trim());
      throw invalid(
        field,
        `${cpu.shares} is out of range: the ${cpu.shares > bound ? 'maximum' : 'minimum'} allowed cpu-shares is ${bound}`,
      );
    }
  }
  const bandwidth: FileWrite[] = [];
  if (isSet(cpu.period)) {
    bandwidth.push({
      file: 'cpu.cfs_period_us',
      value: integerText(cpu.period, 'linux.resources.cpu.period'),
      field: 'linux.resources.cpu.period',
    });
  }
  if (isSet(cpu.quota)) {
    bandwidth.push({
      file: 'cpu.cfs_quota_us',
      value: integerText(cpu.quota, 'linux.resources.cpu.quota'),
      field: 'linux.resources.cpu.quota',
    });
  }
  if (cpu.burst !== undefined) {
    requireFile(
      dir,
      'cpu.cfs_burst_us',
      'linux.resources.cpu.burst',
      'CPU burst needs Linux 5.14 or later',
    );
    bandwidth.push({
      file: 'cpu.cfs_burst_us',
      value: integerText(cpu.burst, 'linux.resources.cpu.burst'),
      field: 'linux.resources.cpu.burst',
    });
  }
  writeInAnyWorkingOrder(dir, bandwidth, skips);
  const realtime: FileWrite[] = [];
  if (isSet(cpu.realtimePeriod)) {
    requireFile(
      dir,
      'cpu.rt_period_us',
      'linux.resources.cpu.realtimePeriod',
      'the kernel has no real-time group scheduling',
    );
    realtime.push({
      file: 'cpu.rt_period_us',
      value: integerText(cpu.realtimePeriod, 'linux.resources.cpu.realtimePeriod'),
      field: 'linux.resources.cpu.realtimePeriod',
    });
  }
  if (isSet(cpu.realtimeRuntime)) {
    requireFile(
      dir,
      'cpu.rt_runtime_us',
      'linux.resources.cpu.realtimeRuntime',
      'the kernel has no real-time group scheduling',
    );
    realtime.push({
      file: 'cpu.rt_runtime_us',
      value: integerText(cpu.realtimeRuntime, 'linux.resources.cpu.realtimeRuntime'),
      field: 'linux.resources.cpu.realtimeRuntime',
    });
  }
  writeInAnyWorkingOrder(dir, realtime, skips);
  if (cpu.idle !== undefined) {
    requireFile(
      dir,
      'cpu.idle',
      'linux.resources.cpu.idle',
      'SCHED_IDLE groups need Linux 5.15 or later',
    );
    writeAll(
      dir,
      [
        {
          file: 'cpu.idle',
          value: integerText(cpu.idle, 'linux.resources.cpu.idle'),
          field: 'linux.resources.cpu.idle',
        },
      ],
      skips,
    );
  }
}

function hasBlockIoValues(blockIO: LinuxBlockIo): boolean {
  return (
    isSet(blockIO.weight) ||
    isSet(blockIO.leafWeight) ||
    (blockIO.weightDevice?.length ?? 0) > 0 ||
    (blockIO.throttleReadBpsDevice?.length ?? 0) > 0 ||
    (blockIO.throttleWriteBpsDevice?.length ?? 0) > 0 ||
    (blockIO.throttleReadIOPSDevice?.length ?? 0) > 0 ||
    (blockIO.throttleWriteIOPSDevice?.length ?? 0) > 0
  );
}

/** BFQ's weight files where the kernel has them (every kernel since CFQ went away in 5.0), CFQ's otherwise. */
function weightFile(dir: string, name: 'weight' | 'weight_device'): string {
  return cgroupFileExists(dir, `blkio.bfq.${name}`) ? `blkio.bfq.${name}` : `blkio.${name}`;
}

function setBlockIo(dir: string, blockIO: LinuxBlockIo, skips: RootlessSkips): void {
  const writes: FileWrite[] = [];
  if (isSet(blockIO.weight)) {
    writes.push({
      file: weightFile(dir, 'weight'),
      value: String(blockIO.weight),
      field: 'linux.resources.blockIO.weight',
    });
  }
  if (isSet(blockIO.leafWeight)) {
    writes.push({
      file: 'blkio.leaf_weight',
      value: String(blockIO.leafWeight),
      field: 'linux.resources.blockIO.leafWeight',
    });
  }
  blockIO.weightDevice?.forEach((device, index) => {
    const field = `linux.resources.blockIO.weightDevice[${index}]`;
    const id = `${device.major}:${device.minor}`;
    if (isSet(device.weight)) {
      writes.push({
        file: weightFile(dir, 'weight_device'),
        value: `${id} ${device.weight}`,
        field: `${field}.weight`,
      });
    }
    if (isSet(device.leafWeight)) {
      writes.push({
        file: 'blkio.leaf_weight_device',
        value: `${id} ${device.leafWeight}`,
        field: `${field}.leafWeight`,
      });
    }
  });
  const throttles = [
    ['throttleReadBpsDevice', 'blkio.throttle.read_bps_device'],
    ['throttleWriteBpsDevice', 'blkio.throttle.write_bps_device'],
    ['throttleReadIOPSDevice', 'blkio.throttle.read_iops_device'],
    ['throttleWriteIOPSDevice', 'blkio.throttle.write_iops_device'],
  ] as const;
  for (const [key, file] of throttles) {
    blockIO[key]?.forEach((device, index) => {
      const field = `linux.resources.blockIO.${key}[${index}]`;
      // A rate of 0 removes the device's limit.
      const rate = integerText(device.rate ?? 0, `${field}.rate`);
      writes.push({ file, value: `${device.major}:${device.minor} ${rate}`, field });
    });
  }
  writeAll(dir, writes, skips);
}

function setHugepages(dir: string, limits: LinuxHugepageLimit[], skips: RootlessSkips): void {
  const writes: FileWrite[] = [];
  limits.forEach((entry, index) => {
    const field = `linux.resources.hugepageLimits[${index}]`;
    const file = `hugetlb.${entry.pageSize}.limit_in_bytes`;
    requireFile(dir, file, `${field}.pageSize`, `the kernel has no ${entry.pageSize} huge pages`);
    const value = integerText(entry.limit, `${field}.limit`);
    writes.push({ file, value, field: `${field}.limit` });
    // Reservations are charged separately (Linux 5.7+); limit them alike.
    const reserved = `hugetlb.${entry.pageSize}.rsvd.limit_in_bytes`;
    if (cgroupFileExists(dir, reserved))
      writes.push({ file: reserved, value, field: `${field}.limit` });
  });
  writeAll(dir, writes, skips);
}

/** rdma.max lines: "<device> hca_handle=<n> hca_object=<n>", naming only what is set. */
export function rdmaLines(rdma: Record<string, LinuxRdma>): { device: string; line: string }[] {
  const lines: { device: string; line: string }[] = [];
  for (const [device, limits] of Object.entries(rdma)) {
    const parts = [device];
    if (limits.hcaHandles !== undefined) parts.push(`hca_handle=${limits.hcaHandles}`);
    if (limits.hcaObjects !== undefined) parts.push(`hca_object=${limits.hcaObjects}`);
    if (parts.length > 1) lines.push({ device, line: parts.join(' ') });
  }
  return lines;
}

export function setRdma(dir: string, rdma: Record<string, LinuxRdma>, skips: RootlessSkips): void {
  writeAll(
    dir,
    rdmaLines(rdma).map(({ device, line }) => ({
      file: 'rdma.max',
      value: line,
      field: `linux.resources.rdma[${JSON.stringify(device)}]`,
    })),
    skips,
  );
}
