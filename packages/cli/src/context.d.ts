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
}
/** What a command needs from the CLI around it. */
export interface CommandContext {
  globals(): GlobalOptions;
  logger(): Logger;
  /** Writes command output (stdout). */
  write(text: string): void;
}
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}
export declare class CliContext implements CommandContext {
  readonly io: CliIo;
  private options;
  private log;
  constructor(io: CliIo);
  configure(options: GlobalOptions): void;
  close(): void;
  globals(): GlobalOptions;
  /** The configured logger, or a plain stderr one when parsing failed early. */
  logger(): Logger;
  write(text: string): void;
}
//# sourceMappingURL=context.d.ts.map
