// Processes of a container as the lifecycle verbs handle them: signals,
// waiting, reaping, the exec fifo, cgroup teardown. No planner, no executor.

import type { ChildProcess } from 'node:child_process';
import {
  closeSync,
  constants,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { constants as osConstants } from 'node:os';
import type { CgroupManager } from '@runc-ts/cgroups';
import { cgroupManagerOf } from './cgroup.js';
import type { ContainerStatus } from './container.js';
import { ContainerError, describeSystemError } from './errors.js';
import { isProcessAlive, sleepSync } from './proc.js';
import type { StoredState } from './state-store.js';

/** The exit status the executor reports for the process it waits for. */
export function exitOf(executor: ChildProcess): Promise<number> {
  return new Promise<number>((resolveExit) => {
    if (executor.exitCode !== null) resolveExit(executor.exitCode);
    else executor.once('exit', (code, signal) => resolveExit(code ?? 128 + signalNumber(signal)));
  });
}

/** Forwards signals to the process (SIGWINCH to the pty relay) until it exits. */
export async function waitForExit(
  executor: ChildProcess,
  pid: number,
  relay: boolean,
): Promise<number> {
  const forwarded = [
    'SIGINT',
    'SIGTERM',
    'SIGHUP',
    'SIGQUIT',
    'SIGUSR1',
    'SIGUSR2',
    'SIGWINCH',
  ] as const;
  const forward = (signal: NodeJS.Signals) => {
    try {
      const target = signal === 'SIGWINCH' && relay ? executor.pid : pid;
      if (target) process.kill(target, signal);
    } catch {
      // Already gone.
    }
  };
  for (const signal of forwarded) process.on(signal, forward);
  try {
    return await exitOf(executor);
  } finally {
    for (const signal of forwarded) process.off(signal, forward);
  }
}

/**
 * Signals every process of the container: through its cgroup, frozen so that
 * no process forks away meanwhile, or through its own pid namespace.
 */
export async function signalAll(stored: StoredState, signal: number, status: ContainerStatus) {
  const cgroup = cgroupManagerOf(stored.cgroup);
  if (cgroup?.exists()) {
    const wasFrozen = status === 'paused';
    if (!wasFrozen) await cgroup.freeze();
    try {
      for (const pid of cgroup.pids()) signalProcess(pid, signal);
    } finally {
      // SIGKILL takes effect on frozen tasks only once they are thawed.
      if (!wasFrozen || signal === osConstants.signals.SIGKILL) await cgroup.thaw();
    }
    return;
  }
  if (!ownsPidNamespace(stored)) {
    throw new ContainerError(
      'CGROUP',
      'kill --all: the container has no cgroup and shares a pid namespace, so its processes cannot be told apart',
    );
  }
  if (status === 'stopped') return; // its pid namespace is gone with its init
  for (const pid of processesInPidNamespaceOf(stored.pid)) signalProcess(pid, signal);
}

export function ownsPidNamespace(stored: StoredState): boolean {
  return (stored.config.linux?.namespaces ?? []).some((ns) => ns.type === 'pid' && !ns.path);
}

/**
 * Kills what is left in a container's cgroup (processes that shared the
 * init's cgroup but not its pid namespace) and removes it. An exec that
 * joined between the kill pass and the removal keeps the cgroup busy: kill
 * again. (Such an exec fails by itself once it sees the init gone.)
 */
export async function killAndDestroy(cgroup: CgroupManager): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    for (const pid of cgroup.pids()) signalProcess(pid, osConstants.signals.SIGKILL);
    try {
      await cgroup.destroy();
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== 'BUSY' || attempt === 3) throw error;
    }
  }
}

export async function destroyQuietly(cgroup: CgroupManager | undefined): Promise<void> {
  try {
    await cgroup?.destroy();
  } catch (error) {
    // Without a bus no unit can have been made: nothing to clean up.
    if ((error as { code?: string }).code === 'SYSTEMD_UNAVAILABLE') return;
    process.emitWarning(`cleanup: ${(error as Error).message}`);
  }
}

export function signalProcess(pid: number, signal: number): void {
  if (!(pid > 0)) return; // kill(0) and kill(-1) would reach far more than the container
  try {
    process.kill(pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return; // exited meanwhile
    throw new ContainerError(
      'BAD_STATUS',
      `cannot signal process ${pid} of the container: ${describeSystemError(error)}`,
      { cause: error },
    );
  }
}

/** Pids (host view) of every process in the pid namespace of `initPid`. */
export function processesInPidNamespaceOf(initPid: number): number[] {
  let namespace: string;
  try {
    namespace = readlinkSync(`/proc/${initPid}/ns/pid`);
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/ns/pid`) === namespace) pids.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

export function signalNumber(signal: NodeJS.Signals | null): number {
  return signal ? (osConstants.signals[signal] ?? 0) : 0;
}

/**
 * Reads the init's byte from exec.fifo, polling; throws when the init is
 * gone without having written it.
 */
export function awaitInitByte(
  readByte: () => boolean,
  initAlive: () => boolean,
  sleep: () => void,
): void {
  for (;;) {
    if (readByte()) return;
    if (!initAlive()) {
      // The init may have written its byte, run and exited between the
      // read and this check: the byte stays in the pipe, so read once more
      // (a byte read here is the release: done, not another round).
      if (readByte()) return;
      throw new ContainerError('BAD_STATUS', 'cannot start a container that has stopped');
    }
    sleep();
  }
}

/**
 * The pauses between polls of exec.fifo, in ms. The init writes its byte a
 * context switch after `start` opens the fifo (the first read almost always
 * comes too early): waiting a whole millisecond then was most of what a
 * `start` waits. Tens of microseconds first, doubling up to 1 ms for an init
 * that takes longer.
 */
export function fifoPollDelays(): () => number {
  let next = 0.05;
  return () => {
    const delay = next;
    next = Math.min(next * 2, 1);
    return delay;
  };
}

/** Opens exec.fifo for reading: the init, blocked writing to it, carries on. */
export function releaseInit(
  fifo: string,
  stored: StoredState,
  crashPoints: { opened?: () => void; read?: () => void } = {},
): void {
  let fd: number;
  try {
    fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw new ContainerError('BAD_STATUS', `cannot open ${fifo}: ${describeSystemError(error)}`, {
      cause: error,
    });
  }
  crashPoints.opened?.();
  try {
    const byte = Buffer.alloc(1);
    const readByte = (): boolean => {
      try {
        return readSync(fd, byte, 0, 1, null) === 1;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
        return false;
      }
    };
    const delay = fifoPollDelays();
    awaitInitByte(
      readByte,
      () => isProcessAlive(stored.pid, stored.pidStartTime),
      () => sleepSync(delay()),
    );
  } finally {
    closeSync(fd);
  }
  crashPoints.read?.();
  unlinkSync(fifo);
}

/** SIGKILL and wait (bounded) until the process is gone or a zombie. */
export function killAndReap(pid: number, startTime?: string): void {
  if (!(pid > 0)) return; // never kill(0) or kill(-1): this process group, or everything
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  const deadline = Date.now() + 5000;
  while (isProcessAlive(pid, startTime) && Date.now() < deadline) sleepSync(2);
}

export function normalizeError(error: unknown): unknown {
  if (error instanceof ContainerError) return error;
  const code = (error as { code?: unknown }).code;
  if (error instanceof Error && typeof code === 'string' && error.name === 'PlanError') {
    return new ContainerError('PLAN', error.message, { cause: error });
  }
  return error;
}

export function writePidFile(path: string, pid: number): void {
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, String(pid));
  renameSync(temp, path);
}
