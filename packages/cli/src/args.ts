// The command-line parser of the `runc` command: commands with options and
// arguments declared in a fluent style, parsed the way runc's users expect
// (global options before the command, `--no-` negation, `--opt=value`,
// repeatable options, `--` and pass-through of a command's own arguments).
//
// runc-ts's own, instead of a general-purpose library: a general one costs
// more at start-up (its module graph, EventEmitter, child_process) than
// `runc state` takes in all, and only this subset is needed.

/** A command line that cannot be parsed; exitCode 0 for --help and --version. */
export class ParseError extends Error {
  override readonly name = 'ParseError';
  constructor(
    message: string,
    readonly exitCode = 1,
    readonly code: 'usage' | 'help' | 'version' = 'usage',
  ) {
    super(message);
  }
}

type Parser = (value: string, previous: unknown) => unknown;

export class Option {
  readonly short?: string;
  readonly long: string;
  /** `<value>`: the option takes one. */
  readonly takesValue: boolean;
  /** `--no-x`: sets x to false. */
  readonly negate: boolean;
  /** Key in opts(): the long name in camelCase, without `no-`. */
  readonly key: string;

  constructor(
    readonly flags: string,
    readonly description: string,
    readonly parser?: Parser,
    readonly defaultValue?: unknown,
  ) {
    const match = /^(?:(-[A-Za-z]), )?(--[a-z][a-z0-9-]*)(?: <[^>]+>)?$/.exec(flags);
    if (!match) throw new Error(`option flags not understood: ${flags}`);
    this.short = match[1];
    this.long = match[2]!;
    this.takesValue = flags.includes('<');
    this.negate = this.long.startsWith('--no-');
    const name = this.long.slice(this.negate ? 5 : 2);
    this.key = name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  }

  is(arg: string): boolean {
    return arg === this.long || (this.short !== undefined && arg === this.short);
  }
}

export class Argument {
  readonly required: boolean;
  readonly variadic: boolean;
  private readonly bare: string;

  constructor(
    spec: string,
    readonly description?: string,
    readonly defaultValue?: unknown,
  ) {
    const match = /^([<[])([a-z][a-z-]*)(\.\.\.)?[>\]]$/.exec(spec);
    if (!match) throw new Error(`argument not understood: ${spec}`);
    this.required = match[1] === '<';
    this.bare = match[2]!;
    this.variadic = match[3] !== undefined;
  }

  name(): string {
    return this.bare;
  }
}

type Action = (...args: never[]) => unknown;
type Hook = (command: Command, actionCommand: Command) => unknown;

export interface Output {
  writeOut(text: string): void;
  writeErr(text: string): void;
}

export class Command {
  parent: Command | null = null;
  readonly commands: Command[] = [];
  readonly options: Option[] = [];
  readonly registeredArguments: Argument[] = [];
  private summaryText = '';
  private descriptionText = '';
  private usageText: string | undefined;
  private afterHelp = '';
  private handler: Action | undefined;
  private passThrough = false;
  private ownHelpFlags: Option | undefined;
  private versionFlags: { option: Option; text: string } | undefined;
  private preAction: Hook[] = [];
  private values: Record<string, unknown> = {};
  private sources: Record<string, 'default' | 'cli'> = {};
  private ownOutput: Output | undefined;
  private ownFormatter: ((command: Command) => string) | undefined;

  // Subcommands share the settings of the program they belong to.
  private get helpFlags(): Option | undefined {
    return this.ownHelpFlags ?? this.parent?.helpFlags;
  }
  private get output(): Output {
    return (
      this.ownOutput ??
      this.parent?.output ?? {
        writeOut: (text) => process.stdout.write(text),
        writeErr: (text) => process.stderr.write(text),
      }
    );
  }
  private get formatter(): ((command: Command) => string) | undefined {
    return this.ownFormatter ?? this.parent?.formatter;
  }

  constructor(private readonly commandName = '') {}

  name(): string {
    return this.commandName;
  }

  /** Adds a subcommand and returns it. */
  command(name: string): Command {
    const sub = new Command(name);
    sub.parent = this;
    this.commands.push(sub);
    return sub;
  }

  summary(): string;
  summary(text: string): this;
  summary(text?: string): string | this {
    if (text === undefined) return this.summaryText;
    this.summaryText = text;
    return this;
  }

  description(): string;
  description(text: string): this;
  description(text?: string): string | this {
    if (text === undefined) return this.descriptionText;
    this.descriptionText = text;
    return this;
  }

  usage(): string;
  usage(text: string): this;
  usage(text?: string): string | this {
    if (text === undefined) return this.usageText ?? '';
    this.usageText = text;
    return this;
  }

  argument(spec: string, description?: string, defaultValue?: unknown): this {
    this.registeredArguments.push(new Argument(spec, description, defaultValue));
    return this;
  }

  /** An option; `parse` turns its text (and the value so far) into the value. */
  option(flags: string, description: string, defaultValue?: unknown): this;
  option(flags: string, description: string, parse: Parser, defaultValue?: unknown): this;
  option(flags: string, description: string, third?: unknown, fourth?: unknown): this {
    const option =
      typeof third === 'function'
        ? new Option(flags, description, third as Parser, fourth)
        : new Option(flags, description, undefined, third);
    this.options.push(option);
    this.setDefault(option);
    return this;
  }

  helpOption(flags: string, description: string): this {
    this.ownHelpFlags = new Option(flags, description);
    return this;
  }

  version(text: string, flags: string, description: string): this {
    this.versionFlags = { option: new Option(flags, description), text };
    return this;
  }

  /** Options after the command's first argument are its arguments, not options. */
  passThroughOptions(): this {
    this.passThrough = true;
    return this;
  }

  addHelpText(_position: 'after', text: string): this {
    this.afterHelp += text;
    return this;
  }

  action(handler: Action): this {
    this.handler = handler;
    return this;
  }

  /** Runs before the action of this command or of any subcommand. */
  hook(_event: 'preAction', hook: Hook): this {
    this.preAction.push(hook);
    return this;
  }

  configureOutput(output: Output): this {
    this.ownOutput = output;
    return this;
  }

  configureHelp(formatter: (command: Command) => string): this {
    this.ownFormatter = formatter;
    return this;
  }

  opts<T>(): T {
    return { ...this.values } as T;
  }

  getOptionValueSource(key: string): 'default' | 'cli' | undefined {
    return this.sources[key];
  }

  /** The options help lists: declared ones, then --version and --help. */
  visibleOptions(): Option[] {
    const options = [...this.options];
    if (this.versionFlags) options.push(this.versionFlags.option);
    if (this.helpFlags) options.push(this.helpFlags);
    return options;
  }

  helpText(): string {
    const text = this.formatter ? this.formatter(this) : '';
    return this.afterHelp ? `${text}${this.afterHelp}\n` : text;
  }

  outputHelp(): void {
    this.output.writeOut(this.helpText());
  }

  async parseAsync(argv: readonly string[]): Promise<void> {
    await this.run([...argv], []);
  }

  private setDefault(option: Option): void {
    if (option.negate) {
      // --no-x alone: x is true unless given.
      if (!this.options.some((o) => o !== option && o.key === option.key)) {
        this.values[option.key] = true;
        this.sources[option.key] = 'default';
      }
    } else if (option.defaultValue !== undefined) {
      this.values[option.key] = option.defaultValue;
      this.sources[option.key] = 'default';
    }
  }

  private usageHint(): string {
    const path: string[] = [];
    for (let c: Command | null = this; c; c = c.parent) path.unshift(c.name());
    return path.join(' ');
  }

  private fail(message: string): never {
    throw new ParseError(message);
  }

  /**
   * `-dt` (short flags together) and `-fjson` (a short option and its
   * value): whether `arg` was one and is now applied.
   */
  private parseShortGroup(arg: string): boolean {
    const first = this.findOption(arg.slice(0, 2));
    if (!first) return false;
    if (first.takesValue) {
      this.setOption(first, arg.slice(2));
      return true;
    }
    const flags = [...arg.slice(1)].map((letter) => this.findOption(`-${letter}`));
    if (flags.some((flag) => flag === undefined || flag.takesValue)) return false;
    for (const flag of flags) this.setOption(flag!, undefined);
    return true;
  }

  private findOption(arg: string): Option | undefined {
    return this.options.find((option) => option.is(arg));
  }

  private setOption(option: Option, text: string | undefined): void {
    let value: unknown;
    if (!option.takesValue) value = !option.negate;
    else if (option.parser) value = option.parser(text!, this.values[option.key]);
    else value = text;
    this.values[option.key] = value;
    this.sources[option.key] = 'cli';
  }

  /**
   * Parses this command's options out of `args`; returns its operands and
   * what follows a subcommand's name (which that subcommand parses).
   */
  private parseOptions(args: string[]): { operands: string[]; rest: string[] } {
    const operands: string[] = [];
    const rest: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const arg = args[i]!;
      if (arg === '--') {
        operands.push(...args.slice(i + 1));
        break;
      }
      if (arg.length > 1 && arg.startsWith('-')) {
        if (this.helpFlags?.is(arg)) throw new ParseError(this.helpText(), 0, 'help');
        if (this.versionFlags?.option.is(arg)) {
          throw new ParseError(`${this.versionFlags.text}\n`, 0, 'version');
        }
        const equals = arg.startsWith('--') ? arg.indexOf('=') : -1;
        const flag = equals > 0 ? arg.slice(0, equals) : arg;
        const option = this.findOption(flag);
        if (option) {
          if (!option.takesValue) {
            if (equals > 0) this.fail(`option '${option.flags}' takes no value`);
            this.setOption(option, undefined);
          } else if (equals > 0) {
            this.setOption(option, arg.slice(equals + 1));
          } else {
            // The next word is the value, whatever it looks like ("-1").
            const value = args[i + 1];
            if (value === undefined) this.fail(`option '${option.flags}' argument missing`);
            this.setOption(option, value);
            i++;
          }
          continue;
        }
        if (!arg.startsWith('--') && this.parseShortGroup(arg)) continue;
        this.fail(`unknown option '${arg}'`);
      }
      // The first word naming a subcommand: the rest is its to parse.
      if (operands.length === 0 && this.commands.some((c) => c.name() === arg)) {
        operands.push(arg);
        rest.push(...args.slice(i + 1));
        break;
      }
      if (this.passThrough) {
        operands.push(...args.slice(i));
        break;
      }
      operands.push(arg);
    }
    return { operands, rest };
  }

  private async run(args: string[], ancestors: Command[]): Promise<void> {
    const { operands, rest } = this.parseOptions(args);
    const sub =
      operands.length > 0 ? this.commands.find((c) => c.name() === operands[0]) : undefined;
    if (sub) {
      await sub.run(rest, [...ancestors, this]);
      return;
    }
    if (!this.handler) this.fail(`no action for '${this.usageHint()}'`);
    const values = this.argumentValues(operands);
    for (const command of [...ancestors, this]) {
      for (const hook of command.preAction) await hook(command, this);
    }
    await (this.handler as (...args: unknown[]) => unknown)(...values, this.opts(), this);
  }

  private argumentValues(operands: string[]): unknown[] {
    const declared = this.registeredArguments;
    const values: unknown[] = [];
    declared.forEach((argument, index) => {
      if (argument.variadic) {
        const taken = operands.slice(index);
        values.push(taken.length > 0 ? taken : (argument.defaultValue ?? []));
        return;
      }
      const value = operands[index];
      if (value === undefined && argument.required) {
        this.fail(`missing required argument '${argument.name()}'`);
      }
      values.push(value ?? argument.defaultValue);
    });
    const last = declared[declared.length - 1];
    if (!last?.variadic && operands.length > declared.length) {
      const expected = `${declared.length} argument${declared.length === 1 ? '' : 's'}`;
      const of = this.parent ? ` for '${this.name()}'` : '';
      this.fail(`too many arguments${of}. Expected ${expected} but got ${operands.length}.`);
    }
    return values;
  }
}
