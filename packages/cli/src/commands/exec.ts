import { readFileSync } from 'node:fs';
import { ContainerError, describeSystemError } from '@runc-ts/libcontainer';
import type { Process } from '@runc-ts/spec';
import type { Command } from '../args.js';
import type { CommandContext } from '../context.js';
import { ExecFailedError, UsageError } from '../errors.js';
import { nonNegativeInt, pidfdSocketPath, runtimeOf } from './lifecycle.js';

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
        let process: Process | undefined;
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
          // The validator loads only for --process.
          const { parseProcess } = await import('../validators.js');
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
          // --no-new-privs sets newPrivs: false
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
          stdio: [0, 1, 2],
          forwardSignals: true,
        });
      } catch (error) {
        throw new ExecFailedError(error);
      }
    });
}
