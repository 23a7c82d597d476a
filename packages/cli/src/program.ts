import { defaultStateRoot, isXdgStateRoot, prepareXdgStateRoot } from '@runc-ts/libcontainer';
import { Command, ParseError } from './args.js';
import { CliContext, type CliIo, type GlobalOptions, type RootlessMode } from './context.js';
import { exitCodeFor, messageOf, UsageError } from './errors.js';
import { formatHelp } from './help.js';
import type { LogFormat } from './log.js';

const DESCRIPTION = `runc-ts: an Open Container Initiative runtime, compatible with runc.

It runs containers from OCI bundles: a directory holding config.json and the
container's root filesystem. Point containerd, podman or docker at this binary
to use it in place of runc; \`runc spec\` writes a starter config.json.`;

interface RawGlobals {
  debug?: boolean;
  log?: string;
  logFormat: string;
  root: string;
  systemdCgroup?: boolean;
  rootless: string;
  criu: string;
}

function validateGlobals(raw: RawGlobals): GlobalOptions {
  if (raw.logFormat !== 'text' && raw.logFormat !== 'json') {
    throw new UsageError(
      `invalid --log-format ${JSON.stringify(raw.logFormat)}: use "text" or "json"`,
    );
  }
  if (!['true', 'false', 'auto'].includes(raw.rootless)) {
    throw new UsageError(
      `invalid --rootless ${JSON.stringify(raw.rootless)}: use "true", "false" or "auto"`,
    );
  }
  return {
    debug: raw.debug === true,
    log: raw.log,
    logFormat: raw.logFormat as LogFormat,
    root: raw.root,
    systemdCgroup: raw.systemdCgroup === true,
    rootless: raw.rootless as RootlessMode,
    criu: raw.criu,
  };
}

type Register = (program: Command, context: CliContext) => void;

/**
 * Every command, in `runc --help` order, with the module that defines it.
 * A command line loads only its command's module (and what that imports):
 * `state` never initialises the planner, seccomp or the executor protocol.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  create: async () => (await import('./commands/lifecycle.js')).registerCreate,
  start: async () => (await import('./commands/start.js')).registerStart,
  run: async () => (await import('./commands/lifecycle.js')).registerRun,
  state: async () => (await import('./commands/query.js')).registerState,
  list: async () => (await import('./commands/query.js')).registerList,
  kill: async () => (await import('./commands/kill.js')).registerKill,
  delete: async () => (await import('./commands/delete.js')).registerDelete,
  exec: async () => (await import('./commands/exec.js')).registerExec,
  update: async () => (await import('./commands/cgroups.js')).registerUpdate,
  pause: async () => (await import('./commands/pause.js')).registerPause,
  resume: async () => (await import('./commands/pause.js')).registerResume,
  events: async () => (await import('./commands/cgroups.js')).registerEvents,
  ps: async () => (await import('./commands/cgroups.js')).registerPs,
  checkpoint: async () => (await import('./commands/checkpoint.js')).registerCheckpoint,
  restore: async () => (await import('./commands/checkpoint.js')).registerRestore,
  spec: async () => (await import('./commands/spec.js')).registerSpec,
  features: async () => (await import('./commands/features.js')).registerFeatures,
};

/** The names of runc-ts's commands (and `help`), in help order. */
export const COMMAND_NAMES: readonly string[] = Object.keys(COMMANDS);

/**
 * The program with `commands` defined (all of them when undefined: help
 * and parse errors that list them).
 */
export async function buildProgram(
  context: CliContext,
  commands: readonly string[] = COMMAND_NAMES,
  version?: string,
): Promise<Command> {
  const registers = await Promise.all(
    commands.flatMap((name) => (Object.hasOwn(COMMANDS, name) ? [COMMANDS[name]!()] : [])),
  );

  const program = new Command('runc')
    .usage('[global options] command [command options] [arguments...]')
    .summary('Open Container Initiative runtime')
    .description(DESCRIPTION)
    .configureHelp((cmd) => formatHelp(cmd, version ?? ''))
    .configureOutput({
      writeOut: (text) => context.io.stdout(text),
      writeErr: (text) => context.io.stderr(text),
    })
    .option('--debug', 'enable debug logging')
    .option('--log <file>', "set the log file to write runc logs to (default is '/dev/stderr')")
    .option('--log-format <format>', "set the log format ('text' or 'json')", 'text')
    .option(
      '--root <dir>',
      'root directory for storage of container state (this should be located in tmpfs)',
      defaultStateRoot(),
    )
    .option('--criu <path>', 'path to the criu binary used for checkpoint and restore', 'criu')
    .option(
      '--systemd-cgroup',
      'enable systemd cgroup support, expects cgroupsPath to be of form "slice:prefix:name"',
    )
    .option(
      '--rootless <value>',
      "ignore cgroup permission errors ('true', 'false', or 'auto')",
      'auto',
    )
    .helpOption('-h, --help', 'show help')
    .argument('[command...]')
    .action((words: string[]) => {
      // `runc`, `runc help` and `runc help COMMAND` print help, as runc's do.
      const [word, topic, ...more] = words;
      if (word !== undefined && word !== 'help') throw unknownCommand(word);
      if (more.length > 0) throw new UsageError('help: give one command at most');
      if (topic === undefined) return program.outputHelp();
      const command = program.commands.find((c) => c.name() === topic);
      if (!command) throw unknownCommand(topic);
      command.outputHelp();
    })
    .hook('preAction', (thisCommand, actionCommand) => {
      const globals = validateGlobals(thisCommand.opts<RawGlobals>());
      context.configure(globals);
      // As runc with $XDG_RUNTIME_DIR/runc: the default state directory is
      // made (sticky) before any command, and a failure stops every command;
      // but a dry run makes nothing.
      const dryRun = actionCommand.opts<{ dryRun?: boolean }>().dryRun === true;
      if (
        !dryRun &&
        thisCommand.getOptionValueSource('root') === 'default' &&
        isXdgStateRoot(globals.root)
      ) {
        prepareXdgStateRoot(globals.root);
      }
    });

  // Only where it can be asked for (before the command): it reads the
  // libseccomp version, which no other command needs.
  if (version !== undefined) program.version(version, '-v, --version', 'print the version');
  for (const register of registers) register(program, context);
  return program;
}

/** A parse error as runc reports usage errors: with the help to read. */
function fromParseError(error: ParseError, argv: readonly string[]): UsageError {
  const message = error.message;
  const names = new Set(COMMAND_NAMES);
  const command = argv.find((arg) => names.has(arg));
  const hint = command ? `runc ${command} --help` : 'runc --help';
  return new UsageError(`${message} (see '${hint}')`);
}

function unknownCommand(command: string): UsageError {
  // runc's wording (its CLI library looks the name up as a help topic), exit 3.
  return new UsageError(`No help topic for '${command}'`, 3);
}

const GLOBAL_OPTIONS_WITH_VALUE = new Set([
  '--log',
  '--log-format',
  '--root',
  '--rootless',
  '--criu',
]);

/** The command word of a command line: the first argument after the global options. */
function commandWord(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-')) return arg;
    if (GLOBAL_OPTIONS_WITH_VALUE.has(arg)) i++;
  }
  return undefined;
}

/** Runs the CLI on `argv` (without node and script), returning the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const context = new CliContext(io);
  let program: Command;
  try {
    // An unknown command fails even with --help after it, as in runc.
    const command = commandWord(argv);
    if (command !== undefined && command !== 'help' && !Object.hasOwn(COMMANDS, command)) {
      throw unknownCommand(command);
    }
    // Only the command that runs is defined; `help`, no command and global
    // --help/--version (before the command) define all, with the version.
    const before = command === undefined ? argv : argv.slice(0, argv.indexOf(command));
    const all =
      command === undefined ||
      command === 'help' ||
      before.some((arg) => ['-v', '--version', '-h', '--help'].includes(arg));
    program = all
      ? await buildProgram(context, COMMAND_NAMES, (await import('./build-info.js')).versionText())
      : await buildProgram(context, [command]);
    await program.parseAsync(argv);
    return context.exitCode;
  } catch (caught) {
    // --help and --version: their text, to stdout.
    if (caught instanceof ParseError && caught.exitCode === 0) {
      io.stdout(caught.message);
      return 0;
    }
    const error = caught instanceof ParseError ? fromParseError(caught, argv) : caught;
    reportError(context, error);
    return exitCodeFor(error);
  } finally {
    context.close();
  }
}

function reportError(context: CliContext, error: unknown): void {
  const message = messageOf(error);
  const logger = context.logger();
  logger.error(message);
  // Like runc: when logs go to a file, the caller still sees why it failed.
  if (!logger.toStderr) context.io.stderr(`${message}\n`);
}
