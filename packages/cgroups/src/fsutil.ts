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
import { dirname, join } from 'node:path';
import { CgroupError, describeErrno, errnoOf, isPermissionError } from './errors.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let writeObserver: ((path: string, value: string) => void) | undefined;

/** What a manager would do to cgroupfs, recorded by recordCgroupActions instead of done. */
export type CgroupAction =
  | { action: 'mkdir'; path: string }
  | { action: 'write'; path: string; value: string }
  | { action: 'attach-device-filter'; path: string; instructions: number };

interface Recording {
  actions: CgroupAction[];
  /** Directories the recorded actions create. */
  made: Set<string>;
  /** The last value recorded for each file. */
  written: Map<string, string>;
}

let recording: Recording | undefined;

/**
 * Runs `action` (a manager's apply and set) with cgroupfs left alone: writes,
 * directory creation and device filters are recorded, and the directories
 * that do not exist yet read as a new cgroup would (what was recorded for
 * it, else the kernel's default, or its parent's for the files a child
 * inherits). For `runc create --dry-run`.
 */
export async function recordCgroupActions(action: () => Promise<void>): Promise<CgroupAction[]> {
  if (recording !== undefined) throw new Error('cgroup actions are being recorded already');
  const current: Recording = { actions: [], made: new Set(), written: new Map() };
  recording = current;
  try {
    await action();
  } finally {
    recording = undefined;
  }
  return current.actions;
}

/** Records a device filter attach when recording; returns whether it did (and the caller must not attach). */
export function recordDeviceFilter(dir: string, program: Buffer): boolean {
  if (recording === undefined) return false;
  // eBPF instructions are 8 bytes each.
  recording.actions.push({
    action: 'attach-device-filter',
    path: dir,
    instructions: program.length / 8,
  });
  return true;
}

/** A directory that does not exist yet while recording: it reads as the new cgroup would. */
function planned(dir: string): boolean {
  return recording !== undefined && !existsSync(dir);
}

function nearestExisting(dir: string): string {
  let current = dir;
  while (!existsSync(current) && current !== dirname(current)) current = dirname(current);
  return current;
}

/** A file of a cgroup that does not exist yet: recorded value, else what a new cgroup has. */
function plannedContent(dir: string, file: string): string | undefined {
  const written = recording?.written.get(join(dir, file));
  if (written !== undefined) return written;
  const ancestor = nearestExisting(dir);
  switch (file) {
    case 'cpuset.cpus':
    case 'cpuset.mems':
      return ''; // v1: empty until set (inheritCpuset)
    case 'devices.list':
    case 'cgroup.controllers':
      // v1: a child starts with its parent's rules; v2: the controllers
      // apply() enables in every ancestor.
      return readOptionalFileNow(ancestor, file);
    default:
      return file.endsWith('.current') ? '0\n' : undefined;
  }
}

/** Whether a cgroup that does not exist yet will have `file`: as its nearest existing ancestor. */
function plannedFileExists(dir: string, file: string): boolean {
  if (recording?.written.has(join(dir, file))) return true;
  const ancestor = nearestExisting(dir);
  if (existsSync(join(ancestor, file))) return true;
  // cgroup v2's root has no controller files; its children have those of
  // the controllers it has.
  const controllers = readOptionalFileNow(ancestor, 'cgroup.controllers');
  if (controllers === undefined || existsSync(join(ancestor, 'cgroup.type'))) return false;
  const controller = file.slice(0, file.indexOf('.'));
  return controllers.trim().split(/\s+/).includes(controller);
}

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
  if (recording !== undefined) {
    recording.actions.push({ action: 'write', path, value });
    recording.written.set(path, value);
    return;
  }
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
  if (planned(dir)) {
    const content = plannedContent(dir, file);
    if (content !== undefined) return content;
  }
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
  if (planned(dir)) return plannedContent(dir, file);
  return readOptionalFileNow(dir, file);
}

function readOptionalFileNow(dir: string, file: string): string | undefined {
  try {
    return readFileSync(join(dir, file), 'utf8');
  } catch (error) {
    const code = errnoOf(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    return readCgroupFile(dir, file);
  }
}

export function cgroupFileExists(dir: string, file: string): boolean {
  if (planned(dir)) return plannedFileExists(dir, file);
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
  if (recording !== undefined) {
    for (const path of missing) {
      if (recording.made.has(path)) continue;
      recording.made.add(path);
      recording.actions.push({ action: 'mkdir', path });
    }
    return missing;
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
