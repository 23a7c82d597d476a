// Processes of a container as the lifecycle verbs handle them: signals,
// waiting, reaping, the exec fifo, cgroup teardown. No planner, no executor.

import type { ChildProcess } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import type { CgroupManager } from '@runc-ts/cgroups';
import type { ContainerStatus, RuntimeWarning } from './container.js';
import { ContainerError, describeSystemError } from './errors.js';
import { type Host, isAlive, nodeHostParts, type OpenFifo } from './lifecycle/host.js';
import { abortedError } from './proc.js';
import type { StoredState } from './state-store.js';

/** The exit status the executor reports for the process it waits for. */
export function exitOf(executor: ChildProcess): Promise<number> {
  return new Promise<number>((resolveExit) => {
    if (executor.exitCode !== null) resolveExit(executor.exitCode);
    else if (executor.signalCode !== null) resolveExit(128 + signalNumber(executor.signalCode));
    else executor.once('exit', (code, signal) => resolveExit(code ?? 128 + signalNumber(signal)));
  });
}

/** The signals a foreground `run` or `exec` passes on to the container's process. */
export const FORWARDED_SIGNALS = [
  'SIGINT',
  'SIGTERM',
  'SIGHUP',
  'SIGQUIT',
  'SIGUSR1',
  'SIGUSR2',
  'SIGWINCH',
] as const;

export interface WaitOptions {
  /** Install handlers on this process that forward FORWARDED_SIGNALS (the CLI's foreground run/exec). */
  forwardSignals?: boolean;
  /** Aborting SIGKILLs the process waited for and rejects with ABORTED. */
  signal?: AbortSignal;
  /** Settles once the caller's piped stdio has all the process' output. */
  drained?: Promise<void>;
  /** What is waited for, for the ABORTED message. */
  what?: string;
}

/**
 * Waits for the process the executor waits for and returns its exit status.
 * Only with `forwardSignals` does it touch this process' signal handlers
 * (SIGWINCH then goes to the pty relay when `relay`).
 */
export async function waitForExit(
  executor: ChildProcess,
  pid: number,
  relay: boolean,
  options: WaitOptions = {},
): Promise<number> {
  const forward = (signal: NodeJS.Signals) => {
    try {
      const target = signal === 'SIGWINCH' && relay ? executor.pid : pid;
      if (target) process.kill(target, signal);
    } catch {
      // Already gone.
    }
  };
  if (options.forwardSignals) for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
  const abortSignal = options.signal;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    if (!abortSignal) return;
    onAbort = () => {
      signalProcess(pid, osConstants.signals.SIGKILL, nodeHostParts);
      reject(abortedError(abortSignal, options.what ?? `waiting for process ${pid}`));
    };
    if (abortSignal.aborted) onAbort();
    else abortSignal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => {});
  try {
    const code = await Promise.race([exitOf(executor), aborted]);
    await Promise.race([options.drained, aborted]);
    return code;
  } finally {
    if (onAbort) abortSignal?.removeEventListener('abort', onAbort);
    if (options.forwardSignals) {
      for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
    }
  }
}

/**
 * Signals every process of the container: through its cgroup, frozen so that
 * no process forks away meanwhile, or through its own pid namespace.
 */
export async function signalAll(
  stored: StoredState,
  signal: number,
  status: ContainerStatus,
  host: Host,
) {
  await host.prepareCgroup?.(stored.cgroup);
  const cgroup = host.cgroup(stored.cgroup);
  if (cgroup?.exists()) {
    const wasFrozen = status === 'paused';
    if (!wasFrozen) await cgroup.freeze();
    try {
      for (const pid of cgroup.pids()) signalProcess(pid, signal, host);
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
  for (const pid of processesInPidNamespaceOf(stored.pid, host)) {
    signalProcess(pid, signal, host);
  }
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
export async function killAndDestroy(cgroup: CgroupManager, host: Host): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    for (const pid of cgroup.pids()) signalProcess(pid, osConstants.signals.SIGKILL, host);
    try {
      await cgroup.destroy();
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== 'BUSY' || attempt === 3) throw error;
    }
  }
}

export async function destroyQuietly(
  cgroup: CgroupManager | undefined,
  report: (warning: RuntimeWarning) => void,
): Promise<void> {
  try {
    await cgroup?.destroy();
  } catch (error) {
    // Without a bus no unit can have been made: nothing to clean up.
    if ((error as { code?: string }).code === 'SYSTEMD_UNAVAILABLE') return;
    report({ code: 'CLEANUP', message: `cleanup: ${(error as Error).message}`, cause: error });
  }
}

export function signalProcess(pid: number, signal: number, host: Pick<Host, 'kill'>): void {
  if (!(pid > 0)) return; // kill(0) and kill(-1) would reach far more than the container
  try {
    host.kill(pid, signal);
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
export function processesInPidNamespaceOf(initPid: number, host: Host): number[] {
  let namespace: string;
  try {
    namespace = host.namespace(initPid, 'pid');
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const pid of host.pids()) {
    try {
      if (host.namespace(pid, 'pid') === namespace) pids.push(pid);
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
export async function awaitInitByte(
  readByte: () => boolean,
  initAlive: () => boolean,
  sleep: () => void | Promise<void>,
): Promise<void> {
  for (;;) {
    if (readByte()) return;
    if (!initAlive()) {
      // The init may have written its byte, run and exited between the
      // read and this check: the byte stays in the pipe, so read once more
      // (a byte read here is the release: done, not another round).
      if (readByte()) return;
      throw new ContainerError('BAD_STATUS', 'cannot start a container that has stopped');
    }
    await sleep();
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

/**
 * Opens exec.fifo for reading: the init, blocked writing to it, carries on.
 * Polls for its byte (fifoPollDelays) without blocking the event loop.
 */
export async function releaseInit(
  fifo: string,
  stored: StoredState,
  crashPoints: { opened?: () => void; read?: () => void } = {},
  host: Host,
): Promise<void> {
  let opened: OpenFifo;
  try {
    opened = host.openFifo(fifo);
  } catch (error) {
    throw new ContainerError('BAD_STATUS', `cannot open ${fifo}: ${describeSystemError(error)}`, {
      cause: error,
    });
  }
  crashPoints.opened?.();
  const delay = fifoPollDelays();
  try {
    await awaitInitByte(
      () => opened.readByte(),
      () => isAlive(host, stored.pid, stored.pidStartTime),
      () => host.sleep(delay()),
    );
  } finally {
    opened.close();
  }
  crashPoints.read?.();
  host.unlink(fifo);
}

/** SIGKILL and wait (bounded, on timers) until the process is gone or a zombie. */
export async function killAndReap(
  pid: number,
  startTime: string | undefined,
  host: Host,
): Promise<void> {
  if (!(pid > 0)) return; // never kill(0) or kill(-1): this process group, or everything
  try {
    host.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  const deadline = host.now() + 5000;
  while (isAlive(host, pid, startTime) && host.now() < deadline) await host.sleep(2);
}

export { toContainerError as normalizeError } from './errors.js';

export function writePidFile(path: string, pid: number): void {
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, String(pid));
  renameSync(temp, path);
}
