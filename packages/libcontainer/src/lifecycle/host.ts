// What the lifecycle verbs ask of the host: /proc, signals, the exec fifo,
// cgroups, the clock. Injected (Runtime's second argument) so that races and
// crash recovery get unit tests with a recording fake
// (packages/libcontainer/test/fake-host.ts); `nodeHost` is the real one.

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
import type { CgroupManager, CgroupState } from '@runc-ts/cgroups';
import { cgroupManagerOf } from '../cgroup.js';
import { isLiveStat, type ProcessStat, readProcessStat, sleep } from '../proc.js';

/** exec.fifo opened for reading without blocking. */
export interface OpenFifo {
  /** Reads the init's byte: true once read, false while none is there (EAGAIN). */
  readByte(): boolean;
  close(): void;
}

export interface Host {
  /** /proc/<pid>/stat (state, start time), or undefined when there is no such process. */
  processStat(pid: number): ProcessStat | undefined;
  /** readlink /proc/<pid>/exe; undefined when it cannot be read. */
  executable(pid: number): string | undefined;
  /** readlink /proc/<pid>/ns/<type>; throws Node's error (ENOENT: gone, EACCES: not ours to see). */
  namespace(pid: number, type: 'pid' | 'mnt'): string;
  /** Every pid in /proc. */
  pids(): number[];
  /** kill(2); throws Node's error (ESRCH, EPERM). */
  kill(pid: number, signal: number | NodeJS.Signals): void;
  /** The manager of a container's stored cgroup. */
  cgroup(state: CgroupState | undefined): CgroupManager | undefined;
  exists(path: string): boolean;
  /** open(2) of exec.fifo, O_RDONLY | O_NONBLOCK; throws Node's error. */
  openFifo(path: string): OpenFifo;
  unlink(path: string): void;
  /** Milliseconds, for deadlines. */
  now(): number;
  /** Waits on a timer. */
  sleep(ms: number): Promise<void>;
}

export const nodeHost: Host = {
  processStat: readProcessStat,
  executable(pid) {
    try {
      return readlinkSync(`/proc/${pid}/exe`);
    } catch {
      return undefined;
    }
  },
  namespace: (pid, type) => readlinkSync(`/proc/${pid}/ns/${type}`),
  pids: () =>
    readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .map(Number),
  kill: (pid, signal) => {
    process.kill(pid, signal);
  },
  cgroup: cgroupManagerOf,
  exists: existsSync,
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
  sleep,
};

/**
 * True if `pid` is still the process we started (same start time) and has
 * not exited (a zombie has exited).
 */
export function isAlive(host: Host, pid: number, startTime?: string): boolean {
  return isLiveStat(pid, pid > 0 ? host.processStat(pid) : undefined, startTime);
}
