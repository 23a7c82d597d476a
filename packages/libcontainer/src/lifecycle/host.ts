// What the lifecycle verbs ask of the host: /proc, signals, the exec fifo,
// cgroups, the clock. Injected (Runtime's second argument) so that races and
// crash recovery get unit tests with a recording fake
// (packages/libcontainer/test/fake-host.ts); `nodeHost` (node-host.ts) is the
// real one. This module stays light: `state` and `list` load it.

import {
  closeSync,
  constants,
  existsSync,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
  unlinkSync,
} from 'node:fs';
import {
  type CgroupManager,
  type CgroupState,
  type FreezerState,
  freezerStateOf,
} from '@runc-ts/cgroups';
import { isLiveStat, type ProcessStat, readProcessStat, sleep } from '../proc.js';

/** exec.fifo opened for reading without blocking. */
export interface OpenFifo {
  /** Reads the init's byte: true once read, false while none is there (EAGAIN). */
  readByte(): boolean;
  close(): void;
}

/** What computing a container's status reads: all that `state` and `list` need. */
export interface StatusHost {
  /** /proc/<pid>/stat (state, start time), or undefined when there is no such process. */
  processStat(pid: number): ProcessStat | undefined;
  /** readlink /proc/<pid>/exe; undefined when it cannot be read. */
  executable(pid: number): string | undefined;
  exists(path: string): boolean;
  /** The freezer state of a stored cgroup, read without loading the cgroup drivers. */
  freezerState(state: CgroupState): FreezerState;
}

export interface Host extends StatusHost {
  /** readlink /proc/<pid>/ns/<type>; throws Node's error (ENOENT: gone, EACCES: not ours to see). */
  namespace(pid: number, type: 'pid' | 'mnt'): string;
  /** Every pid in /proc. */
  pids(): number[];
  /** kill(2); throws Node's error (ESRCH, EPERM). */
  kill(pid: number, signal: number | NodeJS.Signals): void;
  /** The manager of a container's stored cgroup. */
  cgroup(state: CgroupState | undefined): CgroupManager | undefined;
  /**
   * A host that loads cgroup drivers on demand loads the one `state` names;
   * the verbs that reach a stored cgroup await this before cgroup(state).
   */
  prepareCgroup?(state: CgroupState | undefined): Promise<void>;
  /** open(2) of exec.fifo, O_RDONLY | O_NONBLOCK; throws Node's error. */
  openFifo(path: string): OpenFifo;
  unlink(path: string): void;
  /** Milliseconds, for deadlines. */
  now(): number;
  /** Waits `ms` (fractions too) without blocking the event loop. */
  sleep(ms: number): Promise<void>;
}

/** The real StatusHost: light enough for `state` and `list` (no cgroup drivers). */
export const nodeStatusHost: StatusHost = {
  processStat: readProcessStat,
  executable(pid) {
    try {
      return readlinkSync(`/proc/${pid}/exe`);
    } catch {
      return undefined;
    }
  },
  exists: existsSync,
  freezerState: freezerStateOf,
};

/** The rest of the real Host, for node-host.ts (which adds the cgroup drivers). */
export const nodeHostParts: Omit<Host, 'cgroup' | keyof StatusHost> = {
  namespace: (pid, type) => readlinkSync(`/proc/${pid}/ns/${type}`),
  pids: () =>
    readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .map(Number),
  kill: (pid, signal) => {
    process.kill(pid, signal);
  },
  openFifo(path) {
    const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const byte = Buffer.alloc(1);
    return {
      readByte() {
        try {
          return readSync(fd, byte, 0, 1, null) === 1;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
          return false;
        }
      },
      close: () => closeSync(fd),
    };
  },
  unlink: unlinkSync,
  now: Date.now,
  sleep: (ms) => (ms >= 1 ? sleep(ms) : yieldFor(ms)),
};

/**
 * Waits less than a timer's 1 ms granularity, giving the event loop a turn
 * between looks at the clock (exec.fifo's first polls: fifoPollDelays).
 */
async function yieldFor(ms: number): Promise<void> {
  const until = performance.now() + ms;
  do await new Promise<void>((resolve) => setImmediate(resolve));
  while (performance.now() < until);
}

/**
 * True if `pid` is still the process we started (same start time) and has
 * not exited (a zombie has exited).
 */
export function isAlive(host: StatusHost, pid: number, startTime?: string): boolean {
  return isLiveStat(pid, pid > 0 ? host.processStat(pid) : undefined, startTime);
}
