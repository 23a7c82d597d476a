import {
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { CgroupError, describeErrno, errnoOf, isPermissionError } from './errors.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let writeObserver: ((path: string, value: string) => void) | undefined;

/** Tests see the order of writes through this (a fake cgroupfs keeps only the last value of a file). */
export function observeCgroupWrites(
  observer: ((path: string, value: string) => void) | undefined,
): void {
  writeObserver = observer;
}

/**
 * Writes `value` with one write(2), as cgroupfs needs: the kernel parses each
 * write as a whole. No O_CREAT: a missing file means a missing controller or
 * feature and must fail rather than leave a regular file behind.
 */
export function writeCgroupFile(dir: string, file: string, value: string): void {
  const path = join(dir, file);
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_TRUNC);
  } catch (error) {
    throw writeError(path, value, error);
  }
  try {
    writeSync(fd, Buffer.from(value));
    writeObserver?.(path, value);
  } catch (error) {
    throw writeError(path, value, error);
  } finally {
    closeSync(fd);
  }
}

function writeError(path: string, value: string, error: unknown): CgroupError {
  return new CgroupError(
    'CGROUP_WRITE',
    `write ${path}: ${JSON.stringify(value)}: ${describeErrno(error)}`,
    { cause: error, path, errno: errnoOf(error) },
  );
}

export function readCgroupFile(dir: string, file: string): string {
  const path = join(dir, file);
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new CgroupError('CGROUP_READ', `read ${path}: ${describeErrno(error)}`, {
      cause: error,
      path,
      errno: errnoOf(error),
    });
  }
}

/** The file's content, or undefined when the file (a controller's or a kernel feature's) is absent. */
export function readOptionalFile(dir: string, file: string): string | undefined {
  try {
    return readFileSync(join(dir, file), 'utf8');
  } catch (error) {
    const code = errnoOf(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    return readCgroupFile(dir, file);
  }
}

export function cgroupFileExists(dir: string, file: string): boolean {
  return existsSync(join(dir, file));
}

/**
 * Decimal text of an integer from a JSON document. Values above 2^53 are
 * doubles that String() would print in exponent form; the kernel wants
 * digits. 2^64 (what JSON.parse makes of 18446744073709551615) is printed
 * as the largest u64.
 */
export function formatInteger(value: number): string {
  if (Number.isSafeInteger(value)) return String(value);
  if (!Number.isFinite(value) || !Number.isInteger(value)) {
    throw new CgroupError('INVALID', `${value} is not an integer`);
  }
  if (value >= 2 ** 64) return '18446744073709551615';
  return BigInt(value).toString();
}

/** An unsigned integer from a cgroup file; "max" (no limit) reads as `max`. */
export function parseUnsigned(text: string, path: string, max = 0): number {
  const trimmed = text.trim();
  if (trimmed === 'max') return max;
  if (!/^\d+$/.test(trimmed)) {
    throw new CgroupError(
      'CGROUP_READ',
      `read ${path}: ${JSON.stringify(trimmed)} is not a number`,
      {
        path,
      },
    );
  }
  return Number(trimmed);
}

/** "key value" lines (memory.stat, cpu.stat, memory.events...). */
export function parseKeyValues(text: string): Record<string, number> {
  const result: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [key, value, extra] = line.trim().split(/\s+/);
    if (!key || value === undefined || extra !== undefined || !/^-?\d+$/.test(value)) continue;
    result[key] = Number(value);
  }
  return result;
}

/** Every pid in `dir` and the cgroups below it (cgroup.procs of each). */
export function collectPids(dir: string): number[] {
  const pids: number[] = [];
  const visit = (current: string): void => {
    const procs = readOptionalFile(current, 'cgroup.procs');
    if (procs === undefined) return;
    for (const line of procs.split('\n')) {
      if (line.trim() !== '') pids.push(Number(line.trim()));
    }
    for (const child of subdirectories(current)) visit(join(current, child));
  };
  visit(dir);
  return pids;
}

function subdirectories(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return [];
    throw new CgroupError('CGROUP_READ', `read directory ${dir}: ${describeErrno(error)}`, {
      cause: error,
      path: dir,
    });
  }
}

const REMOVE_DEADLINE_MS = 1000;

/**
 * Removes a cgroup and every cgroup below it, deepest first. A cgroup whose
 * last process is still exiting is EBUSY for a moment, so removal is retried
 * for about a second. A cgroup that is already gone is not an error.
 */
export async function removeCgroupTree(dir: string): Promise<void> {
  const started = Date.now();
  let delay = 10;
  for (;;) {
    try {
      removeTreeOnce(dir);
      return;
    } catch (error) {
      const code = errnoOf(error);
      if (code !== 'EBUSY' && code !== 'ENOTEMPTY') {
        throw new CgroupError(
          'CGROUP_REMOVE',
          `remove ${errorPath(error, dir)}: ${describeErrno(error)}`,
          {
            cause: error,
            path: errorPath(error, dir),
            errno: code,
          },
        );
      }
      if (Date.now() - started >= REMOVE_DEADLINE_MS) {
        throw new CgroupError(
          'BUSY',
          `remove ${errorPath(error, dir)}: ${describeErrno(error)} (still busy after ${REMOVE_DEADLINE_MS} ms: processes left in it?)`,
          { cause: error, path: errorPath(error, dir), errno: code },
        );
      }
      await sleep(delay);
      delay = Math.min(delay * 2, 100);
    }
  }
}

function errorPath(error: unknown, fallback: string): string {
  const path = (error as NodeJS.ErrnoException).path;
  return typeof path === 'string' ? path : fallback;
}

function removeTreeOnce(dir: string): void {
  for (const child of subdirectories(dir)) removeTreeOnce(join(dir, child));
  try {
    rmdirSync(dir);
  } catch (error) {
    if (errnoOf(error) !== 'ENOENT') throw error;
  }
}

/**
 * Makes `dir` and its missing parents. Returns the directories it created,
 * outermost first (cpuset needs to initialise exactly those).
 */
export function makeCgroupDir(dir: string): string[] {
  const missing: string[] = [];
  for (let current = dir; !existsSync(current); current = join(current, '..')) {
    missing.unshift(current);
    if (current === '/') break;
  }
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
  } catch (error) {
    throw new CgroupError('CGROUP_CREATE', `create cgroup ${dir}: ${describeErrno(error)}`, {
      cause: error,
      path: dir,
      errno: errnoOf(error),
    });
  }
  return missing;
}

/**
 * What a manager could not do as an unprivileged caller: runc's rootless
 * mode leaves a cgroup it may not create or write alone, and so do we, but
 * we keep the list (for `skipped` and for debugging).
 */
export class RootlessSkips {
  readonly entries: string[] = [];
  constructor(readonly rootless: boolean) {}

  /** Runs `action`; a permission error is recorded and swallowed when rootless. Returns whether it ran. */
  attempt(what: string, action: () => void): boolean {
    try {
      action();
      return true;
    } catch (error) {
      const cause = error instanceof CgroupError ? error.cause : error;
      if (this.rootless && isPermissionError(cause)) {
        this.entries.push(`${what}: ${describeErrno(cause)}`);
        return false;
      }
      throw error;
    }
  }
}
