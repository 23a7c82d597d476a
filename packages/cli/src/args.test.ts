import { describe, expect, it } from 'vitest';
import { Command, ParseError } from './args.js';

interface Seen {
  args: unknown[];
  opts: Record<string, unknown>;
  hooks: string[];
}

/** A program like runc's: global options, a `run`-like and an `exec`-like command. */
function program(seen: Seen) {
  const root = new Command('runc')
    .option('--debug', 'debug')
    .option('--root <dir>', 'root', '/run/x')
    .helpOption('-h, --help', 'show help')
    .version('v1', '-v, --version', 'print the version')
    .configureHelp((cmd) => `help of ${cmd.name()}\n`)
    .argument('[command...]')
    .action((words: string[]) => {
      seen.args = [words];
    })
    .hook('preAction', (command, action) => {
      seen.hooks.push(`${command.name()}>${action.name()}:${command.getOptionValueSource('root')}`);
    });
  const collect = (value: string, previous: string[] = []) => [...previous, value];
  root
    .command('run')
    .argument('<id>')
    .option('-b, --bundle <dir>', 'bundle', '.')
    .option('-d, --detach', 'detach')
    .option('--no-pivot', 'no pivot')
    .option('--keep', 'keep')
    .option('--preserve-fds <n>', 'fds', (value: string) => Number(value), 0)
    .action((id: string, opts: Record<string, unknown>) => {
      seen.args = [id];
      seen.opts = opts;
    });
  root
    .command('exec')
    .argument('<id>')
    .argument('[command...]')
    .passThroughOptions()
    .option('-e, --env <KEY=VALUE>', 'env', collect)
    .option('-t, --tty', 'tty')
    .option('-u, --user <uid>', 'user')
    .action((id: string, command: string[], opts: Record<string, unknown>) => {
      seen.args = [id, command];
      seen.opts = opts;
    });
  return root;
}

async function parse(...argv: string[]): Promise<Seen> {
  const seen: Seen = { args: [], opts: {}, hooks: [] };
  await program(seen).parseAsync(argv);
  return seen;
}

async function failure(...argv: string[]): Promise<ParseError> {
  try {
    await parse(...argv);
  } catch (error) {
    if (error instanceof ParseError) return error;
    throw error;
  }
  throw new Error(`parsed: ${argv.join(' ')}`);
}

describe('the runc argument parser', () => {
  it('global options before the command, command options after it, defaults filled in', async () => {
    const seen = await parse('--debug', '--root', '/r', 'run', '-d', 'c1');
    expect(seen.args).toEqual(['c1']);
    expect(seen.opts).toEqual({ bundle: '.', detach: true, pivot: true, preserveFds: 0 });
    expect(seen.hooks).toEqual(['runc>run:cli']);
  });

  it('says where a value came from (the default, or the command line)', async () => {
    expect((await parse('run', 'c')).hooks).toEqual(['runc>run:default']);
  });

  it('--no-x, --opt=value, -xVALUE and parsed values', async () => {
    const seen = await parse('run', '--no-pivot', '--bundle=/b', '--preserve-fds', '3', 'c');
    expect(seen.opts).toMatchObject({ pivot: false, bundle: '/b', preserveFds: 3 });
    expect((await parse('run', '-b/x', 'c')).opts.bundle).toBe('/x');
  });

  it('takes the next word as a value even when it starts with a dash', async () => {
    expect((await parse('exec', '-u', '-1', 'c', 'true')).opts.user).toBe('-1');
  });

  it('short flags together (-dt style)', async () => {
    const seen = await parse('exec', '-t', 'c', 'sh');
    expect(seen.opts.tty).toBe(true);
    expect((await parse('run', '-d', 'c')).opts.detach).toBe(true);
  });

  it('repeatable options collect in order', async () => {
    const seen = await parse('exec', '-e', 'A=1', '--env', 'B=2', 'c', 'env');
    expect(seen.opts.env).toEqual(['A=1', 'B=2']);
  });

  it('pass-through: everything after the first argument is the command, options and -- included', async () => {
    const seen = await parse('exec', 'c', 'ls', '-l', '--', '-t');
    expect(seen.args).toEqual(['c', ['ls', '-l', '--', '-t']]);
    expect(seen.opts.tty).toBeUndefined();
  });

  it('-- ends the options', async () => {
    expect((await parse('exec', '--', 'c', '-t')).args).toEqual(['c', ['-t']]);
  });

  it('usage errors in runc-ts wording', async () => {
    expect((await failure('run')).message).toBe("missing required argument 'id'");
    expect((await failure('run', 'a', 'b')).message).toBe(
      "too many arguments for 'run'. Expected 1 argument but got 2.",
    );
    expect((await failure('run', '--frob', 'a')).message).toBe("unknown option '--frob'");
    expect((await failure('run', 'a', '--bundle')).message).toBe(
      "option '-b, --bundle <dir>' argument missing",
    );
    expect((await failure('run', '--keep=yes', 'a')).message).toBe(
      "option '--keep' takes no value",
    );
    expect((await failure('--frob')).message).toBe("unknown option '--frob'");
    expect((await failure('run')).exitCode).toBe(1);
  });

  it('--help and --version end parsing with their text and exit status 0', async () => {
    const help = await failure('run', '--help');
    expect([help.code, help.exitCode, help.message]).toEqual(['help', 0, 'help of run\n']);
    expect((await failure('--help')).message).toBe('help of runc\n');
    const version = await failure('-v');
    expect([version.code, version.exitCode, version.message]).toEqual(['version', 0, 'v1\n']);
    // --version belongs to the program only.
    expect((await failure('run', '--version', 'c')).message).toBe("unknown option '--version'");
  });

  it('words that name no command go to the program', async () => {
    expect((await parse('help', 'run')).args).toEqual([['help', 'run']]);
    expect((await parse()).args).toEqual([[]]);
  });
});
