import { closeSync, openSync, readlinkSync, writeSync } from 'node:fs';

export type LogFormat = 'text' | 'json';
export type LogLevel = 'debug' | 'info' | 'warning' | 'error';

const SEVERITY: Record<LogLevel, number> = { debug: 0, info: 1, warning: 2, error: 3 };
const STDERR = 2;

const UTC_ZONES = new Set(
  ['UTC', 'UCT', 'Universal', 'Zulu', 'GMT', 'GMT0', 'GMT+0', 'GMT-0', 'Greenwich'].flatMap(
    (zone) => [zone, `Etc/${zone}`],
  ),
);

/**
 * True when the local time zone is known to be UTC from TZ or the
 * /etc/localtime link alone. Asking the Date API instead makes the engine
 * load its time zone database first (~5-10 ms under Bun, on every logged
 * error), and hosts running containers are mostly UTC.
 */
export function zoneIsUtc(
  tz: string | undefined,
  localtimeLink: () => string | undefined,
): boolean {
  const zoneName = (path: string) => path.replace(/^.*\/zoneinfo\//, '');
  if (tz !== undefined) {
    const name = tz.startsWith(':') ? tz.slice(1) : tz;
    return name === '' || name === 'UTC0' || UTC_ZONES.has(zoneName(name));
  }
  const target = localtimeLink();
  return target !== undefined && target.includes('zoneinfo/') && UTC_ZONES.has(zoneName(target));
}

let hostUtc: boolean | undefined;

function localOffsetMinutes(date: Date): number {
  hostUtc ??= zoneIsUtc(process.env.TZ, () => {
    try {
      return readlinkSync('/etc/localtime');
    } catch {
      return undefined;
    }
  });
  return hostUtc ? 0 : -date.getTimezoneOffset();
}

/** RFC 3339 local time to the second, like Go's time.RFC3339 ("Z" in UTC). */
export function rfc3339(date: Date): string {
  const offsetMinutes = localOffsetMinutes(date);
  const local = new Date(date.getTime() + offsetMinutes * 60_000);
  const stamp = local.toISOString().slice(0, 19);
  if (offsetMinutes === 0) return `${stamp}Z`;
  const sign = offsetMinutes > 0 ? '+' : '-';
  const abs = Math.abs(offsetMinutes);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `${stamp}${sign}${hh}:${mm}`;
}

// logrus' text formatter leaves a value bare when it has only these characters.
const BARE_VALUE = /^[A-Za-z0-9\-._/@^+]+$/;

/**
 * One log line as containerd and runc's tooling parse it: text
 * `time="..." level=error msg="..."`, or JSON `{"level","msg","time"}` with
 * the keys in that (sorted) order.
 */
export function formatLogLine(format: LogFormat, level: LogLevel, msg: string, now: Date): string {
  const time = rfc3339(now);
  if (format === 'json') return `${JSON.stringify({ level, msg, time })}\n`;
  const value = (v: string) => (BARE_VALUE.test(v) ? v : JSON.stringify(v));
  return `time=${value(time)} level=${level} msg=${value(msg)}\n`;
}

export interface LoggerOptions {
  format?: LogFormat;
  debug?: boolean;
  /** Log file (appended to); stderr when absent. */
  file?: string;
  /** Where stderr lines go (tests capture them); fd 2 by default. */
  stderr?: (text: string) => void;
}

export class Logger {
  readonly format: LogFormat;
  private readonly minimum: number;
  private readonly write: (text: string) => void;
  private readonly fd: number | undefined;
  readonly toStderr: boolean;

  constructor(options: LoggerOptions = {}) {
    this.format = options.format ?? 'text';
    this.minimum = SEVERITY[options.debug ? 'debug' : 'info'];
    this.toStderr = options.file === undefined || options.file === '/dev/stderr';
    if (this.toStderr) {
      this.write = options.stderr ?? ((text) => writeSync(STDERR, text));
    } else {
      const fd = openSync(options.file!, 'a', 0o644);
      this.fd = fd;
      this.write = (text) => writeSync(fd, text);
    }
  }

  log(level: LogLevel, msg: string): void {
    if (SEVERITY[level] < this.minimum) return;
    this.write(formatLogLine(this.format, level, msg, new Date()));
  }

  debug(msg: string): void {
    this.log('debug', msg);
  }

  warn(msg: string): void {
    this.log('warning', msg);
  }

  error(msg: string): void {
    this.log('error', msg);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
  }
}
