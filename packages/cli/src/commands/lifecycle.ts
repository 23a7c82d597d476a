import { ContainerError, dryRunCreate, Runtime } from '@runc-ts/libcontainer';
import type { Command } from '../args.js';
import type { CommandContext } from '../context.js';
import { UsageError } from '../errors.js';
import { runtimeOptionsOf } from './runtime-options.js';

export function runtimeOf(context: CommandContext): Runtime {
  return new Runtime(runtimeOptionsOf(context));
}

export function nonNegativeInt(flag: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value))
      throw new UsageError(`invalid ${flag} ${JSON.stringify(value)}: expected a number >= 0`);
    return Number(value);
  };
}

/** LISTEN_FDS (systemd socket activation) fds are passed on like --preserve-fds. */
function listenFds(): number {
  const value = process.env.LISTEN_FDS;
  if (!value) return 0;
  if (!/^\d+$/.test(value)) throw new UsageError(`invalid LISTEN_FDS ${JSON.stringify(value)}`);
  return Number(value);
}

/** A --pidfd-socket path: an empty one would name no socket at all. */
export function pidfdSocketPath(value: string | undefined): string | undefined {
  if (value === '') throw new ContainerError('OPTION_INVALID', '--pidfd-socket: the path is empty');
  return value;
}

interface CreateFlags {
  bundle: string;
  consoleSocket?: string;
  pidfdSocket?: string;
  pidFile?: string;
  noPivot?: boolean;
  noNewKeyring?: boolean;
  preserveFds: number;
  dryRun?: boolean;
  format?: string;
}

function withCreateFlags(command: Command): Command {
  return command
    .argument('<container-id>')
    .option('-b, --bundle <dir>', 'path to the root of the bundle directory', '.')
    .option(
      '--console-socket <path>',
      'AF_UNIX socket that receives the master end of the console pseudoterminal',
    )
    .option(
      '--pidfd-socket <path>',
      "AF_UNIX socket that receives a pidfd (pidfd_open(2)) of the container's init process",
    )
    .option('--pid-file <file>', 'write the process id of the container to this file')
    .option(
      '--no-pivot',
      'do not use pivot_root to jail the process inside rootfs (for ramdisk rootfs)',
    )
    .option('--no-new-keyring', 'do not create a new session keyring for the container')
    .option(
      '--preserve-fds <n>',
      'pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)',
      nonNegativeInt('--preserve-fds'),
      0,
    )
    .option(
      '--dry-run',
      'runc-ts only (runc has no such flag): check and plan the container, print the plan and exit; nothing is created',
    )
    .option('--format <format>', "with --dry-run: the plan as 'text' or 'json'");
}

/** The --dry-run output format; --format without --dry-run is refused (it would be ignored). */
function dryRunFormat(flags: CreateFlags): 'text' | 'json' | undefined {
  if (flags.dryRun !== true) {
    if (flags.format !== undefined) throw new UsageError('--format is only used with --dry-run');
    return undefined;
  }
  const format = flags.format ?? 'text';
  if (format !== 'text' && format !== 'json') {
    throw new UsageError(`invalid --format ${JSON.stringify(format)}: use "text" or "json"`);
  }
  return format;
}

/** Prints what the create would do; nothing is made. */
async function dryRun(
  context: CommandContext,
  id: string,
  options: Parameters<typeof dryRunCreate>[2],
  format: 'text' | 'json',
): Promise<void> {
  const report = await dryRunCreate(runtimeOf(context), id, options);
  const { renderDryRun } = await import('../render-dry-run.js');
  context.write(renderDryRun(report, format));
}

function createOptions(flags: CreateFlags) {
  return {
    bundle: flags.bundle,
    consoleSocket: flags.consoleSocket,
    pidfdSocket: pidfdSocketPath(flags.pidfdSocket),
    pidFile: flags.pidFile,
    // --no-pivot sets pivot: false
    noPivot: (flags as { pivot?: boolean }).pivot === false,
    noNewKeyring: (flags as { newKeyring?: boolean }).newKeyring === false,
    preserveFds: flags.preserveFds,
    listenFds: listenFds(),
    // The container's stdio are runc's own.
    stdio: [0, 1, 2] as const,
  };
}

export function registerCreate(program: Command, context: CommandContext): void {
  withCreateFlags(
    program
      .command('create')
      .summary('create a container')
      .description(
        'Create the container <container-id> from the bundle: namespaces, mounts, devices and\n' +
          'process settings are set up and its init waits for `runc start`.',
      ),
  ).action(async (id: string, flags: CreateFlags) => {
    const format = dryRunFormat(flags);
    if (format) return dryRun(context, id, { ...createOptions(flags), command: 'create' }, format);
    await runtimeOf(context).create(id, createOptions(flags));
  });
}

export function registerRun(program: Command, context: CommandContext): void {
  withCreateFlags(
    program
      .command('run')
      .summary('create and run a container')
      .description(
        'Create and start the container; wait for its process and exit with its status,\n' +
          'forwarding signals to it, then delete it (unless --keep). With --detach, return once\n' +
          'it runs.',
      ),
  )
    .option('-d, --detach', "detach from the container's process")
    .option('--keep', 'do not delete the container after it exits')
    .option(
      '--no-subreaper',
      'runc-ts never makes itself a subreaper: reparented processes go to the caller',
    )
    .action(async (id: string, flags: CreateFlags & { detach?: boolean; keep?: boolean }) => {
      const format = dryRunFormat(flags);
      if (format) {
        const options = { ...createOptions(flags), detach: flags.detach, keep: flags.keep };
        return dryRun(context, id, { ...options, command: 'run' }, format);
      }
      const code = await runtimeOf(context).run(id, {
        ...createOptions(flags),
        detach: flags.detach,
        keep: flags.keep,
        forwardSignals: true,
      });
      context.exitCode = code;
    });
}
