import {
  closeSync,
  constants,
  existsSync,
  type FSWatcher,
  openSync,
  readSync,
  watch,
} from 'node:fs';
import { join } from 'node:path';
import { CgroupError, errnoOf } from './errors.js';
import { parseKeyValues, readCgroupFile, writeCgroupFile } from './fsutil.js';
import { type Libc, loadLibc } from './libc.js';

// eventfd(2) flags (asm-generic/fcntl.h values, which x86-64 and arm64 share).
const EFD_CLOEXEC = 0o2000000;
const EFD_NONBLOCK = 0o4000;

/** How often a listener looks at its eventfd or events file when nothing wakes it. */
const POLL_INTERVAL_MS = 100;

/** eventfd(2) through libc (a foreign-function call, loaded on the first OOM listener). */
function eventfd(initval: number, flags: number): number {
  let libc: Libc;
  try {
    libc = loadLibc();
  } catch (error) {
    throw new CgroupError(
      'UNSUPPORTED',
      `OOM notification needs eventfd(2), but libc.so.6 cannot be called: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return libc.eventfd(initval, flags);
}

/**
 * cgroup v1: an eventfd registered for memory.oom_control in
 * cgroup.event_control; the kernel counts one event each time the cgroup
 * runs out of memory, and one more when the cgroup is removed, which ends
 * the listening.
 */
export function watchV1Oom(memoryDir: string, listener: () => void): () => void {
  const efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (efd < 0) {
    throw new CgroupError('UNSUPPORTED', `eventfd(2) failed with errno ${-efd}`);
  }
  const oomControl = join(memoryDir, 'memory.oom_control');
  try {
    let controlFd: number;
    try {
      controlFd = openSync(oomControl, constants.O_RDONLY);
    } catch (error) {
      throw new CgroupError('CGROUP_READ', `open ${oomControl}: ${(error as Error).message}`, {
        cause: error,
        path: oomControl,
        errno: errnoOf(error),
      });
    }
    try {
      writeCgroupFile(memoryDir, 'cgroup.event_control', `${efd} ${controlFd}`);
    } finally {
      // The kernel holds its own references once registered.
      closeSync(controlFd);
    }
  } catch (error) {
    closeSync(efd);
    throw error;
  }
  const counter = Buffer.alloc(8);
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    closeSync(efd);
  };
  const timer = setInterval(() => {
    try {
      readSync(efd, counter, 0, 8, null);
    } catch (error) {
      if (errnoOf(error) === 'EAGAIN') return;
      stop();
      return;
    }
    if (!existsSync(oomControl)) {
      stop();
      return;
    }
    listener();
  }, POLL_INTERVAL_MS);
  return stop;
}

function readOomKills(eventsFile: string, dir: string): number {
  return parseKeyValues(readCgroupFile(dir, eventsFile)).oom_kill ?? 0;
}

/**
 * cgroup v2: memory.events' oom_kill counter, watched with inotify (cgroup2
 * signals changes of *.events files) and polled when inotify is not
 * available. Ends when the cgroup is removed.
 */
export function watchV2Oom(dir: string, listener: () => void): () => void {
  let seen = readOomKills('memory.events', dir);
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    watcher?.close();
    if (timer) clearInterval(timer);
  };
  const check = (): void => {
    if (stopped) return;
    let now: number;
    try {
      now = readOomKills('memory.events', dir);
    } catch {
      stop();
      return;
    }
    const added = now - seen;
    seen = now;
    for (let index = 0; index < added && !stopped; index++) listener();
  };
  const poll = (): void => {
    watcher?.close();
    watcher = undefined;
    timer ??= setInterval(check, POLL_INTERVAL_MS);
  };
  try {
    watcher = watch(join(dir, 'memory.events'), { persistent: true }, check);
    watcher.on('error', poll);
  } catch {
    poll();
  }
  return stop;
}
