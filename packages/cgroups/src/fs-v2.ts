import { existsSync, readFileSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import type { LinuxBlockIo, LinuxCpu, LinuxMemory, LinuxResources } from '@runc-ts/spec';
import { attachDeviceFilter, compileDeviceFilter } from './bpf/index.js';
import { CgroupError } from './errors.js';
import { v2FreezerState } from './freezer-state.js';
import { checkSwapAgainstLimit, setRdma, swappinessToWrite } from './fs-v1.js';
import {
  cgroupFileExists,
  collectPids,
  makeCgroupDir,
  parseKeyValues,
  parseUnsigned,
  RootlessSkips,
  readCgroupFile,
  readOptionalFile,
  recordDeviceFilter,
  removeCgroupTree,
  writeCgroupFile,
} from './fsutil.js';
import { parseMountinfo } from './layout.js';
import { watchV2Oom } from './oom.js';
import { readV2Stats } from './stats.js';
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

export interface FsV2Options {
  /** Unprivileged caller: a cgroup it may not create or write is skipped (see `skipped`). */
  rootless?: boolean;
  /** The cgroup2 mount point above `dir`; found in /proc/self/mountinfo when not given. */
  mountPoint?: string;
}

const FREEZE_TIMEOUT_MS = 5000;

/** cpu.shares (2..262144, v1) -> cpu.weight (1..10000), runc's linear map. */
export function sharesToWeight(shares: number): number {
  return 1 + Math.trunc(((shares - 2) * 9999) / 262142);
}

/** blkio weight (10..1000, v1) -> io.weight (1..10000), runc's linear map. */
export function blkioWeightToIoWeight(weight: number): number {
  return 1 + Math.trunc(((weight - 10) * 9999) / 990);
}

/**
 * memory.swap.max from the spec's swap, which counts memory plus swap as
 * v1's memsw does: undefined means "do not write". -1 is no swap limit; a
 * finite value needs a finite memory limit to subtract.
 */
export function swapMaxValue(memory: LinuxMemory): string | undefined {
  const { limit, swap } = memory;
  if (!isSet(swap)) return undefined;
  if (swap === -1) return 'max';
  checkSwapAgainstLimit(memory);
  if (!isSet(limit)) {
    throw invalid(
      'linux.resources.memory.swap',
      'cannot be set without linux.resources.memory.limit on cgroup v2 (memory.swap.max is swap alone: the memory limit is subtracted from it)',
    );
  }
  return integerText(swap - limit, 'linux.resources.memory.swap');
}

/** The cgroup2 mount whose mount point is the longest prefix of `dir`. */
function findV2MountPoint(dir: string): string {
  let best: string | undefined;
  for (const entry of parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'))) {
    if (entry.fsType !== 'cgroup2') continue;
    const inside = relative(entry.mountPoint, dir);
    if (inside.startsWith('..') || posix.isAbsolute(inside)) continue;
    if (best === undefined || entry.mountPoint.length > best.length) best = entry.mountPoint;
  }
  if (best === undefined) {
    throw new CgroupError('UNSUPPORTED', `${dir} is not inside a cgroup2 mount`, { path: dir });
  }
  return best;
}

/** A container's cgroup in the unified (cgroup v2) hierarchy: one directory. */
export class FsV2Manager implements CgroupManager {
  readonly driver = 'fs2' as const;
  private readonly skips: RootlessSkips;
  private mountPoint: string | undefined;
  private created = true;

  constructor(
    readonly dir: string,
    options: FsV2Options = {},
  ) {
    this.skips = new RootlessSkips(options.rootless ?? false);
    this.mountPoint = options.mountPoint;
  }

  /** What was skipped as rootless (directory or file, and why); empty otherwise. */
  get skipped(): readonly string[] {
    return this.skips.entries;
  }

  private root(): string {
    this.mountPoint ??= findV2MountPoint(this.dir);
    return this.mountPoint;
  }

  /**
   * Creates the directory and its parents, enabling in every ancestor's
   * cgroup.subtree_control the controllers that ancestor has (as runc does:
   * a controller the kernel refuses there stays off, and writing its files
   * fails later with a message naming them), then moves `pid` in (a pid of
   * 0 or less only creates).
   */
  async apply(pid: number): Promise<void> {
    const root = this.root();
    const inside = relative(root, this.dir);
    if (inside === '' || inside.startsWith('..') || posix.isAbsolute(inside)) {
      throw new CgroupError(
        'INVALID',
        `cgroup ${this.dir} is not below the cgroup2 mount ${root}`,
        {
          path: this.dir,
        },
      );
    }
    let current = root;
    for (const part of inside.split('/')) {
      this.skips.attempt(`enable controllers in ${current}`, () => enableControllers(current));
      current = join(current, part);
      if (!existsSync(current)) {
        this.created = this.skips.attempt(`create ${current}`, () => makeCgroupDir(current));
        if (!this.created) return;
      }
    }
    if (pid > 0)
      this.skips.attempt(`join ${this.dir}`, () =>
        writeCgroupFile(this.dir, 'cgroup.procs', String(pid)),
      );
  }

  private controllers(): Set<string> {
    return new Set(
      (readOptionalFile(this.dir, 'cgroup.controllers') ?? '').trim().split(/\s+/).filter(Boolean),
    );
  }

  private requireCgroup(field: string): void {
    if (!this.created) {
      throw new CgroupError(
        'UNSUPPORTED',
        `${field}: cannot be set: cgroup ${this.dir} could not be created as an unprivileged user`,
      );
    }
  }

  /**
   * Writes the resources with runc's v1-to-v2 conversions, then the
   * `unified` entries (which therefore win over converted values).
   * `resources.devices` is the complete rule list (see containerDeviceRules),
   * compiled into the cgroup's eBPF device filter; left undefined, device
   * access is not touched (runc update).
   */
  async set(resources: LinuxResources): Promise<void> {
    const unified = Object.entries(resources.unified ?? {});
    for (const [key] of unified) checkUnifiedKey(key);
    if (!hasV2Values(resources)) return;
    this.requireCgroup('linux.resources');
    const dir = this.dir;
    const { cpu, memory } = resources;
    if (resources.devices !== undefined) {
      const program = compileDeviceFilter(resources.devices);
      this.skips.attempt(`attach device filter to ${dir}`, () => {
        if (!recordDeviceFilter(dir, program)) attachDeviceFilter(dir, program);
      });
    }
    if (cpu) {
      this.setCpu(cpu);
      const writes: FileWrite[] = [];
      if (cpu.cpus)
        writes.push({ file: 'cpuset.cpus', value: cpu.cpus, field: 'linux.resources.cpu.cpus' });
      if (cpu.mems)
        writes.push({ file: 'cpuset.mems', value: cpu.mems, field: 'linux.resources.cpu.mems' });
      this.write(writes, true);
    }
    if (memory) this.setMemory(memory);
    if (resources.pids) {
      const limit = resources.pids.limit;
      const value = limit > 0 ? integerText(limit, 'linux.resources.pids.limit') : 'max';
      this.write([{ file: 'pids.max', value, field: 'linux.resources.pids.limit' }]);
    }
    if (resources.blockIO) this.setIo(resources.blockIO);
    resources.hugepageLimits?.forEach((entry, index) => {
      const field = `linux.resources.hugepageLimits[${index}]`;
      const file = `hugetlb.${entry.pageSize}.max`;
      if (!cgroupFileExists(dir, file)) this.missing(file, `${field}.pageSize`);
      const value = integerText(entry.limit, `${field}.limit`);
      const writes: FileWrite[] = [{ file, value, field: `${field}.limit` }];
      const reserved = `hugetlb.${entry.pageSize}.rsvd.max`;
      if (cgroupFileExists(dir, reserved))
        writes.push({ file: reserved, value, field: `${field}.limit` });
      this.write(writes);
    });
    if (resources.rdma && Object.keys(resources.rdma).length > 0) {
      if (!cgroupFileExists(dir, 'rdma.max')) this.missing('rdma.max', 'linux.resources.rdma');
      setRdma(dir, resources.rdma, this.skips);
    }
    const network = resources.network;
    if (network && (network.classID !== undefined || (network.priorities?.length ?? 0) > 0)) {
      throw new CgroupError(
        'UNSUPPORTED',
        `linux.resources.network.${network.classID !== undefined ? 'classID' : 'priorities'}: cgroup v2 has no net_cls or net_prio controller (use eBPF or nftables cgroup matching instead)`,
      );
    }
    for (const [key, value] of unified) {
      const field = `linux.resources.unified[${JSON.stringify(key)}]`;
      if (!cgroupFileExists(dir, key)) this.missing(key, field);
      this.write([{ file: key, value, field }]);
    }
  }

  /** Fails for a file the cgroup does not have, saying whether its controller is the reason. */
  private missing(file: string, field: string): never {
    const controller = file.slice(0, file.indexOf('.'));
    const enabled = this.controllers();
    const why =
      controller !== 'cgroup' && !enabled.has(controller)
        ? `the ${controller} controller is not enabled for ${this.dir} (its cgroup.controllers: ${[...enabled].join(' ') || 'none'})`
        : `${this.dir}/${file} does not exist`;
    throw new CgroupError('UNSUPPORTED', `${field}: cannot be set: ${why}`, {
      path: join(this.dir, file),
    });
  }

  private write(writes: FileWrite[], anyOrder = false): void {
    for (const write of writes)
      if (!cgroupFileExists(this.dir, write.file)) this.missing(write.file, write.field);
    if (anyOrder) writeInAnyWorkingOrder(this.dir, writes, this.skips);
    else writeAll(this.dir, writes, this.skips);
  }

  private setCpu(cpu: LinuxCpu): void {
    if (isSet(cpu.realtimeRuntime) || isSet(cpu.realtimePeriod)) {
      const name = isSet(cpu.realtimeRuntime) ? 'realtimeRuntime' : 'realtimePeriod';
      throw new CgroupError(
        'UNSUPPORTED',
        `linux.resources.cpu.${name}: cgroup v2 has no real-time group scheduling limits (cpu.rt_*)`,
      );
    }
    if (isSet(cpu.shares)) {
      const field = 'linux.resources.cpu.shares';
      if (cpu.shares < 2 || cpu.shares > 262144) {
        throw invalid(
          field,
          `${cpu.shares} is outside 2..262144, the range cpu.weight is converted from`,
        );
      }
      this.write([{ file: 'cpu.weight', value: String(sharesToWeight(cpu.shares)), field }]);
    }
    const bandwidth: FileWrite[] = [];
    if (isSet(cpu.quota) || isSet(cpu.period)) {
      let quota: string;
      if (isSet(cpu.quota))
        quota = cpu.quota < 0 ? 'max' : integerText(cpu.quota, 'linux.resources.cpu.quota');
      // Only the period changes: keep the quota the cgroup has.
      else quota = (readOptionalFile(this.dir, 'cpu.max') ?? 'max').trim().split(/\s+/)[0] ?? 'max';
      const value = isSet(cpu.period)
        ? `${quota} ${integerText(cpu.period, 'linux.resources.cpu.period')}`
        : quota;
      bandwidth.push({
        file: 'cpu.max',
        value,
        field: `linux.resources.cpu.${isSet(cpu.quota) ? 'quota' : 'period'}`,
      });
    }
    if (cpu.burst !== undefined) {
      bandwidth.push({
        file: 'cpu.max.burst',
        value: integerText(cpu.burst, 'linux.resources.cpu.burst'),
        field: 'linux.resources.cpu.burst',
      });
    }
    this.write(bandwidth, true);
    if (cpu.idle !== undefined) {
      this.write([
        {
          file: 'cpu.idle',
          value: integerText(cpu.idle, 'linux.resources.cpu.idle'),
          field: 'linux.resources.cpu.idle',
        },
      ]);
    }
  }

  private setMemory(memory: LinuxMemory): void {
    const dir = this.dir;
    for (const name of ['kernel', 'kernelTCP'] as const) {
      if (isSet(memory[name])) {
        throw new CgroupError(
          'UNSUPPORTED',
          `linux.resources.memory.${name}: cgroup v2 has no separate kernel memory limit (kernel memory counts in memory.max)`,
        );
      }
    }
    if (swappinessToWrite(memory.swappiness, 'linux.resources.memory.swappiness') !== undefined) {
      throw new CgroupError(
        'UNSUPPORTED',
        'linux.resources.memory.swappiness: cgroup v2 has no per-cgroup swappiness',
      );
    }
    if (memory.disableOOMKiller) {
      throw new CgroupError(
        'UNSUPPORTED',
        'linux.resources.memory.disableOOMKiller: cgroup v2 cannot disable the OOM killer for a cgroup',
      );
    }
    if (memory.useHierarchy === false) {
      throw new CgroupError(
        'UNSUPPORTED',
        'linux.resources.memory.useHierarchy: cgroup v2 is always hierarchical',
      );
    }
    const swap = swapMaxValue(memory);
    const { limit } = memory;
    if (memory.checkBeforeUpdate && isSet(limit) && limit > 0) {
      const usage = parseUnsigned(readCgroupFile(dir, 'memory.current'), `${dir}/memory.current`);
      if (usage > limit) {
        throw invalid(
          'linux.resources.memory.limit',
          `${limit} is below the cgroup's current usage ${usage} (checkBeforeUpdate is set)`,
        );
      }
    }
    const writes: FileWrite[] = [];
    if (swap !== undefined) {
      // No swap accounting: no memory.swap.max, and "max" is what it would say.
      if (cgroupFileExists(dir, 'memory.swap.max') || swap !== 'max') {
        requireFile(
          dir,
          'memory.swap.max',
          'linux.resources.memory.swap',
          'swap accounting is off',
        );
        writes.push({ file: 'memory.swap.max', value: swap, field: 'linux.resources.memory.swap' });
      }
    }
    if (isSet(limit)) {
      writes.push({
        file: 'memory.max',
        value: limit === -1 ? 'max' : integerText(limit, 'linux.resources.memory.limit'),
        field: 'linux.resources.memory.limit',
      });
    }
    if (isSet(memory.reservation)) {
      writes.push({
        file: 'memory.low',
        value:
          memory.reservation === -1
            ? 'max'
            : integerText(memory.reservation, 'linux.resources.memory.reservation'),
        field: 'linux.resources.memory.reservation',
      });
    }
    this.write(writes);
  }

  private setIo(blockIO: LinuxBlockIo): void {
    const dir = this.dir;
    const bfq = cgroupFileExists(dir, 'io.bfq.weight');
    const writes: FileWrite[] = [];
    const converted = (weight: number, field: string): string => {
      // BFQ takes v1's 1..1000 scale as it is.
      if (bfq) return String(weight);
      if (weight < 10 || weight > 1000) throw invalid(field, `${weight} is outside 10..1000`);
      return String(blkioWeightToIoWeight(weight));
    };
    const weightFile = bfq ? 'io.bfq.weight' : 'io.weight';
    if (isSet(blockIO.leafWeight)) {
      throw new CgroupError(
        'UNSUPPORTED',
        'linux.resources.blockIO.leafWeight: cgroup v2 has no leaf weights',
      );
    }
    if (isSet(blockIO.weight)) {
      writes.push({
        file: weightFile,
        value: converted(blockIO.weight, 'linux.resources.blockIO.weight'),
        field: 'linux.resources.blockIO.weight',
      });
    }
    blockIO.weightDevice?.forEach((device, index) => {
      const field = `linux.resources.blockIO.weightDevice[${index}]`;
      if (isSet(device.leafWeight)) {
        throw new CgroupError('UNSUPPORTED', `${field}.leafWeight: cgroup v2 has no leaf weights`);
      }
      if (isSet(device.weight)) {
        writes.push({
          file: weightFile,
          value: `${device.major}:${device.minor} ${converted(device.weight, `${field}.weight`)}`,
          field: `${field}.weight`,
        });
      }
    });
    const throttles = [
      ['throttleReadBpsDevice', 'rbps'],
      ['throttleWriteBpsDevice', 'wbps'],
      ['throttleReadIOPSDevice', 'riops'],
      ['throttleWriteIOPSDevice', 'wiops'],
    ] as const;
    for (const [key, name] of throttles) {
      blockIO[key]?.forEach((device, index) => {
        const field = `linux.resources.blockIO.${key}[${index}]`;
        // v1 removes a limit on rate 0; v2 says "max" for that.
        const rate = isSet(device.rate) ? integerText(device.rate, `${field}.rate`) : 'max';
        writes.push({
          file: 'io.max',
          value: `${device.major}:${device.minor} ${name}=${rate}`,
          field,
        });
      });
    }
    this.write(writes);
  }

  pids(): number[] {
    return collectPids(this.dir);
  }

  stats(): CgroupStats {
    return readV2Stats(this.dir);
  }

  /** Sets cgroup.freeze and waits until cgroup.events reports "frozen 1". */
  async freeze(): Promise<void> {
    requireFile(
      this.dir,
      'cgroup.freeze',
      'freeze',
      'the cgroup v2 freezer needs Linux 5.2 or later',
    );
    writeCgroupFile(this.dir, 'cgroup.freeze', '1');
    if (!(await this.waitFrozen(true))) {
      writeCgroupFile(this.dir, 'cgroup.freeze', '0');
      throw new CgroupError(
        'BUSY',
        `freeze ${this.dir}: not frozen after ${FREEZE_TIMEOUT_MS} ms; thawed again`,
        {
          path: join(this.dir, 'cgroup.events'),
        },
      );
    }
  }

  async thaw(): Promise<void> {
    requireFile(
      this.dir,
      'cgroup.freeze',
      'thaw',
      'the cgroup v2 freezer needs Linux 5.2 or later',
    );
    writeCgroupFile(this.dir, 'cgroup.freeze', '0');
    if (!(await this.waitFrozen(false))) {
      throw new CgroupError(
        'BUSY',
        `thaw ${this.dir}: still frozen after ${FREEZE_TIMEOUT_MS} ms`,
        {
          path: join(this.dir, 'cgroup.events'),
        },
      );
    }
  }

  private async waitFrozen(frozen: boolean): Promise<boolean> {
    const started = Date.now();
    for (;;) {
      const events = parseKeyValues(readCgroupFile(this.dir, 'cgroup.events'));
      if ((events.frozen === 1) === frozen) return true;
      if (Date.now() - started > FREEZE_TIMEOUT_MS) return false;
      await sleep(10);
    }
  }

  freezerState(): FreezerState {
    return v2FreezerState(this.dir);
  }

  async destroy(): Promise<void> {
    const root = this.mountPoint ?? (existsSync(this.dir) ? this.root() : undefined);
    if (root !== undefined && posix.normalize(root) === posix.normalize(this.dir)) {
      throw new CgroupError(
        'INVALID',
        `refusing to remove ${this.dir}: it is the cgroup2 mount point`,
        {
          path: this.dir,
        },
      );
    }
    await removeCgroupTree(this.dir);
  }

  exists(): boolean {
    return existsSync(this.dir);
  }

  onOom(listener: () => void): () => void {
    if (!cgroupFileExists(this.dir, 'memory.events')) {
      throw new CgroupError(
        'UNSUPPORTED',
        `OOM notification: ${this.dir}/memory.events does not exist (the memory controller is not enabled for this cgroup)`,
        { path: join(this.dir, 'memory.events') },
      );
    }
    return watchV2Oom(this.dir, listener);
  }

  state(): CgroupState {
    const state: CgroupState = { driver: 'fs2', paths: { '': this.dir } };
    if (this.skips.rootless) state.rootless = true;
    return state;
  }
}

/** Turns on, in `dir`'s cgroup.subtree_control, every controller `dir` has; what the kernel refuses stays off. */
function enableControllers(dir: string): void {
  const available = (readOptionalFile(dir, 'cgroup.controllers') ?? '')
    .trim()
    .split(/\s+/)
    .filter(Boolean);
  const enabled = new Set(
    (readOptionalFile(dir, 'cgroup.subtree_control') ?? '').trim().split(/\s+/),
  );
  const missing = available.filter((controller) => !enabled.has(controller));
  if (missing.length === 0) return;
  try {
    writeCgroupFile(
      dir,
      'cgroup.subtree_control',
      missing.map((controller) => `+${controller}`).join(' '),
    );
  } catch {
    // One refusal (a threaded subtree, processes in a non-root cgroup) fails
    // the whole write: enable what can be enabled one by one.
    for (const controller of missing) {
      try {
        writeCgroupFile(dir, 'cgroup.subtree_control', `+${controller}`);
      } catch {
        // Left off; a resource needing it reports the missing file.
      }
    }
  }
}

/** unified keys are file names in the container's cgroup: "<controller>.<name>", never a path. */
export function checkUnifiedKey(key: string): void {
  const field = `linux.resources.unified[${JSON.stringify(key)}]`;
  if (
    key.includes('/') ||
    key.includes('\0') ||
    key === '.' ||
    key === '..' ||
    key.includes('..')
  ) {
    throw invalid(field, 'must be a file name in the cgroup directory (no "/" or "..")');
  }
  if (!/^[a-z_]+\.[A-Za-z0-9_.]+$/.test(key)) {
    throw invalid(field, 'must be a cgroup interface file name such as "memory.high"');
  }
}

function hasV2Values(resources: LinuxResources): boolean {
  return Object.entries(resources).some(([, value]) => value !== undefined);
}
