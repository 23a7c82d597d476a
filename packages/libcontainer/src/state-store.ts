import {
  accessSync,
  chmodSync,
  closeSync,
  constants,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { CgroupState } from '@runc-ts/cgroups';
import type { Spec } from '@runc-ts/spec';
import { ContainerError, describeSystemError } from './errors.js';
import { isValidContainerId, validateContainerId } from './id.js';
import { isProcessAlive, readProcessStat, sleepSync } from './proc.js';

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
}

const LOCK_TIMEOUT_MS = 10_000;

/** What to do about a state directory this user may not write. */
function stateRootHint(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS') return '';
  if ((process.geteuid?.() ?? 0) === 0) return '';
  return '. Without root, keep container state in a directory of your own: set XDG_RUNTIME_DIR (the default is then $XDG_RUNTIME_DIR/runc-ts) or pass --root DIR, on a tmpfs if possible';
}

/** The state directory of one --root: container dirs, state files, locks. */
export class StateStore {
  constructor(readonly root: string) {}

  /**
   * The container's directory. Every path of a container is built here, so
   * the id is checked here, before any path exists: an id like `../x` can
   * never name a file outside --root, whichever command or method passes it.
   */
  dir(id: string): string {
    validateContainerId(id);
    return join(this.root, id);
  }

  fifoPath(id: string): string {
    return join(this.dir(id), 'exec.fifo');
  }

  private statePath(id: string): string {
    return join(this.dir(id), 'state.json');
  }

  private lockPath(id: string): string {
    validateContainerId(id);
    return join(this.root, `.${id}.lock`);
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
  }

  /**
   * Creates <root>/<id>; fails if the container exists. Mode 0711: the init
   * opens exec.fifo in it after switching to the container user; listing it
   * stays root's, and --root itself is 0700.
   */
  createContainerDir(id: string): void {
    const dir = this.dir(id);
    this.ensureRoot();
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

  removeContainerDir(id: string): void {
    rmSync(this.dir(id), { recursive: true, force: true });
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

  read(id: string): StoredState {
    let text: string;
    try {
      text = readFileSync(this.statePath(id), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new ContainerError('NOT_FOUND', `container does not exist: ${id}`);
      }
      throw error;
    }
    return JSON.parse(text) as StoredState;
  }

  /** Ids of the containers under the root, sorted. */
  list(): string[] {
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
   * Runs `fn` holding the container's lock: an exclusively created lock file
   * naming its holder (pid and start time). Node has no flock(2); a lock whose
   * holder is gone is taken over.
   */
  withLock<T>(id: string, fn: () => T): T {
    const release = this.acquire(id);
    try {
      return fn();
    } finally {
      release();
    }
  }

  /** withLock for asynchronous work: the lock is held until `fn` settles. */
  async withLockAsync<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const release = this.acquire(id);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  private acquire(id: string): () => void {
    const path = this.lockPath(id);
    this.ensureRoot();
    const deadline = Date.now() + LOCK_TIMEOUT_MS;
    const me = `${process.pid} ${readProcessStat(process.pid)?.startTime ?? ''}`;
    for (;;) {
      try {
        const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
        writeSync(fd, me);
        closeSync(fd);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = this.lockHolder(path);
      if (holder && !isProcessAlive(holder.pid, holder.startTime)) {
        this.breakStaleLock(path, holder.raw);
        continue;
      }
      if (Date.now() > deadline) {
        throw new ContainerError(
          'LOCKED',
          `container ${id} is locked by process ${holder?.pid ?? 'unknown'} (${path})`,
        );
      }
      sleepSync(5);
    }
    return () => {
      try {
        unlinkSync(path);
      } catch {
        // Already gone: nothing to release.
      }
    };
  }

  private lockHolder(path: string): { pid: number; startTime: string; raw: string } | undefined {
    try {
      const raw = readFileSync(path, 'utf8');
      const [pid, startTime] = raw.split(' ');
      if (!pid) return undefined; // being written right now
      return { pid: Number(pid), startTime: startTime ?? '', raw };
    } catch {
      return undefined;
    }
  }

  private breakStaleLock(path: string, raw: string): void {
    // Move it aside first, then check it is still the stale one: two breakers
    // cannot both remove a fresh lock taken in between.
    const aside = `${path}.stale.${process.pid}`;
    try {
      renameSync(path, aside);
    } catch {
      return;
    }
    let current = '';
    try {
      current = readFileSync(aside, 'utf8');
    } catch {
      return;
    }
    if (current === raw) unlinkSync(aside);
    else renameSync(aside, path);
  }
}
