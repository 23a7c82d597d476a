export type LogFormat = 'text' | 'json';
export type LogLevel = 'debug' | 'info' | 'warning' | 'error';
/** RFC 3339 local time to the second, like Go's time.RFC3339 ("Z" in UTC). */
export declare function rfc3339(date: Date): string;
/**
 * One log line as containerd and runc's tooling parse it: text
 * `time="..." level=error msg="..."`, or JSON `{"level","msg","time"}` with
 * the keys in that (sorted) order.
 */
export declare function formatLogLine(
  format: LogFormat,
  level: LogLevel,
  msg: string,
  now: Date,
): string;
export interface LoggerOptions {
  format?: LogFormat;
  debug?: boolean;
  /** Log file (appended to); stderr when absent. */
  file?: string;
  /** Where stderr lines go (tests capture them); fd 2 by default. */
  stderr?: (text: string) => void;
}
export declare class Logger {
  readonly format: LogFormat;
  private readonly minimum;
  private readonly write;
  private readonly fd;
  readonly toStderr: boolean;
  constructor(options?: LoggerOptions);
  log(level: LogLevel, msg: string): void;
  debug(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  close(): void;
}
//# sourceMappingURL=log.d.ts.map
