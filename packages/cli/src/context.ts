import { realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describeSystemError } from '@runc-ts/libcontainer';
import { type LogFormat, Logger } from './log.js';

export type RootlessMode = 'true' | 'false' | 'auto';

/** runc's global flags, validated. */
export interface GlobalOptions {
  debug: boolean;
  log?: string;
  logFormat: LogFormat;
  root: string;
  systemdCgroup: boolean;
  rootless: RootlessMode;
  /** The criu binary checkpoint and restore run. */
  criu: string;
}

/** What a command needs from the CLI around it. */
export interface CommandContext {
  globals(): GlobalOptions;
  logger(): Logger;
  /** Writes command output (stdout). */
  write(text: string): void;
  /** Path of the runc-ts-init executor. */
  initPath(): string;
  /** Exit status of a command that succeeded but reports one (`run`). */
  exitCode: number;
}

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

export class CliContext implements CommandContext {
  private options: GlobalOptions | undefined;
  exitCode = 0;
  private log: Logger | undefined;

  constructor(readonly io: CliIo) {}

  configure(options: GlobalOptions): void {
    this.options = options;
    try {
      this.log = new Logger({
        format: options.logFormat,
        debug: options.debug,
        file: options.log,
        stderr: this.io.stderr,
      });
    } catch (error) {
      throw new Error(`cannot open log file ${options.log}: ${describeSystemError(error)}`);
    }
  }

  close(): void {
    this.log?.close();
  }

  globals(): GlobalOptions {
    if (!this.options) throw new Error('global options are read before they were parsed');
    return this.options;
  }

  /** The configured logger, or a plain stderr one when parsing failed early. */
  logger(): Logger {
    this.log ??= new Logger({ stderr: this.io.stderr });
    return this.log;
  }

  write(text: string): void {
    this.io.stdout(text);
  }

  initPath(): string {
    return executorPath();
  }
}

declare const __RUNC_TS_COMPILED__: boolean | undefined;

/** Whether this is the compiled `runc` (a Bun single executable). */
export const COMPILED = typeof __RUNC_TS_COMPILED__ === 'boolean' && __RUNC_TS_COMPILED__;

/**
 * runc-ts-init ships in the package's bin/, beside the compiled `runc`
 * (and is a package bin, so that npm keeps it executable). Found from the
 * program's own path, not from the environment or the working directory,
 * which the caller controls.
 */
export function executorPath(): string {
  if (COMPILED) return join(dirname(realpathSync(process.execPath)), 'runc-ts-init');
  // The Node bundle is dist/runc.cjs; sources (tests) are src/*.ts.
  const here =
    typeof __dirname === 'string'
      ? __dirname
      : decodeURIComponent(new URL('.', import.meta.url).pathname);
  return join(here, '..', 'bin', 'runc-ts-init');
}
