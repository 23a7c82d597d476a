import type { Command } from '../args.js';
import type { CommandContext } from '../context.js';
import { UsageError } from '../errors.js';
import { runtimeOf } from './lifecycle.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

function fd(flag: string) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value)) {
      throw new UsageError(`invalid ${flag} ${JSON.stringify(value)}: expected a number`);
    }
    return Number(value);
  };
}

interface CommonFlags {
  imagePath?: string;
  workPath?: string;
  tcpEstablished?: boolean;
  extUnixSk?: boolean;
  shellJob?: boolean;
  fileLocks?: boolean;
  manageCgroupsMode?: string;
  emptyNs?: string[];
  autoDedup?: boolean;
  lazyPages?: boolean;
}

interface CheckpointFlags extends CommonFlags {
  parentPath?: string;
  leaveRunning?: boolean;
  statusFd: number;
  pageServer?: string;
  preDump?: boolean;
}

interface RestoreFlags extends CommonFlags {
  consoleSocket?: string;
  bundle: string;
  detach?: boolean;
  pidFile?: string;
  noSubreaper?: boolean;
  noPivot?: boolean;
  lsmProfile?: string;
  lsmMountContext?: string;
}

function withCommonFlags(command: Command, verb: 'saving' | 'restoring'): Command {
  return command
    .argument('<container-id>')
    .option(
      '--image-path <path>',
      verb === 'saving'
        ? 'path for saving criu image files'
        : 'path to criu image files for restoring',
    )
    .option('--work-path <path>', 'path for saving work files and logs')
    .option('--tcp-established', 'allow open tcp connections')
    .option('--ext-unix-sk', 'allow external unix sockets')
    .option('--shell-job', 'allow shell jobs')
    .option('--file-locks', 'handle file locks, for safety')
    .option('--manage-cgroups-mode <mode>', "cgroups mode: 'soft' (default), 'full' and 'strict'")
    .option(
      '--empty-ns <namespace>',
      "create a namespace, but don't restore its properties (repeatable)",
      collect,
    )
    .option('--auto-dedup', 'enable auto deduplication of memory images')
    .option('--lazy-pages', 'use userfaultfd to lazily restore memory pages');
}

function commonOptions(context: CommandContext, flags: CommonFlags) {
  return {
    criuPath: context.globals().criu,
    imagePath: flags.imagePath,
    workPath: flags.workPath,
    tcpEstablished: flags.tcpEstablished,
    extUnixSk: flags.extUnixSk,
    shellJob: flags.shellJob,
    fileLocks: flags.fileLocks,
    manageCgroupsMode: flags.manageCgroupsMode,
    emptyNs: flags.emptyNs,
    autoDedup: flags.autoDedup,
    lazyPages: flags.lazyPages,
  };
}

export function registerCheckpoint(program: Command, context: CommandContext): void {
  withCommonFlags(
    program
      .command('checkpoint')
      .summary('checkpoint a running container')
      .description(
        'Save the state of the running container <container-id> with CRIU. Unless\n' +
          '--leave-running or --pre-dump is given, the container is stopped and removed.',
      ),
    'saving',
  )
    .option('--parent-path <path>', 'path for previous criu image files in pre-dump')
    .option('--leave-running', 'leave the process running after checkpointing')
    .option(
      '--status-fd <fd>',
      'criu writes \\0 to this FD once lazy-pages is ready',
      fd('--status-fd'),
      -1,
    )
    .option('--page-server <address:port>', 'ADDRESS:PORT of the page server')
    .option(
      '--pre-dump',
      "dump container's memory information only, leave the container running after this",
    )
    .action(async (id: string, flags: CheckpointFlags) => {
      await runtimeOf(context).checkpoint(id, {
        ...commonOptions(context, flags),
        parentPath: flags.parentPath,
        leaveRunning: flags.leaveRunning,
        statusFd: flags.statusFd,
        pageServer: flags.pageServer,
        preDump: flags.preDump,
      });
    });
}

export function registerRestore(program: Command, context: CommandContext): void {
  withCommonFlags(
    program
      .command('restore')
      .summary('restore a container from a previous checkpoint')
      .description(
        'Restore the container <container-id> from the images of `runc checkpoint`, with\n' +
          'the bundle (config.json and rootfs) it ran from.',
      ),
    'restoring',
  )
    .option(
      '--console-socket <path>',
      "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal",
    )
    .option('-b, --bundle <dir>', 'path to the root of the bundle directory', '.')
    .option('-d, --detach', "detach from the container's process")
    .option('--pid-file <file>', 'specify the file to write the process id to')
    .option('--no-subreaper', 'disable the use of the subreaper used to reap reparented processes')
    .option(
      '--no-pivot',
      'do not use pivot root to jail process inside rootfs (no effect: CRIU restores the root)',
    )
    .option('--lsm-profile <type:name>', 'LSM profile to be used during restore, as TYPE:NAME')
    .option('--lsm-mount-context <context>', 'LSM mount context to be used during restore')
    .action(async (id: string, flags: RestoreFlags) => {
      const code = await runtimeOf(context).restore(id, {
        ...commonOptions(context, flags),
        bundle: flags.bundle,
        consoleSocket: flags.consoleSocket,
        detach: flags.detach,
        pidFile: flags.pidFile,
        noSubreaper: (flags as { subreaper?: boolean }).subreaper === false,
        noPivot: (flags as { pivot?: boolean }).pivot === false,
        lsmProfile: flags.lsmProfile,
        lsmMountContext: flags.lsmMountContext,
        // As runc: the restored process' stdio are ours, and so are its signals.
        stdio: [0, 1, 2] as const,
        forwardSignals: true,
      });
      context.exitCode = code;
    });
}
