import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseKeyValues, parseUnsigned, readCgroupFile, readOptionalFile } from './fsutil.js';
import type {
  BlkioEntry,
  BlkioStats,
  CgroupStats,
  CpusetStats,
  HugetlbEntry,
  MemoryEntry,
} from './types.js';

/** What cgroup v2 files say for "no limit", as runc reports it (Go's math.MaxUint64). */
export const UNLIMITED_V2 = 2 ** 64 - 1;

// cpuacct.stat counts USER_HZ ticks, which Linux fixes at 100 per second.
const NANOSECONDS_PER_TICK = 1e9 / 100;

function emptyCpuset(): CpusetStats {
  return {
    cpu_exclusive: 0,
    mem_hardwall: 0,
    mem_exclusive: 0,
    memory_migrate: 0,
    memory_spread_page: 0,
    memory_spread_slab: 0,
    memory_pressure: 0,
    sched_load_balance: 0,
    sched_relax_domain_level: 0,
  };
}

function emptyStats(): CgroupStats {
  const zero = (): MemoryEntry => ({ limit: 0, failcnt: 0 });
  return {
    cpu: { usage: { kernel: 0, user: 0 }, throttling: {} },
    cpuset: emptyCpuset(),
    memory: { usage: zero(), swap: zero(), kernel: zero(), kernelTCP: zero() },
    pids: {},
    blkio: {},
    hugetlb: {},
  };
}

/** A MemoryEntry with runc's omissions (usage and max only when not 0). */
function memoryEntry(limit: number, usage: number, max: number, failcnt: number): MemoryEntry {
  const entry = { limit } as MemoryEntry;
  if (usage) entry.usage = usage;
  if (max) entry.max = max;
  entry.failcnt = failcnt;
  return entry;
}

function blkioEntry(major: number, minor: number, op: string, value: number): BlkioEntry {
  const entry: BlkioEntry = {};
  if (major) entry.major = major;
  if (minor) entry.minor = minor;
  if (op) entry.op = op;
  if (value) entry.value = value;
  return entry;
}

function readNumber(dir: string, file: string, max = 0): number {
  return parseUnsigned(readCgroupFile(dir, file), join(dir, file), max);
}

function readOptionalNumber(dir: string, file: string, max = 0): number | undefined {
  const text = readOptionalFile(dir, file);
  return text === undefined ? undefined : parseUnsigned(text, join(dir, file), max);
}

function numberList(text: string | undefined): number[] {
  return (text ?? '')
    .trim()
    .split(/\s+/)
    .filter((item) => item !== '')
    .map(Number);
}

/** "0-3,5" -> [0,1,2,3,5]. */
export function parseCpuList(text: string): number[] {
  const result: number[] = [];
  for (const part of text.trim().split(',')) {
    if (part === '') continue;
    const [first, last] = part.split('-').map(Number) as [number, number | undefined];
    for (let value = first; value <= (last ?? first); value++) result.push(value);
  }
  return result;
}

function sortedRecord(values: Record<string, number>): Record<string, number> {
  const sorted: Record<string, number> = {};
  for (const key of Object.keys(values).sort()) sorted[key] = values[key] as number;
  return sorted;
}

function pageSizesIn(dir: string, suffix: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const sizes = new Set<string>();
  for (const name of names) {
    const match = /^hugetlb\.(\d+[KMGT]B)\.(.+)$/.exec(name);
    if (match && match[2] === suffix) sizes.add(match[1] as string);
  }
  return [...sizes].sort();
}

// ---------------------------------------------------------------- cgroup v1

/** `events --stats` from v1 hierarchies (controller -> directory). */
export function readV1Stats(paths: Record<string, string>): CgroupStats {
  const stats = emptyStats();
  if (paths.cpuacct) readV1CpuUsage(paths.cpuacct, stats);
  if (paths.cpu) {
    const cpuStat = parseKeyValues(readOptionalFile(paths.cpu, 'cpu.stat') ?? '');
    stats.cpu.throttling = throttling(
      cpuStat.nr_periods,
      cpuStat.nr_throttled,
      cpuStat.throttled_time,
    );
  }
  if (paths.cpuset) stats.cpuset = readV1Cpuset(paths.cpuset);
  if (paths.memory) readV1Memory(paths.memory, stats);
  if (paths.pids) stats.pids = pidsStats(paths.pids);
  if (paths.blkio) stats.blkio = readV1Blkio(paths.blkio);
  if (paths.hugetlb) {
    for (const size of pageSizesIn(paths.hugetlb, 'limit_in_bytes')) {
      stats.hugetlb[size] = hugetlbEntry(
        readNumber(paths.hugetlb, `hugetlb.${size}.usage_in_bytes`),
        readNumber(paths.hugetlb, `hugetlb.${size}.max_usage_in_bytes`),
        readNumber(paths.hugetlb, `hugetlb.${size}.failcnt`),
      );
    }
  }
  return stats;
}

function throttling(
  periods = 0,
  throttledPeriods = 0,
  throttledTime = 0,
): CgroupStats['cpu']['throttling'] {
  const result: CgroupStats['cpu']['throttling'] = {};
  if (periods) result.periods = periods;
  if (throttledPeriods) result.throttledPeriods = throttledPeriods;
  if (throttledTime) result.throttledTime = throttledTime;
  return result;
}

function hugetlbEntry(usage: number, max: number, failcnt: number): HugetlbEntry {
  const entry: HugetlbEntry = {} as HugetlbEntry;
  if (usage) entry.usage = usage;
  if (max) entry.max = max;
  entry.failcnt = failcnt;
  return entry;
}

function readV1CpuUsage(dir: string, stats: CgroupStats): void {
  // Built in runc's field order: total, percpu..., kernel, user.
  const usage = {} as CgroupStats['cpu']['usage'];
  const total = readNumber(dir, 'cpuacct.usage');
  if (total) usage.total = total;
  const percpu = numberList(readOptionalFile(dir, 'cpuacct.usage_percpu'));
  if (percpu.length > 0) usage.percpu = percpu;
  // "cpu user system" then one line per CPU, in nanoseconds (Linux 4.16+).
  const all = readOptionalFile(dir, 'cpuacct.usage_all');
  if (all !== undefined) {
    const rows = all
      .split('\n')
      .slice(1)
      .map((line) => numberList(line))
      .filter((row) => row.length === 3);
    if (rows.length > 0) {
      usage.percpu_kernel = rows.map((row) => row[2] as number);
      usage.percpu_user = rows.map((row) => row[1] as number);
    }
  }
  const ticks = parseKeyValues(readCgroupFile(dir, 'cpuacct.stat'));
  usage.kernel = (ticks.system ?? 0) * NANOSECONDS_PER_TICK;
  usage.user = (ticks.user ?? 0) * NANOSECONDS_PER_TICK;
  stats.cpu.usage = usage;
}

function readV1Cpuset(dir: string): CpusetStats {
  const flag = (name: string): number => readOptionalNumber(dir, `cpuset.${name}`) ?? 0;
  const cpus = parseCpuList(readCgroupFile(dir, 'cpuset.cpus'));
  const mems = parseCpuList(readCgroupFile(dir, 'cpuset.mems'));
  const relax = Number((readOptionalFile(dir, 'cpuset.sched_relax_domain_level') ?? '0').trim());
  const result: CpusetStats = {} as CpusetStats;
  if (cpus.length > 0) result.cpus = cpus;
  result.cpu_exclusive = flag('cpu_exclusive');
  if (mems.length > 0) result.mems = mems;
  result.mem_hardwall = flag('mem_hardwall');
  result.mem_exclusive = flag('mem_exclusive');
  result.memory_migrate = flag('memory_migrate');
  result.memory_spread_page = flag('memory_spread_page');
  result.memory_spread_slab = flag('memory_spread_slab');
  result.memory_pressure = flag('memory_pressure');
  result.sched_load_balance = flag('sched_load_balance');
  result.sched_relax_domain_level = relax;
  return result;
}

function readV1MemoryEntry(dir: string, prefix: string, required: boolean): MemoryEntry {
  const usage = required
    ? readNumber(dir, `${prefix}usage_in_bytes`)
    : readOptionalNumber(dir, `${prefix}usage_in_bytes`);
  // No swap accounting (memsw) or no kmem accounting: runc reports zeros.
  if (usage === undefined) return { limit: 0, failcnt: 0 };
  return memoryEntry(
    readNumber(dir, `${prefix}limit_in_bytes`),
    usage,
    readNumber(dir, `${prefix}max_usage_in_bytes`),
    readNumber(dir, `${prefix}failcnt`),
  );
}

function readV1Memory(dir: string, stats: CgroupStats): void {
  const raw = parseKeyValues(readCgroupFile(dir, 'memory.stat'));
  const memory: CgroupStats['memory'] = {} as CgroupStats['memory'];
  if (raw.cache) memory.cache = raw.cache;
  memory.usage = readV1MemoryEntry(dir, 'memory.', true);
  memory.swap = readV1MemoryEntry(dir, 'memory.memsw.', false);
  memory.kernel = readV1MemoryEntry(dir, 'memory.kmem.', false);
  memory.kernelTCP = readV1MemoryEntry(dir, 'memory.kmem.tcp.', false);
  if (Object.keys(raw).length > 0) memory.raw = sortedRecord(raw);
  stats.memory = memory;
}

function pidsStats(dir: string): CgroupStats['pids'] {
  const result: CgroupStats['pids'] = {};
  const current = readNumber(dir, 'pids.current');
  // "max" is no limit, which runc reports as an absent limit.
  const limit = readOptionalNumber(dir, 'pids.max', 0) ?? 0;
  if (current) result.current = current;
  if (limit) result.limit = limit;
  return result;
}

type BlkioKey = keyof BlkioStats;

const V1_BLKIO_FILES: readonly [string, BlkioKey][] = [
  ['io_service_bytes_recursive', 'ioServiceBytesRecursive'],
  ['io_serviced_recursive', 'ioServicedRecursive'],
  ['io_queued_recursive', 'ioQueueRecursive'],
  ['io_service_time_recursive', 'ioServiceTimeRecursive'],
  ['io_wait_time_recursive', 'ioWaitTimeRecursive'],
  ['io_merged_recursive', 'ioMergedRecursive'],
  ['time_recursive', 'ioTimeRecursive'],
  ['sectors_recursive', 'sectorsRecursive'],
];

/**
 * The first source with per-device data wins: the CFQ files (kernels before
 * 5.0), then BFQ's, then the throttling layer's, which counts every device.
 */
function readV1Blkio(dir: string): BlkioStats {
  for (const prefix of ['blkio.', 'blkio.bfq.', 'blkio.throttle.']) {
    const result: BlkioStats = {};
    let found = false;
    for (const [file, key] of V1_BLKIO_FILES) {
      if (
        prefix === 'blkio.throttle.' &&
        key !== 'ioServiceBytesRecursive' &&
        key !== 'ioServicedRecursive'
      ) {
        continue;
      }
      const entries = parseBlkioFile(readOptionalFile(dir, `${prefix}${file}`));
      if (entries.length > 0) {
        result[key] = entries;
        found = true;
      }
    }
    if (found) return result;
  }
  return {};
}

/** Lines "8:0 Read 4096" or "8:0 4096"; the "Total N" summary line has no device and is skipped. */
export function parseBlkioFile(text: string | undefined): BlkioEntry[] {
  const entries: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const fields = line.trim().split(/\s+/);
    const device = /^(\d+):(\d+)$/.exec(fields[0] ?? '');
    if (!device) continue;
    const op = fields.length === 3 ? (fields[1] as string) : '';
    const value = Number(fields[fields.length - 1]);
    if (fields.length < 2 || Number.isNaN(value)) continue;
    entries.push(blkioEntry(Number(device[1]), Number(device[2]), op, value));
  }
  return entries;
}

// ---------------------------------------------------------------- cgroup v2

/** `events --stats` from a cgroup2 directory, with runc's conversions (µs to ns, swap reported as memory+swap). */
export function readV2Stats(dir: string): CgroupStats {
  const stats = emptyStats();
  const cpuStat = parseKeyValues(readOptionalFile(dir, 'cpu.stat') ?? '');
  const usage = {} as CgroupStats['cpu']['usage'];
  const total = (cpuStat.usage_usec ?? 0) * 1000;
  if (total) usage.total = total;
  usage.kernel = (cpuStat.system_usec ?? 0) * 1000;
  usage.user = (cpuStat.user_usec ?? 0) * 1000;
  stats.cpu = {
    usage,
    throttling: throttling(
      cpuStat.nr_periods,
      cpuStat.nr_throttled,
      cpuStat.throttled_usec === undefined ? undefined : cpuStat.throttled_usec * 1000,
    ),
  };
  const memoryStat = readOptionalFile(dir, 'memory.stat');
  if (memoryStat !== undefined) readV2Memory(dir, memoryStat, stats);
  if (readOptionalFile(dir, 'pids.current') !== undefined) stats.pids = pidsStats(dir);
  stats.blkio = parseIoStat(readOptionalFile(dir, 'io.stat') ?? '');
  for (const size of pageSizesIn(dir, 'current')) {
    const events = parseKeyValues(readOptionalFile(dir, `hugetlb.${size}.events`) ?? '');
    stats.hugetlb[size] = hugetlbEntry(
      readNumber(dir, `hugetlb.${size}.current`),
      0,
      events.max ?? 0,
    );
  }
  return stats;
}

function readV2Memory(dir: string, memoryStat: string, stats: CgroupStats): void {
  const raw = parseKeyValues(memoryStat);
  const usage = readNumber(dir, 'memory.current');
  const limit = readNumber(dir, 'memory.max', UNLIMITED_V2);
  const peak = readOptionalNumber(dir, 'memory.peak') ?? 0;
  const swapOnly = readOptionalNumber(dir, 'memory.swap.current');
  const swapLimit =
    swapOnly === undefined ? 0 : (readOptionalNumber(dir, 'memory.swap.max', UNLIMITED_V2) ?? 0);
  const memory: CgroupStats['memory'] = {} as CgroupStats['memory'];
  if (raw.file) memory.cache = raw.file;
  memory.usage = memoryEntry(limit, usage, peak, 0);
  // v1's memsw counts memory plus swap; runc reports v2 the same way.
  const combinedLimit =
    swapLimit === UNLIMITED_V2 || limit === UNLIMITED_V2 ? UNLIMITED_V2 : swapLimit + limit;
  memory.swap = memoryEntry(combinedLimit, (swapOnly ?? 0) + usage, 0, 0);
  memory.kernel = { limit: 0, failcnt: 0 };
  memory.kernelTCP = { limit: 0, failcnt: 0 };
  if (Object.keys(raw).length > 0) memory.raw = sortedRecord(raw);
  stats.memory = memory;
}

/** io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0" per device. */
export function parseIoStat(text: string): BlkioStats {
  const bytes: BlkioEntry[] = [];
  const serviced: BlkioEntry[] = [];
  for (const line of text.split('\n')) {
    const [device, ...pairs] = line.trim().split(/\s+/);
    const match = /^(\d+):(\d+)$/.exec(device ?? '');
    if (!match) continue;
    const major = Number(match[1]);
    const minor = Number(match[2]);
    for (const pair of pairs) {
      const [key, value] = pair.split('=');
      const amount = Number(value);
      if (key === 'rbytes') bytes.push(blkioEntry(major, minor, 'Read', amount));
      else if (key === 'wbytes') bytes.push(blkioEntry(major, minor, 'Write', amount));
      else if (key === 'rios') serviced.push(blkioEntry(major, minor, 'Read', amount));
      else if (key === 'wios') serviced.push(blkioEntry(major, minor, 'Write', amount));
    }
  }
  const result: BlkioStats = {};
  if (bytes.length > 0) result.ioServiceBytesRecursive = bytes;
  if (serviced.length > 0) result.ioServicedRecursive = serviced;
  return result;
}

/**
 * JSON text for stats (or an event holding them) with every integer printed
 * exactly: limits such as 9223372036854771712 (v1 "no limit") and
 * 18446744073709551615 (v2 "max") are beyond 2^53, where JSON.stringify
 * prints a rounded form that Go's uint64 decoding rejects or misreads.
 */
export function formatStatsJson(value: unknown): string {
  if (typeof value === 'number') {
    if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
      return value >= 2 ** 64 ? '18446744073709551615' : BigInt(value).toString();
    }
    return JSON.stringify(value);
  }
  if (Array.isArray(value))
    return `[${value.map((item) => formatStatsJson(item ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const parts: string[] = [];
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined || typeof item === 'function') continue;
      parts.push(`${JSON.stringify(key)}:${formatStatsJson(item)}`);
    }
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
