import { readFileSync } from 'node:fs';
import {
  ContainerError,
  describeSystemError,
  parseSignal,
  Runtime,
  rootlessCgroupsAuto,
  runningInUserNamespace,
  systemdOwnerUid,
} from '@runc-ts/libcontainer';
import { parseProcess } from '@runc-ts/spec';
import type { Command } from 'commander';
import type { CommandContext, GlobalOptions } from '../context.js';
import { ExecFailedError, UsageError } from '../errors.js';
import { renderList } from '../render.js';

export function runtimeOf(context: CommandContext): Runtime {
  const globals = context.globals();
  return new Runtime({
    root: globals.root,
    initPath: context.initPath(),
    systemdCgroup: globals.systemdCgroup,
    rootlessCgroups: rootlessCgroups(globals),
    debug: (message) => context.logger().debug(message),
    warn: (message) => context.logger().warn(message),
  });
}

/**
 * `--rootless`: whether cgroups this user may not create or write are
 * skipped. As runc: "true"/"false" say so; "auto" is true without root, and
 * for root in a user namespace (with --systemd-cgroup only when that
 * namespace's systemd is not root's).
 */
function rootlessCgroups(globals: GlobalOptions): boolean {
  if (globals.rootless !== 'auto') return globals.rootless === 'true';
  return rootlessCgroupsAuto({
    euid: process.geteuid?.() ?? 0,
    inUserNamespace: runningInUserNamespace,
    systemd: globals.systemdCgroup,
    systemdOwnerUid,
  });
}

function nonNegativeInt(flag: string) {
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
function pidfdSocketPath(value: string | undefined): string | undefined {
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
    );
}

function createOptions(flags: CreateFlags) {
  return {
    bundle: flags.bundle,
    consoleSocket: flags.consoleSocket,
    pidfdSocket: pidfdSocketPath(flags.pidfdSocket),
    pidFile: flags.pidFile,
    // commander turns --no-pivot into pivot: false
    noPivot: (flags as { pivot?: boolean }).pivot === false,
    noNewKeyring: (flags as { newKeyring?: boolean }).newKeyring === false,
    preserveFds: flags.preserveFds,
    listenFds: listenFds(),
  };
}

export function registerLifecycle(program: Command, context: CommandContext): void {
  withCreateFlags(
    program
      .command('create')
      .summary('create a container')
      .description(
        'Create the container <container-id> from the bundle: namespaces, mounts, devices and\n' +
          'process settings are set up and its init waits for `runc start`.',
      ),
  ).action(async (id: string, flags: CreateFlags) => {
    await runtimeOf(context).create(id, createOptions(flags));
  });

  program
    .command('start')
    .summary('executes the user defined process in a created container')
    .argument('<container-id>')
    .action((id: string) => {
      runtimeOf(context).start(id);
    });

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
      const code = await runtimeOf(context).run(id, {
        ...createOptions(flags),
        detach: flags.detach,
        keep: flags.keep,
      });
      context.exitCode = code;
    });

  program
    .command('state')
    .summary('output the state of a container')
    .argument('<container-id>')
    .action((id: string) => {
      context.write(JSON.stringify(runtimeOf(context).state(id), null, 2));
    });

  program
    .command('list')
    .summary('lists containers started by runc with the given root')
    .option('-f, --format <format>', 'select one of: table or json', 'table')
    .option('-q, --quiet', 'display only container IDs')
    .action((flags: { format: string; quiet?: boolean }) => {
      if (flags.format !== 'table' && flags.format !== 'json') {
        throw new UsageError(
          `invalid --format ${JSON.stringify(flags.format)}: use "table" or "json"`,
        );
      }
      context.write(renderList(runtimeOf(context).list(), flags.format, flags.quiet === true));
    });

  program
    .command('kill')
    .summary("send a signal (default: SIGTERM) to the container's init process")
    .argument('<container-id>')
    .argument('[signal]', 'signal name (KILL, SIGKILL) or number', 'SIGTERM')
    .option('-a, --all', 'send the signal to all processes inside the container')
    .action(async (id: string, signal: string, flags: { all?: boolean }) => {
      await runtimeOf(context).kill(id, parseSignal(signal), { all: flags.all === true });
    });

  program
    .command('delete')
    .summary('delete a container and the resources it holds')
    .argument('<container-id>')
    .option('-f, --force', 'forcibly delete the container if it is still running (uses SIGKILL)')
    .action(async (id: string, flags: { force?: boolean }) => {
      await runtimeOf(context).delete(id, { force: flags.force === true });
    });
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function parseUser(value: string): { uid: number; gid?: number } {
  const match = /^(\d+)(?::(\d+))?$/.exec(value);
  if (!match) throw new UsageError(`invalid --user ${JSON.stringify(value)}: expected UID[:GID]`);
  return { uid: Number(match[1]), gid: match[2] === undefined ? undefined : Number(match[2]) };
}

function parseGids(values: string[]): number[] {
  return values
    .flatMap((value) => value.split(','))
    .map((gid) => {
      if (!/^\d+$/.test(gid))
        throw new UsageError(`invalid --additional-gids ${JSON.stringify(gid)}`);
      return Number(gid);
    });
}

interface ExecFlags {
  consoleSocket?: string;
  pidfdSocket?: string;
  cwd?: string;
  env?: string[];
  tty?: boolean;
  user?: string;
  additionalGids?: string[];
  process?: string;
  detach?: boolean;
  pidFile?: string;
  processLabel?: string;
  apparmor?: string;
  newPrivs?: boolean;
  cap?: string[];
  preserveFds: number;
  cgroup?: string[];
  ignorePaused?: boolean;
}

export function registerExec(program: Command, context: CommandContext): void {
  program
    .command('exec')
    .summary('execute new process inside the container')
    .description(
      'Run a command in the container <container-id>, in all its namespaces, with its\n' +
        'process settings (user, capabilities, rlimits, ...) changed by the options. In the\n' +
        "foreground it exits with the command's status; with --detach it returns once it runs.",
    )
    .argument('<container-id>')
    .argument('[command...]', 'the command and its arguments (not with --process)')
    .passThroughOptions()
    .option('--console-socket <path>', 'AF_UNIX socket that receives the master end of the pty')
    .option(
      '--pidfd-socket <path>',
      'AF_UNIX socket that receives a pidfd (pidfd_open(2)) of the new process',
    )
    .option('--cwd <dir>', 'current working directory in the container')
    .option('-e, --env <KEY=VALUE>', 'set an environment variable (repeatable)', collect)
    .option('-t, --tty', 'allocate a pseudo-TTY')
    .option('-u, --user <uid[:gid]>', 'UID (format: <uid>[:<gid>])')
    .option(
      '-g, --additional-gids <gid>',
      'additional gids (repeatable, or comma-separated)',
      collect,
    )
    .option('-p, --process <file>', 'path to the process.json')
    .option('-d, --detach', "detach from the container's process")
    .option('--pid-file <file>', 'write the process id to this file')
    .option('--process-label <label>', 'set the SELinux label of the process')
    .option('--apparmor <profile>', 'set the AppArmor profile of the process')
    .option('--no-new-privs', 'set no_new_privs for the process')
    .option('-c, --cap <capability>', 'add a capability to the process (repeatable)', collect)
    .option(
      '--preserve-fds <n>',
      'pass N additional file descriptors to the process',
      nonNegativeInt('--preserve-fds'),
      0,
    )
    .option(
      '--cgroup <[controller:]path>',
      'run the process in an (existing) sub-cgroup of the container (repeatable)',
      collect,
    )
    .option('--ignore-paused', 'allow exec in a paused container')
    .action(async (id: string, command: string[], flags: ExecFlags) => {
      if (flags.process && command.length > 0) {
        throw new UsageError('exec: give either --process or a command, not both');
      }
      try {
        let process: ReturnType<typeof parseProcess> | undefined;
        if (flags.process) {
          let text: string;
          try {
            text = readFileSync(flags.process, 'utf8');
          } catch (error) {
            throw new ContainerError(
              'OPTION_INVALID',
              `--process ${flags.process}: ${describeSystemError(error)}`,
            );
          }
          process = parseProcess(text, { source: flags.process });
          if (flags.tty) process.terminal = true;
        }
        context.exitCode = await runtimeOf(context).exec(id, {
          process,
          args: command,
          env: flags.env,
          cwd: flags.cwd,
          user: flags.user === undefined ? undefined : parseUser(flags.user),
          additionalGids: flags.additionalGids ? parseGids(flags.additionalGids) : undefined,
          capabilities: flags.cap,
          // commander turns --no-new-privs into newPrivs: false
          noNewPrivileges: flags.newPrivs === false,
          apparmorProfile: flags.apparmor,
          selinuxLabel: flags.processLabel,
          tty: flags.tty === true,
          consoleSocket: flags.consoleSocket,
          pidfdSocket: pidfdSocketPath(flags.pidfdSocket),
          detach: flags.detach === true,
          pidFile: flags.pidFile,
          preserveFds: flags.preserveFds,
          cgroups: flags.cgroup,
          ignorePaused: flags.ignorePaused === true,
        });
      } catch (error) {
        throw new ExecFailedError(error);
      }
    });
}
