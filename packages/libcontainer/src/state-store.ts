import {
  accessSync,
  chmodSync,
  closeSync,
  constants,
  type Dirent,
  existsSync,
  fstatSync,
  ftruncateSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { type CgroupState, loadLibc } from '@runc-ts/cgroups';
import type { Spec } from '@runc-ts/spec';
import { ContainerError, describeSystemError } from './errors.js';
import { isValidContainerId, validateContainerId } from './id.js';
import { sleep, sleepSync, throwIfAborted } from './proc.js';

/** What runc-ts keeps about a container in <root>/<id>/state.json. */
export interface StoredState {
  id: string;
  /** Host pid of the container's init. */
  pid: number;
  /** /proc/<pid>/stat start time of the init, to detect pid reuse. */
  pidStartTime: string;
  bundle: string;
  rootfs: string;
  /** RFC 3339 with nanoseconds, UTC. */
  created: string;
  owner: string;
  /** The validated config, for hooks and cleanup after the bundle changed. */
  config: Spec;
  /** The container's cgroup; `update` also changes config.linux.resources. */
  cgroup?: CgroupState;
  /**
   * Set while `create` runs (it holds the lock): such a container does not
   * exist yet for others. Left set once its lock is free, it is what a
   * killed create made: shown as it is (usually stopped), for `delete`.
   */
  creating?: boolean;
}

/** How long a command waits for another one's lock on the same container. */
export const LOCK_TIMEOUT_MS = 10_000;
const LOCK_POLL_MS = 5;
/**
 * Where the lock files live: `@` is no id character, so no container can be
 * named like this directory or like a file in it.
 */
const LOCK_DIR = '@locks';
/** Opens of a lock file that may find its directory just removed by another command. */
const LOCK_DIR_ATTEMPTS = 100;
const LOCK_SH = 1;
const LOCK_EX = 2;
const LOCK_NB = 4;
const LOCK_UN = 8;
const EWOULDBLOCK = 11;

/** What to do about a state directory this user may not write. */
function stateRootHint(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS') return '';
  if ((process.geteuid?.() ?? 0) === 0) return '';
  return '. Without root, keep container state in a directory of your own: set XDG_RUNTIME_DIR (the default is then $XDG_RUNTIME_DIR/runc-ts) or pass --root DIR, on a tmpfs if possible';
}

/** The state directory of one --root: container dirs, state files, locks. */
export class StateStore {
  private rootChecked = false;
  /** Set when a container directory was removed and none is left: see removeLockDirIfEmpty. */
  private lastContainerRemoved = false;

  constructor(
    readonly root: string,
    /** How long withLock and withLockAsync wait for another holder before LOCKED. */
    readonly lockTimeoutMs = LOCK_TIMEOUT_MS,
  ) {}

  /**
   * Refuses a --root that another user could write to: whoever can write
   * there can plant a state file whose hooks root runs, or whose pid root
   * signals. Checked once, before the first path under it is used; a root
   * that does not exist yet is made 0700 (ensureRoot).
   */
  private checkRoot(): void {
    if (this.rootChecked) return;
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(this.root);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new ContainerError(
        'STATE_ROOT',
        `cannot use state directory --root ${this.root}: ${describeSystemError(error)}${stateRootHint(error)}`,
        { cause: error },
      );
    }
    const euid = process.geteuid?.() ?? 0;
    const mode = `0${(st.mode & 0o7777).toString(8)}`;
    if (!st.isDirectory()) {
      throw new ContainerError(
        'STATE_ROOT',
        `state directory --root ${this.root} is not a directory`,
      );
    }
    if (st.uid !== euid) {
      throw new ContainerError(
        'STATE_ROOT',
        `state directory --root ${this.root} is owned by uid ${st.uid}, not by this user (uid ${euid}): another user must not control container state; pass a directory of your own`,
      );
    }
    if ((st.mode & 0o022) !== 0) {
      throw new ContainerError(
        'STATE_ROOT',
        `state directory --root ${this.root} is writable by other users (mode ${mode}): make it 0700 (chmod go-w) or pass another --root`,
      );
    }
    this.rootChecked = true;
  }

  /**
   * The container's directory. Every path of a container is built here, so
   * the id is checked here, before any path exists: an id like `../x` can
   * never name a file outside --root, whichever command or method passes it.
   */
  dir(id: string): string {
    validateContainerId(id);
    this.checkRoot();
    return join(this.root, id);
  }

  fifoPath(id: string): string {
    return join(this.dir(id), 'exec.fifo');
  }

  private statePath(id: string): string {
    return join(this.dir(id), 'state.json');
  }

  ensureRoot(): void {
    try {
      mkdirSync(this.root, { recursive: true, mode: 0o700 });
      accessSync(this.root, constants.W_OK | constants.X_OK);
    } catch (error) {
      throw new ContainerError(
        'STATE_ROOT',
        `cannot use state directory --root ${this.root}: ${describeSystemError(error)}${stateRootHint(error)}`,
        { cause: error },
      );
    }
    this.checkRoot();
  }

  /**
   * Creates <root>/<id>; fails if the container exists. Mode 0711: the init
   * opens exec.fifo in it after switching to the container user; listing it
   * stays root's, and --root itself is 0700. Call it holding the lock: a
   * directory without a state file found then is what a create killed
   * before writing one left (see removeDebris), and is replaced.
   */
  createContainerDir(id: string): void {
    const dir = this.dir(id);
    this.ensureRoot();
    this.removeDebris(id);
    try {
      mkdirSync(dir, { mode: 0o711 });
      chmodSync(dir, 0o711);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new ContainerError('EXISTS', `container with given ID already exists: ${id}`);
      }
      throw new ContainerError(
        'STATE_ROOT',
        `cannot create ${this.dir(id)}: ${describeSystemError(error)}${stateRootHint(error)}`,
        { cause: error },
      );
    }
  }

  /**
   * Removes <root>/<id> if it has no state file; returns whether it did.
   * Create writes the state file right after making the directory, before
   * anything else of the container exists (cgroup, processes), and holds
   * the lock meanwhile: so, under the lock, such a directory holds nothing
   * but what a killed create left, and the container does not exist.
   */
  removeDebris(id: string): boolean {
    const dir = this.dir(id);
    if (!this.exists(id) || existsSync(this.statePath(id))) return false;
    removeWithoutCrossingMounts(dir);
    return true;
  }

  /** Removes <root>/<id>, the state file first: a half-removed directory is debris. */
  removeContainerDir(id: string): void {
    rmSync(this.statePath(id), { force: true });
    removeWithoutCrossingMounts(this.dir(id));
    // The last container gone: the lock directory goes too, when this lock is let go.
    this.lastContainerRemoved = readdirSync(this.root).every((name) => name === LOCK_DIR);
  }

  exists(id: string): boolean {
    const dir = this.dir(id);
    try {
      return statSync(dir).isDirectory();
    } catch {
      return false;
    }
  }

  /** Writes state.json atomically (temp file + rename), mode 0600. */
  write(state: StoredState): void {
    const target = this.statePath(state.id);
    const temp = `${target}.${process.pid}.tmp`;
    const fd = openSync(temp, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify(state));
    } finally {
      closeSync(fd);
    }
    renameSync(temp, target);
  }

  /**
   * The stored state. A container that a running create is making reads
   * as not existing, unless `creating` is asked for (by lock holders, which
   * can only see a create that was killed).
   */
  read(id: string, options: { creating?: boolean } = {}): StoredState {
    let text: string;
    try {
      text = readFileSync(this.statePath(id), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new ContainerError('NOT_FOUND', `container does not exist: ${id}`);
      }
      throw error;
    }
    const stored = parseStoredState(text, id, this.statePath(id));
    if (stored.creating && !options.creating && this.isLocked(id)) {
      throw new ContainerError('NOT_FOUND', `container does not exist: ${id}`);
    }
    return stored;
  }

  /** Whether some process holds the lock of `id` now (never waits, never creates it). */
  private isLocked(id: string): boolean {
    let fd: number;
    try {
      fd = openSync(this.lockPath(id), constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch {
      return false; // a holder always has the file
    }
    try {
      const libc = loadLibc();
      const result = libc.flock(fd, LOCK_SH | LOCK_NB);
      if (result === 0) libc.flock(fd, LOCK_UN);
      return result === -EWOULDBLOCK;
    } finally {
      closeSync(fd);
    }
  }

  /** Ids of the containers under the root, sorted. */
  list(): string[] {
    this.checkRoot();
    let entries: string[];
    try {
      entries = readdirSync(this.root);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    // Anything else in --root (a stray file named unlike an id) is not a container.
    return entries.filter((name) => isValidContainerId(name) && this.exists(name)).sort();
  }

  /**
   * Runs `fn` holding the container's lock: flock(2) on <root>/@locks/<id>.
   * The kernel releases it when its holder dies, however it dies, so a killed
   * command never leaves a lock behind that others must judge stale. Waits
   * for another holder without returning to the event loop: for callers
   * that have nothing else to do meanwhile (a command line); a library
   * caller uses withLockAsync.
   */
  withLock<T>(id: string, fn: () => T): T {
    const deadline = Date.now() + this.lockTimeoutMs;
    let release: (() => void) | undefined;
    for (;;) {
      release = this.tryAcquire(id);
      if (release) break;
      this.checkLockDeadline(id, deadline);
      sleepSync(LOCK_POLL_MS);
    }
    try {
      return fn();
    } finally {
      release();
    }
  }

  /**
   * withLock for asynchronous work: waits for another holder on timers (the
   * event loop goes on), gives up with ABORTED when `signal` fires, and
   * holds the lock until `fn` settles.
   */
  async withLockAsync<T>(
    id: string,
    fn: () => Promise<T>,
    options: { signal?: AbortSignal } = {},
  ): Promise<T> {
    const deadline = Date.now() + this.lockTimeoutMs;
    let release: (() => void) | undefined;
    for (;;) {
      throwIfAborted(options.signal, `waiting for the lock of container ${id}`);
      release = this.tryAcquire(id);
      if (release) break;
      this.checkLockDeadline(id, deadline);
      await sleep(LOCK_POLL_MS);
    }
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** The lock file of `id`: in a directory whose name no id can have. */
  lockPath(id: string): string {
    validateContainerId(id);
    return join(this.root, LOCK_DIR, id);
  }

  private checkLockDeadline(id: string, deadline: number): void {
    if (Date.now() <= deadline) return;
    const path = this.lockPath(id);
    throw new ContainerError(
      'LOCKED',
      `container ${id} is locked by process ${this.lockHolder(path) ?? 'unknown'} (${path})`,
    );
  }

  /** One attempt at the lock: its release, or undefined while another process holds it. */
  private tryAcquire(id: string): (() => void) | undefined {
    const path = this.lockPath(id);
    this.ensureRoot();
    this.ensureLockDir();
    const libc = loadLibc();
    const fd = this.openLockFile(path);
    let held = false;
    try {
      const result = libc.flock(fd, LOCK_EX | LOCK_NB);
      if (result === 0) {
        // A holder unlinks the file before it lets go: a lock taken on a
        // file no longer at `path` is a lock on nothing, so take it anew.
        held = sameFile(fd, path);
        if (held) {
          ftruncateSync(fd);
          writeSync(fd, String(process.pid));
          return () => {
            rmSync(path, { force: true });
            closeSync(fd);
            if (this.lastContainerRemoved || this.noContainerLeft(id)) this.removeLockDirIfEmpty();
          };
        }
      } else if (result !== -EWOULDBLOCK) {
        throw new ContainerError('LOCKED', `flock ${path}: ${libc.strerror(-result)}`);
      }
      return undefined;
    } finally {
      if (!held) closeSync(fd);
    }
  }

  /**
   * Opens (creating) the lock file at `path`. The lock directory goes away
   * with the last container (removeLockDirIfEmpty): another command may
   * remove it between our ensureLockDir and this open, so an open that finds
   * no directory makes it again.
   */
  private openLockFile(path: string): number {
    for (let attempt = 1; ; attempt++) {
      try {
        return openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' || attempt >= LOCK_DIR_ATTEMPTS) throw error;
      }
      this.ensureLockDir();
    }
  }

  private ensureLockDir(): void {
    const dir = join(this.root, LOCK_DIR);
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let isDirectory: boolean;
    try {
      isDirectory = lstatSync(dir).isDirectory();
    } catch (error) {
      // Removed meanwhile by a holder letting go of the last lock: the open fails and retries.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    if (!isDirectory) {
      throw new ContainerError('STATE_ROOT', `${dir} is not a directory`);
    }
  }

  /**
   * After a command on a container that does not exist (a `delete` or
   * `start` of a wrong id): true when the root holds nothing but the lock
   * directory, which that command's lock made.
   */
  private noContainerLeft(id: string): boolean {
    if (this.exists(id)) return false;
    try {
      return readdirSync(this.root).every((name) => name === LOCK_DIR);
    } catch {
      return false;
    }
  }

  /**
   * Removes the lock directory once it holds no lock file, so that a root
   * whose containers are all deleted is empty again. Tried only when the
   * last container directory was removed: mkdir and rmdir cost ~0.2 ms each
   * on a disk file system, too much for every command. rmdir(2) removes only
   * an empty directory, atomically: a lock file another command has just
   * created keeps it (ENOTEMPTY), and one about to be created finds it gone
   * and makes it again (openLockFile). Only tidiness: a failure is ignored.
   */
  private removeLockDirIfEmpty(): void {
    try {
      rmdirSync(join(this.root, LOCK_DIR));
    } catch {
      // ENOTEMPTY (another lock is held or being taken), ENOENT (already gone).
    }
  }

  private lockHolder(path: string): string | undefined {
    try {
      return readFileSync(path, 'utf8').trim() || undefined;
    } catch {
      return undefined;
    }
  }
}

/** Whether the open `fd` is the file now at `path`. */
function sameFile(fd: number, path: string): boolean {
  const opened = fstatSync(fd);
  try {
    const current = lstatSync(path);
    return current.ino === opened.ino && current.dev === opened.dev;
  } catch {
    return false;
  }
}

/**
 * A state file read back: JSON of the fields every command relies on, or
 * STATE_CORRUPT naming the file and what is wrong (never a bare parse or
 * type error from deeper down).
 */
export function parseStoredState(text: string, id: string, path: string): StoredState {
  const corrupt = (why: string) =>
    new ContainerError('STATE_CORRUPT', `state of container ${id} is corrupt (${path}: ${why})`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw corrupt((error as Error).message);
  }
  const state = value as Record<string, unknown>;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw corrupt('not a JSON object');
  }
  const expect = (field: string, ok: boolean, what: string) => {
    if (!ok) throw corrupt(`${field}: expected ${what}`);
  };
  expect('id', state.id === id, JSON.stringify(id));
  expect('pid', Number.isInteger(state.pid) && (state.pid as number) >= 0, 'a pid');
  for (const field of ['pidStartTime', 'bundle', 'rootfs', 'created'] as const) {
    expect(field, typeof state[field] === 'string', 'a string');
  }
  const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  expect('config', isObject(state.config), 'an object');
  if (state.cgroup !== undefined) {
    const cgroup = state.cgroup as Record<string, unknown>;
    expect('cgroup', isObject(cgroup), 'an object');
    expect('cgroup.driver', typeof cgroup.driver === 'string', 'a string');
    expect(
      'cgroup.paths',
      isObject(cgroup.paths) &&
        Object.values(cgroup.paths as object).every((p) => typeof p === 'string'),
      'an object of strings',
    );
  }
  return value as StoredState;
}

/**
 * Removes a container's directory. It holds files, and a subdirectory only
 * where `restore` bound the rootfs for CRIU (`criu-root`): a restore killed
 * midway leaves that bind mounted, and a recursive removal would go through
 * it and empty the bundle's rootfs. So a subdirectory is removed only once
 * nothing is mounted on or below it (detached here); if something stays
 * mounted, the removal fails naming it.
 */
function removeWithoutCrossingMounts(dir: string): void {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      detachMountsBelow(path);
      rmSync(path, { recursive: true, force: true });
    } else {
      rmSync(path, { force: true });
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

/** Mount points at or below `dir` in /proc/self/mountinfo (field 5, octal escapes undone). */
function mountsBelow(dir: string): string[] {
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) =>
      (line.split(' ')[4] ?? '').replace(/\\([0-7]{3})/g, (_, octal: string) =>
        String.fromCharCode(Number.parseInt(octal, 8)),
      ),
    )
    .filter((point) => point === dir || point.startsWith(`${dir}/`));
  // Deepest first.
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

function detachMountsBelow(path: string): void {
  let dir: string;
  try {
    dir = realpathSync(path);
  } catch {
    return;
  }
  const MNT_DETACH = 2;
  for (let round = 0; round < 8; round++) {
    const points = mountsBelow(dir);
    if (points.length === 0) return;
    // Stacked mounts on one point come off one per round.
    for (const point of points) loadLibc().umount2(point, MNT_DETACH);
  }
  const left = mountsBelow(dir);
  if (left.length > 0) {
    throw new ContainerError(
      'STATE_ROOT',
      `cannot remove ${path}: ${left[0]} is still mounted (unmount it, then run delete again)`,
    );
  }
}
