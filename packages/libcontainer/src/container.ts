// The Runtime façade: one method per runc verb. The light verbs (state,
// list, start, kill, delete, pause, resume, update, events, ps) live here;
// create, run's set-up and exec load their modules (the planner, seccomp,
// the executor protocol) only when called, so that every other command
// starts without them.

import type { ChildProcess } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import type { CgroupManager, CgroupStats } from '@runc-ts/cgroups';
import type { LinuxResources, Process, State } from '@runc-ts/spec';
import { cgroupManagerOf, effectiveResources, mergeResources } from './cgroup.js';
import type { CheckpointOptions, RestoreOptions } from './checkpoint.js';
import { crashPoint } from './crash-points.js';
import { ContainerError } from './errors.js';
import { runHooks } from './hooks.js';
import { validateContainerId } from './id.js';
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
import { containerStatus, listContainerStates, OCI_VERSION, readContainerState } from './status.js';

export { OCI_VERSION };

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

export interface RuntimeOptions {
  /** --root: the state directory. */
  root: string;
  /** Path of the runc-ts-init executor binary. */
  initPath: string;
  /** --systemd-cgroup: place containers in transient systemd units. */
  systemdCgroup?: boolean;
  /** --rootless: a cgroup that cannot be created or written is skipped. */
  rootlessCgroups?: boolean;
  /** --debug: receives what the runtime chose to do and why (skipped cgroups). */
  debug?: (message: string) => void;
  /** Receives what runc logs as warnings (e.g. a container cgroup that already holds processes). */
  warn?: (message: string) => void;
}

export interface CreateOptions {
  bundle: string;
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
}

export interface ExecOptions {
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
    this.store = new StateStore(options.root);
  }

  /** @internal The status of a stored container, computed now. */
  status(stored: StoredState): ContainerStatus {
    return containerStatus(this.store, stored);
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
  async create(id: string, options: CreateOptions): Promise<StoredState> {
    const { stored } = await this.createInternal(id, options, false);
    return stored;
  }

  private async createInternal(
    id: string,
    options: CreateOptions,
    waitForInit: boolean,
  ): Promise<{ stored: StoredState; executor: ChildProcess }> {
    const { createContainer } = await import('./create.js');
    return createContainer(this, id, options, waitForInit);
  }

  /** `runc start`: lets the created init exec the user process. */
  start(id: string): void {
    const stored = this.store.withLock(id, () => {
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
      releaseInit(this.store.fifoPath(id), stored, {
        opened: () => crashPoint('start:fifo-opened'),
        read: () => crashPoint('start:byte-read'),
      });
      crashPoint('start:released');
      this.options.debug?.(`start: released the init (pid ${stored.pid}) through exec.fifo`);
      return stored;
    });
    try {
      runHooks('poststart', stored.config.hooks?.poststart, this.ociState(stored, 'running'));
    } catch (error) {
      // The spec: a poststart failure is logged, the container keeps running.
      process.emitWarning((error as Error).message);
    }
  }

  state(id: string): ContainerState {
    return readContainerState(this.store, id);
  }

  list(): ContainerState[] {
    return listContainerStates(this.store);
  }

  /**
   * `runc kill`. With `all`, every process of the container gets the signal:
   * found through its cgroup (frozen meanwhile, so none can fork away), or
   * through its own pid namespace when it has no cgroup.
   */
  async kill(id: string, signal: number, options: { all?: boolean } = {}): Promise<void> {
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

  async delete(id: string, options: { force?: boolean } = {}): Promise<void> {
    validateContainerId(id);
    await this.store.withLockAsync(id, async () => {
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
        this.options.warn?.(
          `${(error as Error).message}: removed; its processes and cgroup, if any, are not known`,
        );
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
    });
  }

  /** linux.netDevices back to the runtime's namespace; a failure is a warning (delete goes on). */
  private async returnNetDevices(stored: StoredState): Promise<void> {
    if (stored.config.linux?.netDevices === undefined) return;
    const { hasNetDevicesToReturn, returnNetDevices } = await import('./net-devices.js');
    if (!hasNetDevicesToReturn(stored.config)) return;
    try {
      await returnNetDevices(this.options.initPath, stored.config, stored.pid);
    } catch (error) {
      process.emitWarning(`linux.netDevices: ${(error as Error).message}`);
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
      killAndReap(stored.pid, stored.pidStartTime);
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
      runHooks('poststop', stored.config.hooks?.poststop, this.ociState(stored, 'stopped'));
    } catch (error) {
      process.emitWarning((error as Error).message);
    }
  }

  /**
   * `runc exec`: runs another process in a created or running container,
   * in all its namespaces. Returns its exit status (128 + signal), or 0 once
   * it runs with `detach`.
   */
  async exec(id: string, options: ExecOptions): Promise<number> {
    const { execInContainer } = await import('./exec.js');
    return execInContainer(this, id, options);
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
    const { stored, cgroup } = this.withCgroup(id, 'pause');
    if (this.status(stored) !== 'running') {
      throw new ContainerError('BAD_STATUS', 'container not running');
    }
    await cgroup.freeze();
  }

  /** `runc resume`: thaws a paused container. */
  async resume(id: string): Promise<void> {
    const { stored, cgroup } = this.withCgroup(id, 'resume');
    if (this.status(stored) !== 'paused') {
      throw new ContainerError('BAD_STATUS', 'container not paused');
    }
    await cgroup.thaw();
  }

  /**
   * `runc update`: lays `changes` over the container's resources, writes
   * them to its cgroup and keeps them in its state.
   */
  async update(id: string, changes: LinuxResources): Promise<LinuxResources> {
    return this.store.withLockAsync(id, async () => {
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
    });
  }

  /** `runc events --stats`: the container's cgroup statistics. */
  stats(id: string): CgroupStats {
    const { stored, cgroup } = this.withCgroup(id, 'events');
    if (this.status(stored) === 'stopped') {
      throw new ContainerError('BAD_STATUS', 'container not running');
    }
    return cgroup.stats();
  }

  /**
   * `runc events`: calls `listener` on every OOM kill in the container until
   * the returned function is called.
   */
  watchOom(id: string, listener: () => void): () => void {
    const { cgroup } = this.withCgroup(id, 'events');
    return cgroup.onOom(listener);
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
    const { stored, executor } = await this.createInternal(id, options, !options.detach);
    if (options.detach) {
      this.start(id);
      return 0;
    }
    // With a terminal the executor relays the pty and resizes it on SIGWINCH.
    const relay = stored.config.process?.terminal === true && !options.consoleSocket;
    const exited = waitForExit(executor, stored.pid, relay);
    try {
      this.start(id);
    } catch (error) {
      killAndReap(stored.pid, stored.pidStartTime);
      await exited;
      // run made the container: a run that fails leaves none behind.
      await this.delete(id, { force: true }).catch(() => {});
      throw error;
    }
    const code = await exited;
    this.options.debug?.(`run: process exited: pid ${stored.pid}, status ${code}`);
    if (!options.keep) await this.delete(id, { force: true });
    return code;
  }
}
