import { existsSync, readFileSync } from 'node:fs';
import type { LinuxDeviceCgroup, LinuxMemory, LinuxResources } from '@runc-ts/spec';
import { emulateDeviceRules, normalizeDeviceRule } from '../devices.js';
import { CgroupError } from '../errors.js';
import { blkioWeightToIoWeight, sharesToWeight } from '../fs-v2.js';

/**
 * A D-Bus value as the driver builds it: uint64/int64 as bigint, other
 * integers as number, arrays as arrays, structs as arrays of their fields.
 */
export type DbusValue = string | number | boolean | bigint | DbusValue[];

/** One entry of the a(sv) property list of StartTransientUnit/SetUnitProperties. */
export interface UnitProperty {
  name: string;
  /** The D-Bus signature of the variant's content: "s", "b", "t", "au", "ay", "a(ss)"... */
  signature: string;
  value: DbusValue;
}

/** systemd's USEC_INFINITY / CGROUP_LIMIT_MAX: "no limit" for every uint64 property. */
export const UINT64_MAX = 2n ** 64n - 1n;
/** The CFS period the kernel (and systemd) use when none is given, in microseconds. */
const DEFAULT_CPU_PERIOD_US = 100_000n;

const str = (name: string, value: string): UnitProperty => ({ name, signature: 's', value });
const bool = (name: string, value: boolean): UnitProperty => ({ name, signature: 'b', value });
const u64 = (name: string, value: bigint): UnitProperty => ({ name, signature: 't', value });

export interface BasePropertiesInput {
  unit: string;
  slice: string;
  /** Shown by `systemctl status`; runc's is "libcontainer container <name>". */
  description: string;
  /** Processes placed in a scope when it starts; a slice cannot take processes from systemd. */
  pid: number;
  cgroupVersion: 1 | 2;
}

/**
 * What every container unit gets, as runc sets it: description, placement
 * (Slice= and Delegate= for a scope, Wants= of the parent for a slice), the
 * process, accounting for every controller (so that systemd creates the
 * unit's cgroup in each hierarchy), and no default dependencies.
 */
export function baseProperties(input: BasePropertiesInput): UnitProperty[] {
  const properties = [str('Description', input.description)];
  if (input.unit.endsWith('.slice')) {
    // Dependencies are lists ("as"), like every Wants=/Requires= on the bus.
    properties.push({ name: 'Wants', signature: 'as', value: [input.slice] });
  } else {
    properties.push(str('Slice', input.slice), bool('Delegate', true));
    if (input.pid > 0) properties.push({ name: 'PIDs', signature: 'au', value: [input.pid] });
  }
  properties.push(
    bool('MemoryAccounting', true),
    bool('CPUAccounting', true),
    bool(input.cgroupVersion === 1 ? 'BlockIOAccounting' : 'IOAccounting', true),
    bool('TasksAccounting', true),
    bool('DefaultDependencies', false),
  );
  return properties;
}

export interface ResourcePropertiesContext {
  cgroupVersion: 1 | 2;
  /** systemd's major version (Manager.Version); 0 when unknown, which leaves out the newer properties. */
  systemdVersion: number;
  /** The text of /proc/devices, for "<major>:*" device rules; read when needed if absent. */
  procDevices?: () => string;
  /** Whether a /dev/char or /dev/block path exists (systemd < 240 needs an existing node). */
  pathExists?: (path: string) => boolean;
  /** Told about each rule or value systemd cannot take; the fs driver applies those after systemd. */
  warn?: (message: string) => void;
}

/**
 * The unit properties runc derives from linux.resources, for cgroup v1 or
 * v2 and the given systemd version. What systemd has no property for is
 * left to the fs driver, which writes the whole resource set afterwards.
 * `devices` left undefined leaves the unit's device policy alone.
 */
export function resourceProperties(
  resources: LinuxResources,
  context: ResourcePropertiesContext,
): UnitProperty[] {
  const properties: UnitProperty[] = [];
  if (resources.devices !== undefined)
    properties.push(...deviceProperties(resources.devices, context));
  if (context.cgroupVersion === 1) {
    const unifiedKeys = Object.keys(resources.unified ?? {});
    if (unifiedKeys.length > 0) {
      throw new CgroupError(
        'INVALID',
        `linux.resources.unified: cannot be used on cgroup v1 (has ${unifiedKeys.map((key) => JSON.stringify(key)).join(', ')})`,
      );
    }
    v1Properties(resources, context, properties);
  } else {
    v2Properties(resources, context, properties);
  }
  return properties;
}

function v1Properties(
  resources: LinuxResources,
  context: ResourcePropertiesContext,
  out: UnitProperty[],
): void {
  const { memory, cpu, pids, blockIO } = resources;
  if (isSet(memory?.limit))
    out.push(u64('MemoryLimit', limitValue(memory.limit, 'linux.resources.memory.limit')));
  if (isSet(cpu?.shares))
    out.push(u64('CPUShares', unsigned(cpu.shares, 'linux.resources.cpu.shares')));
  if (cpu) out.push(...cpuQuotaProperties(cpu.quota, cpu.period, context, 'linux.resources.cpu'));
  if (isSet(blockIO?.weight))
    out.push(u64('BlockIOWeight', unsigned(blockIO.weight, 'linux.resources.blockIO.weight')));
  if (pids) out.push(...tasksMax(pids.limit));
  if (cpu) {
    out.push(...cpusetProperty('AllowedCPUs', cpu.cpus, 'linux.resources.cpu.cpus', context));
    out.push(
      ...cpusetProperty('AllowedMemoryNodes', cpu.mems, 'linux.resources.cpu.mems', context),
    );
  }
}

function v2Properties(
  resources: LinuxResources,
  context: ResourcePropertiesContext,
  out: UnitProperty[],
): void {
  const { memory, cpu, pids, blockIO } = resources;
  if (memory) {
    if (isSet(memory.limit))
      out.push(u64('MemoryMax', limitValue(memory.limit, 'linux.resources.memory.limit')));
    if (isSet(memory.reservation)) {
      out.push(
        u64('MemoryLow', limitValue(memory.reservation, 'linux.resources.memory.reservation')),
      );
    }
    const swap = swapMax(memory);
    if (swap !== undefined) out.push(u64('MemorySwapMax', swap));
  }
  if (isSet(cpu?.shares)) {
    const shares = Number(unsigned(cpu.shares, 'linux.resources.cpu.shares'));
    out.push(u64('CPUWeight', BigInt(sharesToWeight(shares))));
  }
  if (cpu) out.push(...cpuQuotaProperties(cpu.quota, cpu.period, context, 'linux.resources.cpu'));
  if (isSet(blockIO?.weight)) {
    const weight = Number(unsigned(blockIO.weight, 'linux.resources.blockIO.weight'));
    out.push(u64('IOWeight', BigInt(blkioWeightToIoWeight(weight))));
  }
  if (pids) out.push(...tasksMax(pids.limit));
  if (cpu) {
    out.push(...cpusetProperty('AllowedCPUs', cpu.cpus, 'linux.resources.cpu.cpus', context));
    out.push(
      ...cpusetProperty('AllowedMemoryNodes', cpu.mems, 'linux.resources.cpu.mems', context),
    );
  }
  const unified = resources.unified ?? {};
  for (const key of Object.keys(unified).sort()) {
    out.push(...unifiedProperties(key, unified[key] ?? '', context));
  }
}

/** Go's zero value is "unset" in runc's resources; so it is here. */
function isSet(value: number | undefined): value is number {
  return value !== undefined && value !== 0;
}

function integer(value: number, field: string): bigint {
  if (!Number.isInteger(value)) {
    throw new CgroupError('INVALID', `${field}: ${value} is not an integer`);
  }
  return BigInt(value);
}

function unsigned(value: number, field: string): bigint {
  const result = integer(value, field);
  if (result < 0n || result > UINT64_MAX) {
    throw new CgroupError('INVALID', `${field}: ${value} is not an unsigned 64-bit integer`);
  }
  return result;
}

/** A byte or count limit: -1 is "no limit". */
function limitValue(value: number, field: string): bigint {
  if (value === -1) return UINT64_MAX;
  const result = integer(value, field);
  if (result < 0n) {
    throw new CgroupError('INVALID', `${field}: ${value} is negative (only -1, "no limit", is)`);
  }
  return result > UINT64_MAX ? UINT64_MAX : result;
}

function tasksMax(limit: number): UnitProperty[] {
  // runc sets TasksMax only for a positive limit or -1 (no limit).
  if (limit === -1) return [u64('TasksMax', UINT64_MAX)];
  if (limit > 0) return [u64('TasksMax', integer(limit, 'linux.resources.pids.limit'))];
  return [];
}

/**
 * memory.swap is memory plus swap (v1's memsw); MemorySwapMax is swap
 * alone. As runc converts it: -1 stays "no limit", and so does an unset
 * swap when memory is unlimited; otherwise the memory limit is subtracted.
 */
function swapMax(memory: LinuxMemory): bigint | undefined {
  const limit = memory.limit ?? 0;
  const swap = memory.swap ?? 0;
  if (limit === -1 && swap === 0) return UINT64_MAX;
  if (swap === 0) return undefined;
  if (swap === -1) return UINT64_MAX;
  const field = 'linux.resources.memory.swap';
  if (limit === 0 || limit === -1) {
    throw new CgroupError(
      'INVALID',
      `${field}: a swap limit needs a memory limit (linux.resources.memory.limit) on cgroup v2, where the memory limit is subtracted from it`,
    );
  }
  const swapValue = integer(swap, field);
  const limitInt = integer(limit, 'linux.resources.memory.limit');
  if (limitInt < 0n) {
    throw new CgroupError('INVALID', `linux.resources.memory.limit: ${limit} is negative`);
  }
  if (swapValue < limitInt) {
    throw new CgroupError(
      'INVALID',
      `${field}: ${swap} is less than the memory limit ${limit} (it counts memory plus swap)`,
    );
  }
  return swapValue - limitInt;
}

/**
 * CPUQuotaPerSecUSec (and CPUQuotaPeriodUSec from systemd 242): systemd
 * keeps the quota as a whole percentage of a CPU, so a quota that is not is
 * rounded up to the next 10 ms per second, never below what was asked for.
 * A quota of 0 or less with a period means "no quota".
 */
function cpuQuotaProperties(
  quota: number | undefined,
  period: number | undefined,
  context: ResourcePropertiesContext,
  field: string,
): UnitProperty[] {
  const properties: UnitProperty[] = [];
  const quotaValue = quota === undefined ? 0n : integer(quota, `${field}.quota`);
  let periodValue = period === undefined ? 0n : unsigned(period, `${field}.period`);
  if (periodValue !== 0n) {
    if (context.systemdVersion >= 242) properties.push(u64('CPUQuotaPeriodUSec', periodValue));
    else
      context.warn?.(
        `systemd ${context.systemdVersion} has no CPUQuotaPeriodUSec (242 or later does): ${field}.period is written to the cgroup only`,
      );
  }
  if (quotaValue === 0n && periodValue === 0n) return properties;
  let perSecond = UINT64_MAX;
  if (quotaValue > 0n) {
    if (periodValue === 0n) periodValue = DEFAULT_CPU_PERIOD_US;
    perSecond = (quotaValue * 1_000_000n) / periodValue;
    if (perSecond % 10_000n !== 0n) perSecond = (perSecond / 10_000n + 1n) * 10_000n;
  }
  properties.push(u64('CPUQuotaPerSecUSec', perSecond));
  return properties;
}

/** AllowedCPUs/AllowedMemoryNodes (systemd 244 or later) from a cpuset list; nothing for an empty one. */
function cpusetProperty(
  name: 'AllowedCPUs' | 'AllowedMemoryNodes',
  list: string | undefined,
  field: string,
  context: ResourcePropertiesContext,
): UnitProperty[] {
  if (list === undefined || list === '') return [];
  const bits = cpuListBits(list, field);
  if (context.systemdVersion >= 244) return [{ name, signature: 'ay', value: bits }];
  context.warn?.(
    `systemd ${context.systemdVersion} has no ${name} (244 or later does): ${field} is written to the cgroup only`,
  );
  return [];
}

/** The highest CPU or node number accepted in a list (the kernel's NR_CPUS limit is 8192). */
const MAX_CPU = 65_535;

/**
 * A cpuset list ("0-3,8") as systemd's bitmask byte array: bit n%8 of
 * byte n/8 set for each listed number.
 */
export function cpuListBits(list: string, field: string): number[] {
  const bad = (why: string) =>
    new CgroupError('INVALID', `${field}: ${JSON.stringify(list)} is not a cpu list: ${why}`);
  const numbers: number[] = [];
  for (const item of list.split(',')) {
    const match = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(item);
    if (!match) throw bad(`${JSON.stringify(item)} is not "N" or "N-M"`);
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    if (last < first) throw bad(`the range ${item.trim()} goes backwards`);
    if (last > MAX_CPU) throw bad(`${last} is above ${MAX_CPU}`);
    for (let n = first; n <= last; n++) numbers.push(n);
  }
  const bytes = new Array<number>(Math.floor(Math.max(...numbers) / 8) + 1).fill(0);
  for (const n of numbers) bytes[n >> 3] = (bytes[n >> 3] ?? 0) | (1 << (n & 7));
  return bytes;
}

function unifiedProperties(
  key: string,
  value: string,
  context: ResourcePropertiesContext,
): UnitProperty[] {
  const field = `linux.resources.unified[${JSON.stringify(key)}]`;
  const bad = (why: string) =>
    new CgroupError('INVALID', `${field}: ${JSON.stringify(value)} ${why}`);
  const number = (text: string): bigint => {
    if (!/^\d+$/.test(text)) throw bad('is not a number or "max"');
    const result = BigInt(text);
    if (result > UINT64_MAX) throw bad('is larger than 2^64-1');
    return result;
  };
  const limit = (text: string): bigint => (text === 'max' ? UINT64_MAX : number(text));
  const trimmed = value.trim();
  switch (key) {
    case 'cpu.max': {
      const parts = trimmed.split(/\s+/);
      if (parts.length > 2 || parts[0] === '') throw bad('is not "<quota|max> [<period>]"');
      const quota = parts[0] === 'max' ? -1 : Number(number(parts[0] ?? ''));
      const period = parts[1] === undefined ? 100_000 : Number(number(parts[1]));
      return cpuQuotaProperties(quota, period, context, field);
    }
    case 'cpu.weight': {
      const weight = number(trimmed);
      if (weight < 1n || weight > 10_000n) throw bad('is outside 1..10000');
      return [u64('CPUWeight', weight)];
    }
    case 'cpuset.cpus':
      return cpusetProperty('AllowedCPUs', trimmed, field, context);
    case 'cpuset.mems':
      return cpusetProperty('AllowedMemoryNodes', trimmed, field, context);
    case 'memory.high':
      return [u64('MemoryHigh', limit(trimmed))];
    case 'memory.low':
      return [u64('MemoryLow', limit(trimmed))];
    case 'memory.min':
      return [u64('MemoryMin', limit(trimmed))];
    case 'memory.max':
      return [u64('MemoryMax', limit(trimmed))];
    case 'memory.swap.max':
      return [u64('MemorySwapMax', limit(trimmed))];
    case 'pids.max':
      return [u64('TasksMax', limit(trimmed))];
    default:
      return [];
  }
}

/**
 * DevicePolicy/DeviceAllow for the device rules (read from "nothing
 * allowed", the last matching rule deciding). systemd only has allow-lists:
 * - allow everything: DevicePolicy=auto and no list;
 * - allow everything but some devices: not expressible, so the unit denies
 *   everything and the fs driver writes the real rules after it (as runc);
 * - an allow-list: DevicePolicy=strict and, per entry, "char-*"/"block-*"
 *   for a whole type, "char-<driver>" (from /proc/devices) for "<major>:*",
 *   /dev/char|block/<major>:<minor> for one device. "*:<minor>" has no
 *   systemd form and is left to the fs driver.
 * The list is reset with an empty DeviceAllow before the new one.
 */
function deviceProperties(
  rules: readonly LinuxDeviceCgroup[],
  context: ResourcePropertiesContext,
): UnitProperty[] {
  const normalized = rules.map((rule, index) =>
    normalizeDeviceRule(rule, `linux.resources.devices[${index}]`),
  );
  const state = emulateDeviceRules(normalized);
  const resetList: UnitProperty = { name: 'DeviceAllow', signature: 'a(ss)', value: [] };
  if (state.allowAll) {
    if (state.exceptions.length === 0) return [str('DevicePolicy', 'auto'), resetList];
    context.warn?.(
      'systemd has no device deny-lists: the unit allows no device and the denied devices are applied through the devices cgroup',
    );
    return [str('DevicePolicy', 'strict'), resetList];
  }
  const exists = context.pathExists ?? existsSync;
  const entries: DbusValue[] = [];
  let procDevices: string | undefined;
  const sorted = [...state.exceptions].sort(
    (a, b) =>
      a.major - b.major || a.minor - b.minor || (a.type < b.type ? -1 : a.type > b.type ? 1 : 0),
  );
  for (const entry of sorted) {
    const kind = entry.type === 'b' ? 'block' : 'char';
    const rule = `${entry.type} ${entry.major < 0 ? '*' : entry.major}:${entry.minor < 0 ? '*' : entry.minor} ${entry.access}`;
    let path: string;
    if (entry.major < 0) {
      if (entry.minor >= 0) {
        context.warn?.(
          `systemd has no form for the device rule "${rule}" (any major, one minor): it is applied through the devices cgroup only`,
        );
        continue;
      }
      path = `${kind}-*`;
    } else if (entry.minor < 0) {
      procDevices ??= (context.procDevices ?? readProcDevices)();
      const group = deviceGroup(procDevices, kind, entry.major);
      if (group === undefined) {
        context.warn?.(
          `no ${kind} driver has major ${entry.major} in /proc/devices, so systemd cannot name the device rule "${rule}": it is applied through the devices cgroup only`,
        );
        continue;
      }
      path = `${kind}-${group}`;
    } else {
      path = `/dev/${kind}/${entry.major}:${entry.minor}`;
      // Before 240 systemd stat()ed the path, which must then exist.
      if (context.systemdVersion < 240 && !exists(path)) {
        context.warn?.(
          `systemd ${context.systemdVersion} needs ${path} to exist for the device rule "${rule}": it is applied through the devices cgroup only`,
        );
        continue;
      }
    }
    entries.push([path, entry.access]);
  }
  return [
    str('DevicePolicy', 'strict'),
    resetList,
    { name: 'DeviceAllow', signature: 'a(ss)', value: entries },
  ];
}

function readProcDevices(): string {
  return readFileSync('/proc/devices', 'utf8');
}

/** The name /proc/devices gives the first driver with `major` in the character or block section. */
export function deviceGroup(
  procDevices: string,
  kind: 'char' | 'block',
  major: number,
): string | undefined {
  let section: 'char' | 'block' | undefined;
  for (const line of procDevices.split('\n')) {
    if (/^Character devices:/.test(line)) section = 'char';
    else if (/^Block devices:/.test(line)) section = 'block';
    else if (section === kind) {
      const match = /^\s*(\d+)\s+(\S+)\s*$/.exec(line);
      if (match && Number(match[1]) === major) return match[2];
    }
  }
  return undefined;
}
