import type { ChildProcess } from 'node:child_process';
import {
  closeSync,
  constants,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  readSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { constants as osConstants } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { CgroupManager, CgroupStats } from '@runc-ts/cgroups';
import { type PlanContext, planCreate, planExec, SyncKind } from '@runc-ts/namespaces';
import {
  type LinuxResources,
  OCI_VERSION,
  type Process,
  parseConfig,
  type Spec,
  type State,
} from '@runc-ts/spec';
import {
  applyCgroup,
  cgroupManagerOf,
  createCgroupManager,
  effectiveResources,
  joinCgroup,
  mergeResources,
  parseExecCgroups,
  setContainerResources,
} from './cgroup.js';
import { ContainerError, describeSystemError } from './errors.js';
import { runExecutor } from './executor.js';
import { runHooks } from './hooks.js';
import { apparmorEnabled, hostCgroupLayout, hostHasKcore, isFile, selinuxEnabled } from './host.js';
import { validateContainerId } from './id.js';
import { isProcessAlive, readProcessStat, sleepSync } from './proc.js';
import {
  checkRootlessConfig,
  checkRootlessRlimits,
  checkUserNamespacesEnabled,
  type IdMappingPlan,
  isRootlessEuid,
  planIdMapping,
  type RuntimeIdentity,
  rootlessCgroupDirs,
  runtimeCgroupDirs,
  runtimeIdentity,
  writeIdMappings,
} from './rootless.js';
import { containerSeccomp, seccompAgentState } from './seccomp.js';
import { StateStore, type StoredState } from './state-store.js';

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

/** The process `runc exec` runs: the container's, with the command line's changes. */
function execProcess(base: Process | undefined, options: ExecOptions): Process {
  if (options.process) return options.process;
  if (!options.args || options.args.length === 0) {
    throw new ContainerError('OPTION_INVALID', 'exec: the command to run is missing');
  }
  const process: Process = structuredClone(base ?? { cwd: '/' });
  process.args = options.args;
  process.terminal = options.tty === true;
  delete process.consoleSize;
  if (options.env?.length) {
    const keys = new Set(options.env.map((entry) => entry.split('=')[0]));
    process.env = [
      ...(process.env ?? []).filter((entry) => !keys.has(entry.split('=')[0])),
      ...options.env,
    ];
  }
  if (options.cwd) process.cwd = options.cwd;
  if (options.user) {
    process.user = { ...process.user, uid: options.user.uid, gid: options.user.gid ?? 0 };
  }
  if (options.additionalGids) {
    process.user = { ...process.user, additionalGids: options.additionalGids };
  }
  if (options.capabilities?.length) {
    const caps = { ...process.capabilities };
    for (const set of ['bounding', 'effective', 'permitted', 'ambient'] as const) {
      caps[set] = [...new Set([...(caps[set] ?? []), ...options.capabilities])];
    }
    process.capabilities = caps;
  }
  if (options.noNewPrivileges) process.noNewPrivileges = true;
  if (options.apparmorProfile) process.apparmorProfile = options.apparmorProfile;
  if (options.selinuxLabel) process.selinuxLabel = options.selinuxLabel;
  return process;
}

/** RFC 3339 in UTC with the fraction trimmed as Go's RFC3339Nano does. */
function timestamp(date = new Date()): string {
  return date.toISOString().replace(/\.?0+Z$/, 'Z');
}

/**
 * The checks a create needs before anything is made, and how it writes the
 * maps of a new user namespace: without root (runc's RootlessEUID) the config
 * must have a user namespace with mappings the user may write.
 */
function prepareUserNamespace(spec: Spec): {
  rootless: boolean;
  idMapping?: { plan: IdMappingPlan; identity: RuntimeIdentity };
} {
  const rootless = isRootlessEuid();
  if (rootless) {
    checkRootlessConfig(spec);
    checkRootlessRlimits(spec.process, 'process');
  }
  const userns = (spec.linux?.namespaces ?? []).find((ns) => ns.type === 'user');
  if (!userns || userns.path) return { rootless };
  checkUserNamespacesEnabled(rootless);
  if (!rootless) return { rootless };
  const identity = runtimeIdentity();
  return { rootless, idMapping: { plan: planIdMapping(spec, identity), identity } };
}

export class Runtime {
  readonly store: StateStore;

  constructor(readonly options: RuntimeOptions) {
    this.store = new StateStore(options.root);
  }

  private loadBundle(bundleDir: string): { bundle: string; spec: Spec; rootfs: string } {
    const bundle = resolve(bundleDir);
    const configPath = join(bundle, 'config.json');
    let text: string;
    try {
      text = readFileSync(configPath, 'utf8');
    } catch (error) {
      throw new ContainerError(
        'BUNDLE_INVALID',
        `cannot read ${configPath}: ${describeSystemError(error)}`,
        { cause: error },
      );
    }
    const spec = parseConfig(text, { source: configPath, forCreate: true });
    const rootfs = isAbsolute(spec.root.path) ? spec.root.path : join(bundle, spec.root.path);
    let isDirectory = false;
    try {
      isDirectory = statSync(rootfs).isDirectory();
    } catch (error) {
      throw new ContainerError(
        'BUNDLE_INVALID',
        `root.path: rootfs ${rootfs}: ${describeSystemError(error)}`,
        { cause: error },
      );
    }
    if (!isDirectory) {
      throw new ContainerError('BUNDLE_INVALID', `root.path: rootfs ${rootfs} is not a directory`);
    }
    return { bundle, spec, rootfs };
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

  private status(stored: StoredState): ContainerStatus {
    if (!isProcessAlive(stored.pid, stored.pidStartTime)) return 'stopped';
    if (existsSync(this.store.fifoPath(stored.id))) return 'created';
    const cgroup = cgroupManagerOf(stored.cgroup);
    return cgroup?.freezerState() === 'frozen' ? 'paused' : 'running';
  }

  /**
   * --debug: the cgroups a rootless runtime could not create or write (not
   * delegated to the user, as on any cgroup v1 host), and what that means.
   */
  private reportSkippedCgroups(cgroup: CgroupManager, devicesSkipped?: string): void {
    const skipped = [...((cgroup as { skipped?: readonly string[] }).skipped ?? [])];
    if (devicesSkipped) skipped.push(`device rules: ${devicesSkipped}`);
    if (!this.options.debug || skipped.length === 0) return;
    this.options.debug(
      `rootless: skipped ${skipped.length} cgroup operation(s) this user may not do (not delegated): ${skipped.join('; ')}; where its cgroup could not be made, the container stays in the caller's cgroup, without limits of its own`,
    );
  }

  private ociState(stored: StoredState, status: State['status']): State {
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
    validateContainerId(id);
    const { bundle, spec, rootfs } = this.loadBundle(options.bundle);
    checkSecurityModules(spec.process, 'process');
    const { rootless, idMapping } = prepareUserNamespace(spec);
    const listenFds = options.listenFds ?? 0;
    const preserveFds = listenFds + (options.preserveFds ?? 0);
    if (listenFds > 0 && spec.process) {
      spec.process.env = [...(spec.process.env ?? []), `LISTEN_FDS=${listenFds}`, 'LISTEN_PID=1'];
    }
    if (!spec.process?.terminal && options.consoleSocket) {
      throw new ContainerError(
        'OPTION_INVALID',
        'cannot use console socket if runc will not detach or allocate tty (process.terminal is false)',
      );
    }
    return this.store.withLockAsync(id, async () => {
      this.store.createContainerDir(id);
      const stored: StoredState = {
        id,
        pid: 0,
        pidStartTime: '',
        bundle,
        rootfs,
        created: timestamp(),
        owner: '',
        config: spec,
      };
      let initPid = 0;
      let cgroup: CgroupManager | undefined;
      try {
        const manager = createCgroupManager(id, spec, {
          systemd: this.options.systemdCgroup === true,
          rootless: this.options.rootlessCgroups === true,
        });
        checkCgroupUnused(manager, this.options.warn);
        // From here on a failure removes the cgroup: it is the container's.
        cgroup = manager;
        const containerCgroup = cgroup;
        const seccomp = containerSeccomp(spec);
        const plan = planCreate(spec, {
          seccomp,
          rootfs,
          fifoPath: this.store.fifoPath(id),
          containerId: id,
          noPivot: options.noPivot ?? false,
          noNewKeyring: options.noNewKeyring ?? false,
          preserveFds,
          consoleSocket: options.consoleSocket,
          pidfdSocket: options.pidfdSocket,
          bundle,
          sourceIsFile: isFile,
          ...cgroupContext(spec, cgroup),
          hostHasKcore: hostHasKcore(),
          waitForInit,
          rootless,
        });
        const run = await runExecutor({
          initPath: this.options.initPath,
          plan,
          stdio: [0, 1, 2],
          preserveFds,
          onPid: (pid) => {
            initPid = pid;
            stored.pid = pid;
            stored.pidStartTime = readProcessStat(pid)?.startTime ?? '';
          },
          onSync: (kind, pid) => {
            if (kind === SyncKind.USERNS) writeIdMappings(pid, spec, idMapping);
            else if (kind === SyncKind.CGROUP) {
              // The init, before it runs anything of the container's.
              return applyCgroup(containerCgroup, initPid || pid)
                .then(() =>
                  setContainerResources(
                    containerCgroup,
                    effectiveResources(spec),
                    this.options.rootlessCgroups === true,
                  ),
                )
                .then((devicesSkipped) => {
                  stored.cgroup = containerCgroup.state();
                  // Recorded now, not only at the end: should this process be
                  // killed before it returns, `delete --force` still finds
                  // the init and its cgroup.
                  this.store.write(stored);
                  this.reportSkippedCgroups(containerCgroup, devicesSkipped);
                  return undefined;
                });
            } else if (kind === SyncKind.HOOKS) {
              const state = this.ociState(stored, 'creating');
              runHooks('prestart', spec.hooks?.prestart, state);
              runHooks('createRuntime', spec.hooks?.createRuntime, state);
            } else if (kind === SyncKind.STATE) {
              // For the createContainer/startContainer hooks the executor runs.
              return Buffer.from(JSON.stringify(this.ociState(stored, 'creating')));
            } else if (kind === SyncKind.SECCOMP) {
              // What the seccomp agent gets with the listener fd.
              return seccompAgentState(spec, stored.pid, this.ociState(stored, 'creating'));
            }
            return undefined;
          },
        });
        this.store.write(stored);
        if (options.pidFile) writePidFile(options.pidFile, stored.pid);
        return { stored, executor: run.child };
      } catch (error) {
        if (initPid > 0) killAndReap(initPid);
        await destroyQuietly(cgroup);
        this.store.removeContainerDir(id);
        throw normalizeError(error);
      }
    });
  }

  /** `runc start`: lets the created init exec the user process. */
  start(id: string): void {
    const stored = this.store.withLock(id, () => {
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
      releaseInit(this.store.fifoPath(id), stored);
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
    validateContainerId(id);
    return this.view(this.store.read(id));
  }

  list(): ContainerState[] {
    return this.store.list().flatMap((id) => {
      try {
        return [this.view(this.store.read(id))];
      } catch {
        return []; // being created or deleted right now
      }
    });
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
    // Like runc: forcing the deletion of a container that does not exist is not an error.
    if (options.force && !this.store.exists(id)) return;
    await this.store.withLockAsync(id, async () => {
      const stored = this.store.read(id);
      const status = this.status(stored);
      if (status !== 'stopped' && status !== 'created' && !options.force) {
        throw new ContainerError(
          'BAD_STATUS',
          `cannot delete container ${id} that is not stopped: ${status}`,
        );
      }
      if (status !== 'stopped') {
        // A created container is killed without --force, as runc does.
        try {
          await signalAll(stored, osConstants.signals.SIGKILL, status);
        } catch {
          // No cgroup and a shared pid namespace: the init alone, below.
        }
        killAndReap(stored.pid, stored.pidStartTime);
      }
      const cgroup = cgroupManagerOf(stored.cgroup);
      if (cgroup) await killAndDestroy(cgroup);
      this.store.removeContainerDir(id);
      try {
        runHooks('poststop', stored.config.hooks?.poststop, this.ociState(stored, 'stopped'));
      } catch (error) {
        process.emitWarning((error as Error).message);
      }
    });
  }

  /**
   * `runc exec`: runs another process in a created or running container,
   * in all its namespaces. Returns its exit status (128 + signal), or 0 once
   * it runs with `detach`.
   */
  async exec(id: string, options: ExecOptions): Promise<number> {
    validateContainerId(id);
    const stored = this.store.read(id);
    const status = this.status(stored);
    if (status === 'stopped') {
      throw new ContainerError('BAD_STATUS', 'cannot exec in a stopped container');
    }
    if (status === 'paused' && !options.ignorePaused) {
      throw new ContainerError(
        'BAD_STATUS',
        'cannot exec in a paused container (use --ignore-paused to override)',
      );
    }
    const subCgroups =
      options.cgroups?.length && stored.cgroup
        ? parseExecCgroups(options.cgroups, stored.cgroup)
        : undefined;
    if (options.cgroups?.length && !stored.cgroup) {
      throw new ContainerError('OPTION_INVALID', '--cgroup: the container has no cgroup');
    }
    const process = execProcess(stored.config.process, options);
    checkSecurityModules(process, options.process ? 'process.json' : 'process');
    const rootless = isRootlessEuid();
    if (rootless) checkRootlessRlimits(process, options.process ? 'process.json' : 'process');
    if (!process.terminal && options.consoleSocket) {
      throw new ContainerError(
        'OPTION_INVALID',
        'cannot use console socket if runc will not detach or allocate tty',
      );
    }
    if (process.terminal && options.detach && !options.consoleSocket) {
      throw new ContainerError(
        'OPTION_INVALID',
        'cannot allocate tty if runc will detach without setting console socket',
      );
    }
    let plan: ReturnType<typeof planExec>;
    try {
      plan = planExec(stored.config, process, {
        initPid: stored.pid,
        detach: options.detach === true,
        consoleSocket: options.consoleSocket,
        pidfdSocket: options.pidfdSocket,
        preserveFds: options.preserveFds ?? 0,
        joinCgroup: stored.cgroup !== undefined,
        seccomp: containerSeccomp(stored.config),
        rootless,
      });
    } catch (error) {
      throw normalizeError(error);
    }
    let pid = 0;
    // The stage names of runc's debug log, which its users and tests grep for.
    const debug = this.options.debug;
    debug?.(
      `exec: nsexec container setup: ${plan.length} executor operations, joining the namespaces of pid ${stored.pid}`,
    );
    const initAlive = () => initRunning(stored);
    const stopped = () => new ContainerError('BAD_STATUS', 'cannot exec in a stopped container');
    let run: Awaited<ReturnType<typeof runExecutor>>;
    try {
      run = await runExecutor({
        initPath: this.options.initPath,
        plan,
        stdio: [0, 1, 2],
        preserveFds: options.preserveFds ?? 0,
        onPid: (child) => {
          pid = child;
          debug?.(`exec: child process in init(): pid ${child}`);
          debug?.(`exec: setns_init: about to exec ${JSON.stringify(process.args?.[0] ?? '')}`);
        },
        onSync: (kind) => {
          if (kind === SyncKind.CGROUP && stored.cgroup) {
            joinCgroup(stored.cgroup, pid, subCgroups, stored.pid);
            // The namespaces were joined through /proc/<init pid> before this:
            // the init still alive now means they were its, not those of a
            // process that reused the pid. A `delete` that already made its
            // last kill pass over the cgroup has killed the init, so a process
            // joining after that pass stops here instead of outliving it.
            if (!initAlive()) throw stopped();
          }
          if (kind === SyncKind.SECCOMP) {
            return seccompAgentState(stored.config, pid, this.ociState(stored, 'running'));
          }
          return undefined;
        },
      });
    } catch (error) {
      // The init died meanwhile: whatever step failed, say it as runc does
      // when it sees the container stopped.
      if (!initAlive()) throw stopped();
      throw normalizeError(error);
    }
    if (options.pidFile) writePidFile(options.pidFile, pid);
    if (options.detach) return 0;
    return waitForExit(run.child, pid, process.terminal === true && !options.consoleSocket);
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
      throw error;
    }
    const code = await exited;
    if (!options.keep) await this.delete(id, { force: true });
    return code;
  }
}

/** The exit status the executor reports for the process it waits for. */
function exitOf(executor: ChildProcess): Promise<number> {
  return new Promise<number>((resolveExit) => {
    if (executor.exitCode !== null) resolveExit(executor.exitCode);
    else executor.once('exit', (code, signal) => resolveExit(code ?? 128 + signalNumber(signal)));
  });
}

/** Forwards signals to the process (SIGWINCH to the pty relay) until it exits. */
async function waitForExit(executor: ChildProcess, pid: number, relay: boolean): Promise<number> {
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
async function signalAll(stored: StoredState, signal: number, status: ContainerStatus) {
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

function ownsPidNamespace(stored: StoredState): boolean {
  return (stored.config.linux?.namespaces ?? []).some((ns) => ns.type === 'pid' && !ns.path);
}

/**
 * The init still runs and is not exiting: an exiting process drops its
 * namespaces before it becomes a zombie, and a pid namespace's init stays in
 * between until every other process of its namespace is gone.
 */
function initRunning(stored: StoredState): boolean {
  if (!isProcessAlive(stored.pid, stored.pidStartTime)) return false;
  try {
    readlinkSync(`/proc/${stored.pid}/ns/mnt`);
    return true;
  } catch (error) {
    // EACCES (a non-dumpable init, to a rootless caller) tells nothing.
    return (error as NodeJS.ErrnoException).code !== 'ENOENT';
  }
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

async function destroyQuietly(cgroup: CgroupManager | undefined): Promise<void> {
  try {
    await cgroup?.destroy();
  } catch (error) {
    // Without a bus no unit can have been made: nothing to clean up.
    if ((error as { code?: string }).code === 'SYSTEMD_UNAVAILABLE') return;
    process.emitWarning(`cleanup: ${(error as Error).message}`);
  }
}

function signalProcess(pid: number, signal: number): void {
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
function processesInPidNamespaceOf(initPid: number): number[] {
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

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal ? (osConstants.signals[signal] ?? 0) : 0;
}

/** A label for a security module the host does not run cannot be honoured. */
function checkSecurityModules(process: Process | undefined, where: string): void {
  if (process?.apparmorProfile && !apparmorEnabled()) {
    throw new ContainerError(
      'PLAN',
      `${where}.apparmorProfile: AppArmor is not enabled on this host, so profile ${JSON.stringify(process.apparmorProfile)} cannot be applied`,
    );
  }
  if (process?.selinuxLabel && !selinuxEnabled()) {
    throw new ContainerError(
      'PLAN',
      `${where}.selinuxLabel: SELinux is not enabled on this host, so label ${JSON.stringify(process.selinuxLabel)} cannot be applied`,
    );
  }
}

/**
 * A frozen cgroup cannot be the container's (its init would hang there):
 * refused before anything is created. One that already holds processes is
 * only warned about, as runc does (containers may share a cgroup).
 */
function checkCgroupUnused(cgroup: CgroupManager, warn?: (message: string) => void): void {
  if (!cgroup.exists()) return;
  const pids = cgroup.pids();
  if (pids.length > 0) {
    warn?.(`container's cgroup is not empty: ${pids.length} process(es) found`);
  }
  if (cgroup.freezerState() === 'frozen') {
    throw new ContainerError(
      'CGROUP',
      "container's cgroup unexpectedly frozen (thaw it or choose another linux.cgroupsPath)",
    );
  }
}

function cgroupContext(
  spec: Spec,
  cgroup: CgroupManager,
): Pick<PlanContext, 'cgroupV2' | 'cgroupV1Controllers' | 'cgroupPaths'> {
  if (!(spec.mounts ?? []).some((mount) => mount.type === 'cgroup')) return {};
  const layout = hostCgroupLayout();
  const { paths, rootless } = cgroup.state();
  // Rootless: where the container's cgroup cannot be made (not delegated),
  // the init stays in the runtime's own, and that is what it gets to see.
  const binds = rootless ? rootlessCgroupDirs(paths, runtimeCgroupDirs()) : paths;
  return {
    cgroupV2: layout.v2,
    cgroupV1Controllers: layout.v1Hierarchies,
    ...(Object.keys(binds).length > 0 ? { cgroupPaths: binds } : {}),
  };
}

function writePidFile(path: string, pid: number): void {
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, String(pid));
  renameSync(temp, path);
}

/** Opens exec.fifo for reading: the init, blocked writing to it, carries on. */
function releaseInit(fifo: string, stored: StoredState): void {
  let fd: number;
  try {
    fd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw new ContainerError('BAD_STATUS', `cannot open ${fifo}: ${describeSystemError(error)}`, {
      cause: error,
    });
  }
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
    while (!readByte()) {
      // The init may have written its byte, run and exited between the read
      // and this check: the byte stays in the pipe, so read once more.
      if (!isProcessAlive(stored.pid, stored.pidStartTime) && !readByte()) {
        throw new ContainerError('BAD_STATUS', 'cannot start a container that has stopped');
      }
      sleepSync(1);
    }
  } finally {
    closeSync(fd);
  }
  unlinkSync(fifo);
}

/** SIGKILL and wait (bounded) until the process is gone or a zombie. */
function killAndReap(pid: number, startTime?: string): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  const deadline = Date.now() + 5000;
  while (isProcessAlive(pid, startTime) && Date.now() < deadline) sleepSync(2);
}

function normalizeError(error: unknown): unknown {
  if (error instanceof ContainerError) return error;
  const code = (error as { code?: unknown }).code;
  if (error instanceof Error && typeof code === 'string' && error.name === 'PlanError') {
    return new ContainerError('PLAN', error.message, { cause: error });
  }
  return error;
}
