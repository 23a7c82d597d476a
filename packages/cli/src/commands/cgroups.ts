import { readFileSync } from 'node:fs';
import { describeSystemError } from '@runc-ts/libcontainer';
import type { LinuxResources } from '@runc-ts/spec';
import type { Command } from '../args.js';
import type { CommandContext } from '../context.js';
import { UsageError } from '../errors.js';
import { renderEvent } from '../render-event.js';
import { runtimeOf } from './lifecycle.js';

const RESOURCES_HELP = `The accepted format is as follow (unchanged values can be omitted):

{
  "memory": {
    "limit": 0,
    "reservation": 0,
    "swap": 0
  },
  "cpu": {
    "shares": 0,
    "quota": 0,
    "period": 0,
    "realtimeRuntime": 0,
    "realtimePeriod": 0,
    "cpus": "",
    "mems": ""
  },
  "blockIO": {
    "weight": 0
  }
}

Note: if data is to be read from a file or the standard input, all
other options are ignored.`;

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  k: 2 ** 10,
  m: 2 ** 20,
  g: 2 ** 30,
  t: 2 ** 40,
  p: 2 ** 50,
};

/** A memory size as docker and runc accept it: "1048576", "512m", "1.5g", "2GiB". */
export function parseMemorySize(flag: string, value: string): number {
  if (value === '-1') return -1;
  const match = /^(\d+(?:\.\d+)?) ?([kmgtp])?i?b?$/i.exec(value);
  if (!match) throw new UsageError(`invalid value for ${flag}: invalid size: '${value}'`);
  const unit = SIZE_UNITS[(match[2] ?? '').toLowerCase()] ?? 1;
  return Math.floor(Number(match[1]) * unit);
}

function parseInteger(flag: string, value: string, min: number): number {
  if (!/^-?\d+$/.test(value) || Number(value) < min || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`invalid value ${JSON.stringify(value)} for flag --${flag}`);
  }
  return Number(value);
}

interface UpdateFlags {
  resources?: string;
  blkioWeight?: string;
  cpuPeriod?: string;
  cpuQuota?: string;
  cpuShare?: string;
  cpuRtPeriod?: string;
  cpuRtRuntime?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  memory?: string;
  memoryReservation?: string;
  memorySwap?: string;
  pidsLimit?: string;
  l3CacheSchema?: string;
  memBwSchema?: string;
}

/** The resources `runc update` changes, from its flags. */
export function resourcesFromFlags(flags: UpdateFlags): LinuxResources {
  if (flags.l3CacheSchema !== undefined) {
    throw new UsageError('--l3-cache-schema: Intel RDT/CAT: l3 cache schema is not enabled');
  }
  if (flags.memBwSchema !== undefined) {
    throw new UsageError('--mem-bw-schema: Intel RDT/MBA: memory bandwidth schema is not enabled');
  }
  const resources: LinuxResources = {};
  const cpu: NonNullable<LinuxResources['cpu']> = {};
  if (flags.cpuShare !== undefined) cpu.shares = parseInteger('cpu-share', flags.cpuShare, 0);
  if (flags.cpuQuota !== undefined) cpu.quota = parseInteger('cpu-quota', flags.cpuQuota, -1);
  if (flags.cpuPeriod !== undefined) cpu.period = parseInteger('cpu-period', flags.cpuPeriod, 0);
  if (flags.cpuRtRuntime !== undefined) {
    cpu.realtimeRuntime = parseInteger('cpu-rt-runtime', flags.cpuRtRuntime, -1);
  }
  if (flags.cpuRtPeriod !== undefined) {
    cpu.realtimePeriod = parseInteger('cpu-rt-period', flags.cpuRtPeriod, 0);
  }
  if (flags.cpusetCpus !== undefined) cpu.cpus = flags.cpusetCpus;
  if (flags.cpusetMems !== undefined) cpu.mems = flags.cpusetMems;
  if (Object.keys(cpu).length > 0) resources.cpu = cpu;
  const memory: NonNullable<LinuxResources['memory']> = {};
  if (flags.memory !== undefined) memory.limit = parseMemorySize('memory', flags.memory);
  if (flags.memoryReservation !== undefined) {
    memory.reservation = parseMemorySize('memory-reservation', flags.memoryReservation);
  }
  if (flags.memorySwap !== undefined)
    memory.swap = parseMemorySize('memory-swap', flags.memorySwap);
  if (Object.keys(memory).length > 0) resources.memory = memory;
  if (flags.blkioWeight !== undefined) {
    resources.blockIO = { weight: parseInteger('blkio-weight', flags.blkioWeight, 0) };
  }
  if (flags.pidsLimit !== undefined) {
    resources.pids = { limit: parseInteger('pids-limit', flags.pidsLimit, -1) };
  }
  return resources;
}

async function readResources(path: string): Promise<LinuxResources> {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (error) {
    throw new UsageError(`--resources ${path}: ${describeSystemError(error)}`);
  }
  // The validator loads only for --resources.
  const { parseResources } = await import('../validators.js');
  return parseResources(text, { source: path === '-' ? '<stdin>' : path });
}

/** Go's time.Duration syntax, as runc's --interval takes it: "5s", "1m30s", "250ms". */
export function parseDuration(value: string): number {
  const units: Record<string, number> = {
    ns: 1e-6,
    us: 1e-3,
    µs: 1e-3,
    ms: 1,
    s: 1000,
    m: 60_000,
    h: 3_600_000,
  };
  const part = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let index = 0;
  if (value === '0') return 0;
  while (index < value.length) {
    part.lastIndex = index;
    const match = part.exec(value);
    if (!match) break;
    total += Number(match[1]) * (units[match[2]!] ?? 0);
    index = part.lastIndex;
  }
  if (index !== value.length || value.length === 0) {
    throw new UsageError(`invalid value ${JSON.stringify(value)} for flag --interval: parse error`);
  }
  return total;
}

export function registerUpdate(program: Command, context: CommandContext): void {
  program
    .command('update')
    .summary('update container resource constraints')
    .argument('<container-id>')
    .option(
      '-r, --resources <path>',
      "path to the file containing the resources to update or '-' to read from the standard input",
    )
    .option('--blkio-weight <n>', 'Specifies per cgroup weight, range is from 10 to 1000')
    .option(
      '--cpu-period <n>',
      'CPU CFS period to be used for hardcapping (in usecs). 0 to use system default',
    )
    .option(
      '--cpu-quota <n>',
      'CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period',
    )
    .option('--cpu-share <n>', 'CPU shares (relative weight vs. other containers)')
    .option(
      '--cpu-rt-period <n>',
      'CPU realtime period to be used for hardcapping (in usecs). 0 to use system default',
    )
    .option(
      '--cpu-rt-runtime <n>',
      'CPU realtime hardcap limit (in usecs). Allowed cpu time in a given period',
    )
    .option('--cpuset-cpus <list>', 'CPU(s) to use')
    .option('--cpuset-mems <list>', 'Memory node(s) to use')
    .option('--memory <size>', 'Memory limit (in bytes)')
    .option('--memory-reservation <size>', 'Memory reservation or soft_limit (in bytes)')
    .option(
      '--memory-swap <size>',
      "Total memory usage (memory + swap); set '-1' to enable unlimited swap",
    )
    .option('--pids-limit <n>', 'Maximum number of pids allowed in the container')
    .option('--l3-cache-schema <schema>', 'The string of Intel RDT/CAT L3 cache schema')
    .option('--mem-bw-schema <schema>', 'The string of Intel RDT/MBA memory bandwidth schema')
    .addHelpText('after', `\n${RESOURCES_HELP}`)
    .action(async (id: string, flags: UpdateFlags) => {
      const changes = flags.resources
        ? await readResources(flags.resources)
        : resourcesFromFlags(flags);
      await runtimeOf(context).update(id, changes);
    });
}

export function registerEvents(program: Command, context: CommandContext): void {
  program
    .command('events')
    .summary(
      'display container events such as OOM notifications, cpu, memory, and IO usage statistics',
    )
    .argument('<container-id>')
    .option('--interval <duration>', 'set the stats collection interval', '5s')
    .option('--stats', "display the container's stats then exit")
    .action(async (id: string, flags: { interval: string; stats?: boolean }) => {
      const runtime = runtimeOf(context);
      const interval = parseDuration(flags.interval);
      if (interval <= 0) throw new UsageError('duration interval must be greater than 0');
      if (flags.stats) {
        context.write(renderEvent({ type: 'stats', id, data: runtime.stats(id) }));
        return;
      }
      for await (const event of runtime.events(id, { intervalMs: interval })) {
        context.write(renderEvent(event));
      }
    });
}

export function registerPs(program: Command, context: CommandContext): void {
  program
    .command('ps')
    .summary('ps displays the processes running inside a container')
    .argument('<container-id>')
    .argument('[ps-options...]', 'options passed to ps(1)', [])
    .passThroughOptions()
    .option('-f, --format <format>', 'select one of: table or json', 'table')
    .action((id: string, psArgs: string[], flags: { format: string }) => {
      if (flags.format !== 'table' && flags.format !== 'json') {
        throw new UsageError(`invalid format option ${JSON.stringify(flags.format)}`);
      }
      const pids = runtimeOf(context).pids(id);
      if (flags.format === 'json') {
        context.write(`${JSON.stringify(pids)}\n`);
        return;
      }
      context.write(psTable(psArgs.length > 0 ? psArgs : ['-ef'], pids));
    });
}

/** ps(1)'s output for `args`, header kept, rows limited to `pids`. */
function psTable(args: string[], pids: number[]): string {
  let output: string;
  try {
    output = process
      .getBuiltinModule('node:child_process')
      .execFileSync('ps', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new UsageError(`ps ${args.join(' ')}: ${stderr.trim() || describeSystemError(error)}`);
  }
  const [header = '', ...rows] = output.replace(/\n$/, '').split('\n');
  const pidColumn = header.trim().split(/\s+/).indexOf('PID');
  if (pidColumn < 0) throw new UsageError(`ps ${args.join(' ')}: no PID column in its output`);
  const wanted = new Set(pids);
  const kept = rows.filter((row) => wanted.has(Number(row.trim().split(/\s+/)[pidColumn])));
  return [header, ...kept].map((line) => `${line}\n`).join('');
}
