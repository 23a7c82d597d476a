import { readFileSync } from 'node:fs';
import { ContainerError } from './errors.js';

export interface ProcessStat {
  /** Single-letter state: R, S, D, Z, T, ... */
  state: string;
  /** Start time in clock ticks after boot: with the pid, identifies a process. */
  startTime: string;
}

/** /proc/<pid>/stat, or undefined if there is no such process. */
export function readProcessStat(pid: number): ProcessStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm (field 2) may contain spaces and parentheses: split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '?', startTime: fields[19] ?? '' };
}

/**
 * True if `pid` is still the process we started (same start time) and has
 * not exited (a zombie has exited).
 */
export function isProcessAlive(pid: number, startTime?: string): boolean {
  return isLiveStat(pid, pid > 0 ? readProcessStat(pid) : undefined, startTime);
}

/** Whether `stat` (of `pid`) is a process that has not exited and started at `startTime`. */
export function isLiveStat(
  pid: number,
  stat: ProcessStat | undefined,
  startTime?: string,
): boolean {
  if (!(pid > 0)) return false; // a container whose init was never started
  if (!stat || stat.state === 'Z' || stat.state === 'X') return false;
  return startTime === undefined || stat.startTime === startTime;
}

/** Sleeps without returning to the event loop (short waits in sync paths). */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Waits `ms` on a timer: the event loop goes on meanwhile. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** ABORTED, naming what was being waited for, once `signal` has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (!signal?.aborted) return;
  throw abortedError(signal, what);
}

export function abortedError(signal: AbortSignal, what: string): ContainerError {
  const reason = signal.reason as { name?: string } | undefined;
  const why = reason?.name === 'TimeoutError' ? 'timed out' : 'aborted';
  return new ContainerError('ABORTED', `${what}: ${why}`, { cause: signal.reason });
}
