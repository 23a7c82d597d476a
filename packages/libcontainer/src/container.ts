// The Runtime façade and its types: one method per runc verb, each verb in
// its own module. The light verbs (state, list, start, kill, delete, pause,
// resume, update, events, ps: lifecycle/*) are imported here; create, run's
// set-up and exec load their modules (the planner, seccomp, the executor
// protocol) only when called, so that every other command starts without
// them. The verbs reach the host only through `Runtime.host`.

import type { ChildProcess } from 'node:child_process';
import type { CgroupStats } from '@runc-ts/cgroups';
import type { LinuxResources, Process, State } from '@runc-ts/spec';
import type { CheckpointOptions, RestoreOptions } from './checkpoint.js';
import { toContainerError } from './errors.js';
import { type ContainerEvent, containerEvents, type EventsOptions } from './events.js';
import { deleteContainer, removeContainer } from './lifecycle/delete.js';
import type { Host } from './lifecycle/host.js';
import { killContainer } from './lifecycle/kill.js';
import { nodeHost } from './lifecycle/node-host.js';
import {
  containerPids,
  containerStats,
  pauseContainer,
  resumeContainer,
  updateContainer,
  withCgroup,
} from './lifecycle/pause.js';
import { startContainer } from './lifecycle/start.js';
import { killAndReap, waitForExit } from './process-control.js';
import { StateStore, type StoredState } from './state-store.js';
import {
  containerStatus,
  containerView,
  listContainerStates,
  ociState,
  readContainerState,
} from './status.js';
import type { Stdio } from './stdio.js';

export { OCI_VERSION } from './status.js';

export type ContainerStatus = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

/** `runc state` output: the OCI state plus runc's rootfs, created and owner. */
export interface ContainerState {
  ociVersion: string;
  id: string;
  /** The OCI statuses and runc's `paused`. */
  status: ContainerStatus;
  bundle: string;
  annotations?: Record<string, string>;
  pid: number;
  rootfs: string;
  created: string;
  owner: string;
}

/**
 * Something the runtime went on despite, for the `warn` option: a hook
 * that failed where the spec says the operation goes on, a cleanup step
 * that failed, a config setting skipped.
 */
export interface RuntimeWarning {
  code: /** A poststart or poststop hook failed (the container was started, or deleted, all the same). */
    | 'HOOK'
    /** Part of a cleanup failed (a cgroup left behind, net devices not returned). */
    | 'CLEANUP'
    /** Something of the config was skipped or adjusted (the message says what). */
    | 'CONFIG'
    /** The container's cgroup already held processes. */
    | 'CGROUP'
    /** A corrupt state file was removed by a forced delete. */
    | 'STATE_CORRUPT'
    /** A restored container's terminal could not be relayed in the foreground (the process runs on). */
    | 'TERMINAL';
  message: string;
  cause?: unknown;
}

export interface RuntimeOptions {
  /** --root: the state directory. */
  root: string;
  /**
   * Path of the runc-ts-init executor binary; by default the one shipped in
   * this package's bin/ (or in @runc-ts/cli's).
   */
  initPath?: string;
  /** --systemd-cgroup: place containers in transient systemd units. */
  systemdCgroup?: boolean;
  /** --rootless: a cgroup that cannot be created or written is skipped. */
  rootlessCgroups?: boolean;
  /** --debug: receives what the runtime chose to do and why (skipped cgroups). */
  debug?: (message: string) => void;
  /**
   * Receives what runc logs as warnings (a failed poststart or poststop
   * hook, a container cgroup that already holds processes, ...). Without it
   * they are dropped: the runtime never writes to stderr or emits process
   * warnings itself.
   */
  warn?: (message: string, warning: RuntimeWarning) => void;
  /** How long to wait for another process' lock on the same container (default 10 000 ms). */
  lockTimeoutMs?: number;
}

/** What every operation that may wait takes. */
export interface WaitingOptions {
  /**
   * Ends the operation's waits (for the container's lock; in run and exec,
   * for the process, which is then SIGKILLed) with ABORTED. A create whose
   * set-up has begun finishes it or rolls it back regardless.
   */
  signal?: AbortSignal;
}

export interface CreateOptions extends WaitingOptions {
  bundle: string;
  /**
   * The container process' stdin, stdout, stderr (fds, 'ignore' or
   * streams); /dev/null for each by default. The CLI passes [0, 1, 2].
   */
  stdio?: Stdio;
  pidFile?: string;
  consoleSocket?: string;
  /** --pidfd-socket: AF_UNIX socket that receives a pidfd of the init (SCM_RIGHTS). */
  pidfdSocket?: string;
  noPivot?: boolean;
  noNewKeyring?: boolean;
  /** --preserve-fds: extra fds after stdio (and after LISTEN_FDS) passed to the container. */
  preserveFds?: number;
  /** $LISTEN_FDS of systemd socket activation: passed on, and announced to the process. */
  listenFds?: number;
}

export interface RunOptions extends CreateOptions {
  /** -d: leave the container running and return. */
  detach?: boolean;
  /** --keep: do not delete the container after it exits. */
  keep?: boolean;
  /**
   * While waiting, forward SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1,
   * SIGUSR2 and SIGWINCH received by this process to the container's
   * process (installs process signal handlers; the CLI does). `signal`
   * aborting SIGKILLs the process (then deleted unless `keep`).
   */
  forwardSignals?: boolean;
}

export interface ExecOptions extends WaitingOptions {
  /** The process' stdin, stdout, stderr (fds, 'ignore' or streams); /dev/null by default. */
  stdio?: Stdio;
  /** As RunOptions.forwardSignals; `signal` aborting SIGKILLs the process. */
  forwardSignals?: boolean;
  /** `--process FILE`: the whole process; the overrides below then do not apply. */
  process?: Process;
  /** The command and its arguments (required without `process`). */
  args?: string[];
  /** `--env KEY=VALUE`, added to (and overriding) the container's environment. */
  env?: string[];
  cwd?: string;
  user?: { uid: number; gid?: number };
  additionalGids?: number[];
  /** `--cap`: capabilities added to the process' sets. */
  capabilities?: string[];
  noNewPrivileges?: boolean;
  apparmorProfile?: string;
  selinuxLabel?: string;
  /** `--tty`: a terminal, relayed in the foreground or sent to `consoleSocket`. */
  tty?: boolean;
  consoleSocket?: string;
  /** `--pidfd-socket`: AF_UNIX socket that receives a pidfd of the process (SCM_RIGHTS). */
  pidfdSocket?: string;
  /** `--detach`: return once the process runs. */
  detach?: boolean;
  pidFile?: string;
  preserveFds?: number;
  /** `--cgroup [controller:]path`: sub-cgroups of the container's to run in. */
  cgroups?: string[];
  /** `--ignore-paused`: exec even when the container is paused. */
  ignorePaused?: boolean;
}

/** Wraps any failure of `fn` as a ContainerError (lower layers' errors as `cause`). */
async function guard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toContainerError(error);
  }
}

function guardSync<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw toContainerError(error);
  }
}

/**
 * The façade: one method per runc verb, each in its module (lifecycle/*,
 * create.ts, exec.ts, checkpoint.ts); the heavy ones (create, run, exec,
 * checkpoint, restore) load theirs on first call.
 */
export class Runtime {
  readonly store: StateStore;

  /**
   * `host`: the system calls the lifecycle uses (/proc, signals, exec.fifo,
   * cgroups, clock); tests pass a recording fake.
   */
  constructor(
    readonly options: RuntimeOptions,
    readonly host: Host = nodeHost,
  ) {
    this.store = new StateStore(options.root, options.lockTimeoutMs);
  }

  /** @internal Reports a warning through the `warn` option (nowhere without it). */
  report(warning: RuntimeWarning): void {
    this.options.warn?.(warning.message, warning);
  }

  /** @internal The executor's path: the option, else the one shipped with the package. */
  async executorPath(): Promise<string> {
    if (this.options.initPath) return this.options.initPath;
    const { defaultExecutorPath } = await import('./executor-path.js');
    return defaultExecutorPath();
  }

  /** @internal The status of a stored container, computed now. */
  status(stored: StoredState): ContainerStatus {
    return containerStatus(this.store, stored, this.host);
  }

  /** @internal The OCI state hooks and seccomp agents get. */
  ociState(stored: StoredState, status: State['status']): State {
    return ociState(stored, status);
  }

  /**
   * `runc create`: sets the container up and leaves its init waiting on
   * exec.fifo. A failure removes everything it made.
   */
  create(id: string, options: CreateOptions): Promise<ContainerState> {
    return guard(async () => {
      const { stored } = await this.createInternal(id, options, false);
      return containerView(stored, this.status(stored));
    });
  }

  private async createInternal(
    id: string,
    options: CreateOptions,
    waitForInit: boolean,
  ): Promise<{ stored: StoredState; executor: ChildProcess; drained: Promise<void> }> {
    const { createContainer } = await import('./create.js');
    return createContainer(this, id, options, waitForInit);
  }

  /** `runc start`: lets the created init exec the user process. */
  start(id: string, options: WaitingOptions = {}): Promise<void> {
    return guard(() => startContainer(this, id, options));
  }

  /** `runc state`: the container's OCI state, its status computed now. */
  state(id: string): ContainerState {
    return guardSync(() => readContainerState(this.store, id, this.host));
  }

  /** `runc list`: every container under the root, sorted by id. */
  list(): ContainerState[] {
    return guardSync(() => listContainerStates(this.store, this.host));
  }

  /**
   * `runc kill`. With `all`, every process of the container gets the signal:
   * found through its cgroup (frozen meanwhile, so none can fork away), or
   * through its own pid namespace when it has no cgroup.
   */
  kill(id: string, signal: number, options: { all?: boolean } = {}): Promise<void> {
    return guard(() => killContainer(this, id, signal, options));
  }

  /** `runc delete`: removes a stopped (or created; any with `force`) container. */
  delete(id: string, options: { force?: boolean } & WaitingOptions = {}): Promise<void> {
    return guard(() => deleteContainer(this, id, options));
  }

  /**
   * @internal Kills what is left of a container, removes its cgroup and
   * state, runs its poststop hooks. The caller holds the lock.
   */
  removeContainer(stored: StoredState, status: ContainerStatus): Promise<void> {
    return removeContainer(this, stored, status);
  }

  /**
   * `runc exec`: runs another process in a created or running container,
   * in all its namespaces. Returns its exit status (128 + signal), or 0 once
   * it runs with `detach`.
   */
  exec(id: string, options: ExecOptions): Promise<number> {
    return guard(async () => {
      const { execInContainer } = await import('./exec.js');
      return execInContainer(this, id, options);
    });
  }

  /**
   * `runc checkpoint`: dumps the running container with CRIU; unless
   * `leaveRunning` or `preDump`, the container is then gone, as with runc.
   */
  checkpoint(id: string, options: CheckpointOptions): Promise<void> {
    return guard(async () => {
      const { checkpointContainer } = await import('./checkpoint.js');
      await checkpointContainer(this, id, options);
    });
  }

  /**
   * `runc restore`: a new container `id` from a checkpoint's images and the
   * bundle; returns 0 with `detach`, else waits and returns its exit status.
   */
  restore(id: string, options: RestoreOptions): Promise<number> {
    return guard(async () => {
      const { restoreContainer } = await import('./checkpoint.js');
      return restoreContainer(this, id, options);
    });
  }

  /** `runc pause`: freezes every process of a running container. */
  pause(id: string): Promise<void> {
    return guard(() => pauseContainer(this, id));
  }

  /** `runc resume`: thaws a paused container. */
  resume(id: string): Promise<void> {
    return guard(() => resumeContainer(this, id));
  }

  /**
   * `runc update`: lays `changes` over the container's resources, writes
   * them to its cgroup and keeps them in its state.
   */
  update(
    id: string,
    changes: LinuxResources,
    options: WaitingOptions = {},
  ): Promise<LinuxResources> {
    return guard(() => updateContainer(this, id, changes, options));
  }

  /** `runc events --stats`: the container's cgroup statistics. */
  stats(id: string): CgroupStats {
    return guardSync(() => containerStats(this, id));
  }

  /**
   * `runc events`: the container's statistics every `intervalMs` (the first
   * at once) and every OOM kill as it happens, until the container stops
   * (the iteration ends) or `signal` aborts (ABORTED). A stopped container
   * fails at the first step.
   */
  events(id: string, options: EventsOptions = {}): AsyncIterableIterator<ContainerEvent> {
    return containerEvents(this, id, options);
  }

  /**
   * Calls `listener` on every OOM kill in the container until the returned
   * function is called (events() is the iterable form).
   */
  watchOom(id: string, listener: () => void): () => void {
    return guardSync(() => withCgroup(this, id, 'events').cgroup.onOom(listener));
  }

  /** Whether the container's init still runs (for `events`, which stops with it). */
  isRunning(id: string): boolean {
    try {
      return this.status(this.store.read(id)) !== 'stopped';
    } catch {
      return false;
    }
  }

  /** `runc ps`: host pids of every process in the container's cgroup. */
  pids(id: string): number[] {
    return guardSync(() => containerPids(this, id));
  }

  /**
   * `runc run`: create and start; unless detached, wait for the container's
   * process and return its exit status (128 + signal when killed), then
   * delete the container unless `keep`.
   */
  run(id: string, options: RunOptions): Promise<number> {
    return guard(() => this.runInternal(id, options));
  }

  private async runInternal(id: string, options: RunOptions): Promise<number> {
    const { stored, executor, drained } = await this.createInternal(id, options, !options.detach);
    if (options.detach) {
      await this.start(id, options);
      return 0;
    }
    // With a terminal the executor relays the pty and resizes it on SIGWINCH.
    const relay = stored.config.process?.terminal === true && !options.consoleSocket;
    const exited = waitForExit(executor, stored.pid, relay, {
      forwardSignals: options.forwardSignals,
      signal: options.signal,
      drained,
      what: `run: waiting for container ${id}`,
    });
    exited.catch(() => {}); // awaited below, or dropped when start fails
    try {
      await this.start(id, options);
    } catch (error) {
      await killAndReap(stored.pid, stored.pidStartTime, this.host);
      await exited.catch(() => {});
      // run made the container: a run that fails leaves none behind.
      await this.delete(id, { force: true }).catch(() => {});
      throw error;
    }
    let code: number;
    try {
      code = await exited;
    } catch (error) {
      // Aborted: the process was killed; the container goes unless kept.
      if (!options.keep) await this.delete(id, { force: true }).catch(() => {});
      throw error;
    }
    this.options.debug?.(`run: process exited: pid ${stored.pid}, status ${code}`);
    if (!options.keep) await this.delete(id, { force: true });
    return code;
  }
}
