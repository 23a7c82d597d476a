// The Runtime façade: one method per runc verb. The light verbs (state,
// list, start, kill, delete, pause, resume, update, events, ps) live here;
// create, run's set-up and exec load their modules (the planner, seccomp,
// the executor protocol) only when called, so that every other command
// starts without them.

import type { ChildProcess } from 'node:child_process';
import { existsSync, readlinkSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import type { CgroupManager, CgroupStats } from '@runc-ts/cgroups';
import type { LinuxResources, Process, State } from '@runc-ts/spec';
import { cgroupManagerOf, effectiveResources, mergeResources } from './cgroup.js';
import type { CheckpointOptions, RestoreOptions } from './checkpoint.js';
import { crashPoint } from './crash-points.js';
import { ContainerError, toContainerError } from './errors.js';
import { type ContainerEvent, containerEvents, type EventsOptions } from './events.js';
import { runHooksAsync } from './hooks.js';
import { validateContainerId } from './id.js';
import { isProcessAlive } from './proc.js';
import {
  killAndDestroy,
  killAndReap,
  ownsPidNamespace,
  processesInPidNamespaceOf,
  releaseInit,
  signalAll,
  signalProcess,
  waitForExit,
} from './process-control.js';
import { StateStore, type StoredState } from './state-store.js';
import type { Stdio } from './stdio.js';

/**
 * The runtime-spec version this runtime implements (state's ociVersion).
 * The same as @runc-ts/spec's OCI_VERSION (a unit test checks), kept here
 * so that `state` and `list` do not initialise the spec package, whose
 * index also holds the config validators.
 */
export const OCI_VERSION = '1.3.0';

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
    | 'STATE_CORRUPT';
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
  /** Aborts the wait (a lock, the process' exit): the operation fails with ABORTED. */
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

export class Runtime {
  readonly store: StateStore;

  constructor(readonly options: RuntimeOptions) {
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

  /** The OCI state of a stored container, its status computed now. */
  private view(stored: StoredState): ContainerState {
    const status = this.status(stored);
    const state: ContainerState = {
      ociVersion: OCI_VERSION,
      id: stored.id,
      pid: status === 'stopped' ? 0 : stored.pid,
      status,
      bundle: stored.bundle,
      rootfs: stored.rootfs,
      created: stored.created,
      owner: '',
    };
    if (stored.config.annotations && Object.keys(stored.config.annotations).length > 0) {
      state.annotations = stored.config.annotations;
    }
    return state;
  }

  /** @internal The status of a stored container, computed now. */
  status(stored: StoredState): ContainerStatus {
    if (!isProcessAlive(stored.pid, stored.pidStartTime)) return 'stopped';
    if (existsSync(this.store.fifoPath(stored.id)) && !initHasExeced(stored.pid)) return 'created';
    const cgroup = cgroupManagerOf(stored.cgroup);
    return cgroup?.freezerState() === 'frozen' ? 'paused' : 'running';
  }

  /** @internal The OCI state hooks and seccomp agents get. */
  ociState(stored: StoredState, status: State['status']): State {
    const state: State = {
      ociVersion: OCI_VERSION,
      id: stored.id,
      status,
      pid: stored.pid,
      bundle: stored.bundle,
    };
    if (stored.config.annotations) state.annotations = stored.config.annotations;
    return state;
  }

  /**
   * `runc create`: sets the container up and leaves its init waiting on
   * exec.fifo. A failure removes everything it made.
   */
  async create(id: string, options: CreateOptions): Promise<ContainerState> {
    try {
      const { stored } = await this.createInternal(id, options, false);
      return this.view(stored);
    } catch (error) {
      throw toContainerError(error);
    }
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
  async start(id: string, options: WaitingOptions = {}): Promise<void> {
    try {
      await this.startInternal(id, options);
    } catch (error) {
      throw toContainerError(error);
    }
  }

  private async startInternal(id: string, options: WaitingOptions): Promise<void> {
    const stored = await this.store.withLockAsync(
      id,
      async () => {
        crashPoint('start:locked');
        const stored = this.store.read(id);
        const status = this.status(stored);
        if (status === 'stopped') {
          throw new ContainerError('BAD_STATUS', 'cannot start a container that has stopped');
        }
        if (status === 'running') {
          throw new ContainerError('BAD_STATUS', 'cannot start an already running container');
        }
        if (status !== 'created') {
          throw new ContainerError('BAD_STATUS', `cannot start a container in the ${status} state`);
        }
        await releaseInit(this.store.fifoPath(id), stored, {
          opened: () => crashPoint('start:fifo-opened'),
          read: () => crashPoint('start:byte-read'),
        });
        crashPoint('start:released');
        this.options.debug?.(`start: released the init (pid ${stored.pid}) through exec.fifo`);
        return stored;
      },
      options,
    );
    try {
      await runHooksAsync(
        'poststart',
        stored.config.hooks?.poststart,
        this.ociState(stored, 'running'),
      );
    } catch (error) {
      // The spec: a poststart failure is logged, the container keeps running.
      this.report({ code: 'HOOK', message: (error as Error).message, cause: error });
    }
  }

  /** `runc state`: the container's OCI state, its status computed now. */
  state(id: string): ContainerState {
    try {
      validateContainerId(id);
      return this.view(this.store.read(id));
    } catch (error) {
      throw toContainerError(error);
    }
  }

  /** `runc list`: every container under the root, sorted by id. */
  list(): ContainerState[] {
    try {
      return this.store.list().flatMap((id) => {
        try {
          return [this.view(this.store.read(id))];
        } catch {
          return []; // being created or deleted right now
        }
      });
    } catch (error) {
      throw toContainerError(error);
    }
  }

  /**
   * `runc kill`. With `all`, every process of the container gets the signal:
   * found through its cgroup (frozen meanwhile, so none can fork away), or
   * through its own pid namespace when it has no cgroup.
   */
  async kill(id: string, signal: number, options: { all?: boolean } = {}): Promise<void> {
    try {
      await this.killInternal(id, signal, options);
    } catch (error) {
      throw toContainerError(error);
    }
  }

  private async killInternal(id: string, signal: number, options: { all?: boolean }) {
    validateContainerId(id);
    const stored = this.store.read(id);
    const status = this.status(stored);
    if (options.all) {
      await signalAll(stored, signal, status);
      return;
    }
    if (status === 'stopped') throw new ContainerError('BAD_STATUS', 'container not running');
    signalProcess(stored.pid, signal);
  }

  /** `runc delete`: removes a stopped (or created; any with `force`) container. */
  async delete(id: string, options: { force?: boolean } & WaitingOptions = {}): Promise<void> {
    try {
      await this.deleteInternal(id, options);
    } catch (error) {
      throw toContainerError(error);
    }
  }

  private async deleteInternal(
    id: string,
    options: { force?: boolean } & WaitingOptions,
  ): Promise<void> {
    validateContainerId(id);
    await this.store.withLockAsync(
      id,
      async () => {
        crashPoint('delete:locked');
        // What a killed create left is removed; the container does not exist.
        this.store.removeDebris(id);
        // Like runc: forcing the deletion of a container that does not exist is not an error.
        if (options.force && !this.store.exists(id)) return;
        let stored: StoredState;
        try {
          stored = this.store.read(id, { creating: true });
        } catch (error) {
          if (!options.force || (error as ContainerError).code !== 'STATE_CORRUPT') throw error;
          // Nothing in it can be trusted to name a process or a cgroup.
          this.store.removeContainerDir(id);
          this.report({
            code: 'STATE_CORRUPT',
            message: `${(error as Error).message}: removed; its processes and cgroup, if any, are not known`,
            cause: error,
          });
          return;
        }
        const status = this.status(stored);
        if (status !== 'stopped' && status !== 'created' && !options.force) {
          throw new ContainerError(
            'BAD_STATUS',
            `cannot delete container ${id} that is not stopped: ${status}`,
          );
        }
        await this.removeContainer(stored, status);
      },
      options,
    );
  }

  /** linux.netDevices back to the runtime's namespace; a failure is a warning (delete goes on). */
  private async returnNetDevices(stored: StoredState): Promise<void> {
    if (stored.config.linux?.netDevices === undefined) return;
    const { hasNetDevicesToReturn, returnNetDevices } = await import('./net-devices.js');
    if (!hasNetDevicesToReturn(stored.config)) return;
    try {
      await returnNetDevices(await this.executorPath(), stored.config, stored.pid);
    } catch (error) {
      this.report({
        code: 'CLEANUP',
        message: `linux.netDevices: ${(error as Error).message}`,
        cause: error,
      });
    }
  }

  /**
   * @internal Kills what is left of a container, removes its cgroup and
   * state, runs its poststop hooks. The caller holds the lock.
   */
  async removeContainer(stored: StoredState, status: ContainerStatus): Promise<void> {
    if (status !== 'stopped') {
      await this.returnNetDevices(stored);
      // A created container is killed without --force, as runc does.
      try {
        await signalAll(stored, osConstants.signals.SIGKILL, status);
      } catch {
        // No cgroup and a shared pid namespace: the init alone, below.
      }
      await killAndReap(stored.pid, stored.pidStartTime);
    }
    crashPoint('delete:killed');
    const cgroup = cgroupManagerOf(stored.cgroup);
    if (cgroup) await killAndDestroy(cgroup);
    crashPoint('delete:cgroup-destroyed');
    if (stored.config.linux?.intelRdt) {
      const { destroyIntelRdt, storedIntelRdtGroup } = await import('./intelrdt.js');
      const rdt = storedIntelRdtGroup(stored.config, stored.id);
      if (rdt) destroyIntelRdt(rdt);
    }
    this.store.removeContainerDir(stored.id);
    crashPoint('delete:dir-removed');
    try {
      await runHooksAsync(
        'poststop',
        stored.config.hooks?.poststop,
        this.ociState(stored, 'stopped'),
      );
    } catch (error) {
      this.report({ code: 'HOOK', message: (error as Error).message, cause: error });
    }
  }

  /**
   * `runc exec`: runs another process in a created or running container,
   * in all its namespaces. Returns its exit status (128 + signal), or 0 once
   * it runs with `detach`.
   */
  async exec(id: string, options: ExecOptions): Promise<number> {
    try {
      const { execInContainer } = await import('./exec.js');
      return await execInContainer(this, id, options);
    } catch (error) {
      throw toContainerError(error);
    }
  }

  /**
   * `runc checkpoint`: dumps the running container with CRIU; unless
   * `leaveRunning` or `preDump`, the container is then gone, as with runc.
   */
  async checkpoint(id: string, options: CheckpointOptions): Promise<void> {
    const { checkpointContainer } = await import('./checkpoint.js');
    await checkpointContainer(this, id, options);
  }

  /**
   * `runc restore`: a new container `id` from a checkpoint's images and the
   * bundle; returns 0 with `detach`, else waits and returns its exit status.
   */
  async restore(id: string, options: RestoreOptions): Promise<number> {
    const { restoreContainer } = await import('./checkpoint.js');
    return restoreContainer(this, id, options);
  }

  /** `runc pause`: freezes every process of a running container. */
  async pause(id: string): Promise<void> {
    try {
      const { stored, cgroup } = this.withCgroup(id, 'pause');
      if (this.status(stored) !== 'running') {
        throw new ContainerError('BAD_STATUS', 'container not running');
      }
      await cgroup.freeze();
    } catch (error) {
      throw toContainerError(error);
    }
  }

  /** `runc resume`: thaws a paused container. */
  async resume(id: string): Promise<void> {
    try {
      const { stored, cgroup } = this.withCgroup(id, 'resume');
      if (this.status(stored) !== 'paused') {
        throw new ContainerError('BAD_STATUS', 'container not paused');
      }
      await cgroup.thaw();
    } catch (error) {
      throw toContainerError(error);
    }
  }

  /**
   * `runc update`: lays `changes` over the container's resources, writes
   * them to its cgroup and keeps them in its state.
   */
  async update(
    id: string,
    changes: LinuxResources,
    options: WaitingOptions = {},
  ): Promise<LinuxResources> {
    try {
      return await this.store.withLockAsync(
        id,
        async () => {
          const { stored, cgroup } = this.withCgroup(id, 'update');
          if (this.status(stored) === 'stopped') {
            throw new ContainerError('BAD_STATUS', 'container not running');
          }
          const linux = stored.config.linux ?? {};
          const resources = mergeResources(linux.resources ?? {}, changes);
          const config = { ...stored.config, linux: { ...linux, resources } };
          await cgroup.set(effectiveResources(config));
          this.store.write({ ...stored, config });
          return resources;
        },
        options,
      );
    } catch (error) {
      throw toContainerError(error);
    }
  }

  /** `runc events --stats`: the container's cgroup statistics. */
  stats(id: string): CgroupStats {
    try {
      const { stored, cgroup } = this.withCgroup(id, 'events');
      if (this.status(stored) === 'stopped') {
        throw new ContainerError('BAD_STATUS', 'container not running');
      }
      return cgroup.stats();
    } catch (error) {
      throw toContainerError(error);
    }
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
    try {
      const { cgroup } = this.withCgroup(id, 'events');
      return cgroup.onOom(listener);
    } catch (error) {
      throw toContainerError(error);
    }
  }

  /** Whether the container's init still runs (for `events`, which stops with it). */
  isRunning(id: string): boolean {
    try {
      const status = this.status(this.store.read(id));
      return status !== 'stopped';
    } catch {
      return false;
    }
  }

  /** `runc ps`: host pids of every process in the container's cgroup. */
  pids(id: string): number[] {
    try {
      const { stored, cgroup } = this.withCgroup(id, 'ps');
      if (this.status(stored) === 'stopped') return [];
      if (stored.cgroup?.rootless && !cgroup.exists()) {
        // Rootless without a delegated cgroup: the container's own pid
        // namespace still tells its processes apart.
        if (!ownsPidNamespace(stored)) {
          throw new ContainerError(
            'CGROUP',
            `ps: container ${id} has no cgroup of its own (rootless, and no cgroup was delegated to this user) and shares a pid namespace, so its processes cannot be told apart`,
          );
        }
        return processesInPidNamespaceOf(stored.pid);
      }
      return cgroup.pids();
    } catch (error) {
      throw toContainerError(error);
    }
  }

  private withCgroup(id: string, command: string): { stored: StoredState; cgroup: CgroupManager } {
    validateContainerId(id);
    const stored = this.store.read(id);
    const cgroup = cgroupManagerOf(stored.cgroup);
    if (!cgroup) {
      throw new ContainerError(
        'CGROUP',
        `${command}: container ${id} has no cgroup (it was created without one)`,
      );
    }
    return { stored, cgroup };
  }

  /**
   * `runc run`: create and start; unless detached, wait for the container's
   * process and return its exit status (128 + signal when killed), forwarding
   * signals to it, then delete the container unless `keep`.
   */
  async run(id: string, options: RunOptions): Promise<number> {
    try {
      return await this.runInternal(id, options);
    } catch (error) {
      throw toContainerError(error);
    }
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
      await killAndReap(stored.pid, stored.pidStartTime);
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

/**
 * Whether the init already runs the container's process: its executable is
 * no longer runc-ts-init. A `start` killed after releasing the init but
 * before removing exec.fifo leaves the fifo behind; the container is running
 * all the same (and a second `start` must say so, not wait for a byte that
 * never comes). Unknown (not readable) counts as not yet.
 */
function initHasExeced(pid: number): boolean {
  try {
    return !readlinkSync(`/proc/${pid}/exe`).includes('runc-ts-init');
  } catch {
    return false;
  }
}
