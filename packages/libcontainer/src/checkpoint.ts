// `runc checkpoint` and `runc restore`, through CRIU's RPC (criu.ts).
// Loaded only by those two commands: protobuf and CRIU stay out of the rest.

import { type ChildProcess, spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  constants as fsConstants,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { type CgroupManager, loadLibc } from '@runc-ts/cgroups';
import { bindSourcePath } from '@runc-ts/namespaces';
import type { Mount, Spec } from '@runc-ts/spec';
import { createCgroupManager, joinContainerCgroup } from './cgroup.js';
import type { Runtime, WaitingOptions } from './container.js';
import { loadBundle, timestamp } from './create.js';
import {
  CGROUP_MODES,
  type CriuOptions,
  CriuRequest,
  callCriu,
  missingCriuFeatures,
} from './criu.js';
import { ContainerError, describeErrno, describeSystemError } from './errors.js';
import { runHooksAsync } from './hooks.js';
import { hostCgroupLayout } from './host.js';
import { validateContainerId } from './id.js';
import { abortedError, isProcessAlive, readProcessStat, throwIfAborted } from './proc.js';
import { destroyQuietly, FORWARDED_SIGNALS, killAndReap, writePidFile } from './process-control.js';
import type { StoredState } from './state-store.js';
import { type ResolvedStdio, resolveStdio, type Stdio } from './stdio.js';
import { sendFdToSocket } from './unix-fds.js';

/**
 * `signal` ends the wait for the container's lock (ABORTED); a dump under
 * way finishes. A lazy-pages dump takes no lock.
 */
export interface CheckpointOptions extends WaitingOptions {
  /** The criu binary; `criu` on PATH by default. */
  criuPath?: string;
  /** Where the images go (default: ./checkpoint). */
  imagePath?: string;
  /** Where CRIU's log and work files go (default: the image path). */
  workPath?: string;
  /** The images of an earlier pre-dump (relative to the image path, or absolute). */
  parentPath?: string;
  leaveRunning?: boolean;
  tcpEstablished?: boolean;
  extUnixSk?: boolean;
  shellJob?: boolean;
  lazyPages?: boolean;
  /** An fd of this process CRIU writes \0 to once lazy pages are served. */
  statusFd?: number;
  /** ADDRESS:PORT of a page server. */
  pageServer?: string;
  fileLocks?: boolean;
  /** Dump memory only, leaving the container running. */
  preDump?: boolean;
  manageCgroupsMode?: string;
  /** Namespaces CRIU creates empty instead of restoring (`network`). */
  emptyNs?: string[];
  autoDedup?: boolean;
}

export interface RestoreOptions extends WaitingOptions {
  criuPath?: string;
  /**
   * Where the restored process' stdio goes (fds, 'ignore' or streams;
   * /dev/null for each by default; the CLI passes [0, 1, 2]). CRIU restores
   * the checkpointed process' own fds: only those that were pipes are
   * reconnected to these (a file or /dev/null is reopened as it was). With
   * a terminal in the foreground, the relayed pty reads stdio[0] and
   * writes to stdio[1].
   */
  stdio?: Stdio;
  /**
   * In the foreground, forward SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1,
   * SIGUSR2 (and SIGWINCH, to the terminal relay) received by this process
   * to the restored process (installs process signal handlers; the CLI
   * does). `signal` aborting SIGKILLs the restored process, which is then
   * deleted.
   */
  forwardSignals?: boolean;
  bundle: string;
  imagePath?: string;
  workPath?: string;
  tcpEstablished?: boolean;
  extUnixSk?: boolean;
  shellJob?: boolean;
  fileLocks?: boolean;
  manageCgroupsMode?: string;
  emptyNs?: string[];
  autoDedup?: boolean;
  lazyPages?: boolean;
  detach?: boolean;
  pidFile?: string;
  noSubreaper?: boolean;
  noPivot?: boolean;
  consoleSocket?: string;
  lsmProfile?: string;
  lsmMountContext?: string;
}

const CLONE_NEWNET = 0x40000000;
const DESCRIPTORS = 'descriptors.json';

function cgroupsMode(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const mode = CGROUP_MODES[value];
  if (mode === undefined) {
    throw new ContainerError(
      'OPTION_INVALID',
      `--manage-cgroups-mode: invalid value ${JSON.stringify(value)} (use soft, full, strict or ignore)`,
    );
  }
  return mode;
}

function emptyNamespaces(values: string[] | undefined): number | undefined {
  if (!values?.length) return undefined;
  let flags = 0;
  for (const value of values) {
    if (value !== 'network') {
      throw new ContainerError(
        'OPTION_INVALID',
        `--empty-ns: ${JSON.stringify(value)} cannot be left empty (only "network" can)`,
      );
    }
    flags |= CLONE_NEWNET;
  }
  return flags;
}

function pageServer(value: string | undefined): CriuOptions['ps'] {
  if (value === undefined) return undefined;
  const match = /^(.*):(\d+)$/.exec(value);
  const port = match ? Number(match[2]) : Number.NaN;
  if (!match?.[1] || port < 1 || port > 65535) {
    throw new ContainerError(
      'OPTION_INVALID',
      `--page-server: ${JSON.stringify(value)} is not ADDRESS:PORT`,
    );
  }
  return { address: match[1], port };
}

function openDirectory(path: string, what: string): number {
  try {
    mkdirSync(path, { recursive: true, mode: 0o700 });
    return openSync(path, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY);
  } catch (error) {
    throw new ContainerError('OPTION_INVALID', `${what} ${path}: ${describeSystemError(error)}`, {
      cause: error,
    });
  }
}

const isBind = (mount: Mount) =>
  mount.type === 'bind' || (mount.options ?? []).some((o) => o === 'bind' || o === 'rbind');

/**
 * The container's mounts whose source is outside it, which CRIU must be told
 * about: bind mounts of the config and the cgroup directories bound from the
 * host, by their path in the container (the name in the images) and their
 * host source (where restore finds them).
 */
function externalMounts(
  spec: Spec,
  cgroupPaths: Record<string, string> | undefined,
  rootfs: string,
): { dest: string; source: string }[] {
  const external: { dest: string; source: string }[] = [];
  const hasCgroupNs = (spec.linux?.namespaces ?? []).some((ns) => ns.type === 'cgroup');
  for (const mount of spec.mounts ?? []) {
    if (isBind(mount)) {
      // Where the mount really is: a destination through a symlink of the image lands elsewhere.
      external.push({ dest: resolveInRoot(rootfs, mount.destination), source: mount.source ?? '' });
    } else if (mount.type === 'cgroup' && !hasCgroupNs && cgroupPaths) {
      const layout = hostCgroupLayout();
      if (layout.v2) {
        if (cgroupPaths['']) external.push({ dest: mount.destination, source: cgroupPaths[''] });
        continue;
      }
      for (const hierarchy of layout.v1Hierarchies) {
        const dir = hierarchy.startsWith('name=') ? hierarchy.slice('name='.length) : hierarchy;
        const key = hierarchy.startsWith('name=') ? hierarchy : (hierarchy.split(',')[0] ?? '');
        const own = cgroupPaths[key];
        if (own) external.push({ dest: `${mount.destination}/${dir}`, source: own });
      }
    }
  }
  return external;
}

const EXTERNAL_NETNS = 'extRootNetNS';

/** The path of a network namespace the config joins, if any. */
function joinedNetns(spec: Spec): string | undefined {
  return (spec.linux?.namespaces ?? []).find((ns) => ns.type === 'network' && ns.path)?.path;
}

/** A joined network namespace is not the container's: CRIU leaves it out of the images. */
function externalNetns(spec: Spec): Pick<CriuOptions, 'external'> {
  const path = joinedNetns(spec);
  if (!path) return {};
  let inode: number;
  try {
    inode = statSync(path).ino;
  } catch (error) {
    throw new ContainerError(
      'CRIU',
      `linux.namespaces: network namespace ${path}: ${describeSystemError(error)}`,
      { cause: error },
    );
  }
  return { external: [`net[${inode}]:${EXTERNAL_NETNS}`] };
}

/**
 * A CRIU configuration file for this container: the annotation
 * org.criu.config names one (an empty value: none), else
 * /etc/criu/runc.conf when it exists, as runc does.
 */
function criuConfigFile(spec: Spec): Pick<CriuOptions, 'config_file'> {
  const annotated = spec.annotations?.['org.criu.config'];
  if (annotated !== undefined) return annotated ? { config_file: annotated } : {};
  return existsSync('/etc/criu/runc.conf') ? { config_file: '/etc/criu/runc.conf' } : {};
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * `path` inside `rootfs` with the image's symlinks followed, never above
 * the root (what a mount on that destination really mounted on).
 */
export function resolveInRoot(rootfs: string, path: string): string {
  const parts = path.split('/').filter((part) => part && part !== '.');
  const resolved: string[] = [];
  for (let links = 0; parts.length > 0; ) {
    const part = parts.shift()!;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = [...resolved, part];
    let target: string | undefined;
    try {
      target = readlinkSync(join(rootfs, ...candidate));
    } catch {
      target = undefined; // not a symlink, or missing
    }
    if (target === undefined) {
      resolved.push(part);
      continue;
    }
    if (++links > 40) return `/${[...resolved, part, ...parts].join('/')}`;
    if (target.startsWith('/')) resolved.length = 0;
    parts.unshift(...target.split('/').filter((p) => p && p !== '.'));
  }
  return `/${resolved.join('/')}`;
}

/**
 * Creates the mount points of the config's bind mounts in the rootfs (not
 * under a tmpfs mount, whose content CRIU restores), binding each source on
 * its destination so that a nested one can be made inside it; returns the
 * temporary mounts (the caller unmounts them in reverse order).
 */
function prepareRestoreMountpoints(spec: Spec, rootfs: string, bundle: string): string[] {
  const libc = loadLibc();
  const tmpfs = (spec.mounts ?? [])
    .filter((mount) => mount.type === 'tmpfs')
    .map((mount) => mount.destination.replace(/\/+$/, ''));
  const underTmpfs = (dest: string) => tmpfs.some((t) => dest === t || dest.startsWith(`${t}/`));
  const mounted: string[] = [];
  for (const mount of spec.mounts ?? []) {
    if (!isBind(mount) || underTmpfs(mount.destination)) continue;
    const source = hostPath(bundle, mount.source ?? '');
    const target = join(rootfs, resolveInRoot(rootfs, mount.destination));
    try {
      if (isDirectory(source)) mkdirSync(target, { recursive: true, mode: 0o755 });
      else if (!existsSync(target)) {
        mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
        writeFileSync(target, '', { mode: 0o644 });
      }
    } catch (error) {
      for (const done of mounted.reverse()) libc.umount2(done, 2);
      throw new ContainerError(
        'CRIU',
        `mounts: cannot create the mount point ${mount.destination}: ${describeSystemError(error)}`,
        { cause: error },
      );
    }
    const MS_BIND = 4096;
    const MS_REC = 16384;
    if (libc.mount(source, target, '', MS_BIND | MS_REC) === 0) mounted.push(target);
  }
  return mounted;
}

// Masked files have the container's /dev/null bound over them: one
// external mount named /dev/null, the host's on restore.
const MASK_SOURCE = '/dev/null';

async function requireFeatures(
  criuPath: string,
  wanted: { mem_track?: boolean; lazy_pages?: boolean },
): Promise<void> {
  const asked = Object.fromEntries(Object.entries(wanted).filter(([, on]) => on));
  if (Object.keys(asked).length === 0) return;
  const missing = await missingCriuFeatures(criuPath, asked);
  if (missing.length > 0) {
    throw new ContainerError(
      'CRIU',
      `CRIU is missing features on this host: ${missing.join('; ')}`,
    );
  }
}

/** `runc checkpoint`: dumps a running container with CRIU. */
export async function checkpointContainer(
  runtime: Runtime,
  id: string,
  options: CheckpointOptions,
): Promise<void> {
  validateContainerId(id);
  // The lock is held for a dump, so that no delete, pause or second dump
  // runs meanwhile; not for a lazy-pages one, which waits for a page client
  // for as long as it takes, and which `delete --force` must still reach.
  const locked = <T>(fn: () => Promise<T>): Promise<T> => {
    if (!options.lazyPages) return runtime.store.withLockAsync(id, fn, { signal: options.signal });
    throwIfAborted(options.signal, `checkpoint: container ${id}`);
    return fn();
  };
  await locked(async () => {
    const stored = runtime.store.read(id);
    const status = runtime.status(stored);
    if (status !== 'running' && status !== 'paused') {
      throw new ContainerError('BAD_STATUS', 'container not running');
    }
    const imagePath = resolve(options.imagePath ?? 'checkpoint');
    const workPath = options.workPath ? resolve(options.workPath) : imagePath;
    const mode = cgroupsMode(options.manageCgroupsMode);
    const emptyNs = emptyNamespaces(options.emptyNs);
    const ps = pageServer(options.pageServer);
    const parentImage = options.parentPath;
    if (parentImage !== undefined) {
      // CRIU takes it relative to the images, as runc requires it.
      if (isAbsolute(parentImage)) {
        throw new ContainerError(
          'OPTION_INVALID',
          `--parent-path ${parentImage}: must be relative to --image-path (e.g. ../parent)`,
        );
      }
      if (!isDirectory(resolve(imagePath, parentImage))) {
        throw new ContainerError(
          'OPTION_INVALID',
          `--parent-path ${parentImage}: ${resolve(imagePath, parentImage)} is not a directory of images`,
        );
      }
    }
    const criuPath = options.criuPath ?? 'criu';
    await requireFeatures(criuPath, {
      mem_track: options.preDump,
      lazy_pages: options.lazyPages,
    });
    const imagesFd = openDirectory(imagePath, '--image-path');
    let workFd: number | undefined;
    try {
      workFd = workPath === imagePath ? undefined : openDirectory(workPath, '--work-path');
      // What the init's stdio was: restore reconnects pipes to its own stdio.
      const descriptors = [0, 1, 2].map((fd) => {
        try {
          return readlinkSync(`/proc/${stored.pid}/fd/${fd}`);
        } catch {
          return '';
        }
      });
      writeFileSync(join(imagePath, DESCRIPTORS), JSON.stringify(descriptors));
      const inRoot = (path: string) => `/proc/${stored.pid}/root${path}`;
      const opts: CriuOptions = {
        images_dir_fd: imagesFd,
        pid: stored.pid,
        log_level: 4,
        log_file: options.preDump ? 'pre-dump.log' : 'dump.log',
        root: stored.rootfs,
        ...criuConfigFile(stored.config),
        manage_cgroups: true,
        notify_scripts: true,
        orphan_pts_master: true,
        ...externalNetns(stored.config),
        ext_mnt: [
          ...externalMounts(stored.config, stored.cgroup?.paths, stored.rootfs).map(({ dest }) => ({
            key: dest,
            val: dest,
          })),
          ...(stored.config.linux?.maskedPaths ?? [])
            .filter((path) => {
              try {
                return !statSync(inRoot(path)).isDirectory();
              } catch {
                return false;
              }
            })
            .map((path) => ({ key: path, val: MASK_SOURCE })),
        ],
        ...(workFd !== undefined ? { work_dir_fd: workFd } : {}),
        ...(options.statusFd !== undefined && options.statusFd >= 0
          ? { status_fd: options.statusFd }
          : {}),
        ...(options.leaveRunning || options.preDump ? { leave_running: true } : {}),
        ...(options.preDump ? { track_mem: true } : {}),
        ...(options.tcpEstablished ? { tcp_established: true } : {}),
        ...(options.extUnixSk ? { ext_unix_sk: true } : {}),
        ...(options.shellJob ? { shell_job: true } : {}),
        ...(options.fileLocks ? { file_locks: true } : {}),
        ...(options.autoDedup ? { auto_dedup: true } : {}),
        ...(options.lazyPages ? { lazy_pages: true } : {}),
        ...(parentImage ? { parent_img: parentImage } : {}),
        ...(ps ? { ps } : {}),
        ...(mode !== undefined ? { manage_cgroups_mode: mode } : {}),
        ...(emptyNs !== undefined ? { empty_ns: emptyNs } : {}),
      };
      await callCriu({
        criuPath,
        request: { type: options.preDump ? CriuRequest.PRE_DUMP : CriuRequest.DUMP, opts },
        stdio: ['ignore', 'inherit', 'inherit'],
        logPath: join(workPath, opts.log_file ?? ''),
      });
    } finally {
      closeSync(imagesFd);
      if (workFd !== undefined) closeSync(workFd);
    }
  });
  // Dumped and stopped: the container is gone, as with runc.
  if (!options.leaveRunning && !options.preDump) {
    await runtime.delete(id, { force: true });
  }
}

/** `runc restore`: a new container from a checkpoint's images. */
export async function restoreContainer(
  runtime: Runtime,
  id: string,
  options: RestoreOptions,
): Promise<number> {
  validateContainerId(id);
  const { bundle, spec, rootfs } = loadBundle(options.bundle);
  const terminal = spec.process?.terminal === true;
  // As runc: the restored pty goes to --console-socket when detached, and is
  // relayed to our stdio in the foreground.
  if (options.consoleSocket && !(terminal && options.detach)) {
    throw new ContainerError(
      'OPTION_INVALID',
      `cannot use console socket if runc will not detach or allocate tty (${terminal ? 'restore without --detach relays the terminal' : 'process.terminal is false'})`,
    );
  }
  if (terminal && options.detach && !options.consoleSocket) {
    throw new ContainerError(
      'OPTION_INVALID',
      'cannot allocate tty if runc will detach without setting console socket',
    );
  }
  const relayTerminal = terminal && !options.detach;
  const stdio = resolveStdio(options.stdio);
  let criu: ChildProcess | undefined;
  /** The restored pty's master (relayed in the foreground), once CRIU sends it. */
  let relayMaster: number | undefined;
  const imagePath = resolve(options.imagePath ?? 'checkpoint');
  const workPath = options.workPath ? resolve(options.workPath) : imagePath;
  const mode = cgroupsMode(options.manageCgroupsMode);
  const emptyNs = emptyNamespaces(options.emptyNs);
  if (!existsSync(join(imagePath, 'inventory.img'))) {
    throw new ContainerError(
      'OPTION_INVALID',
      `--image-path ${imagePath}: no checkpoint there (inventory.img is missing)`,
    );
  }
  // CRIU reopens an inherited pipe through /proc/self/fd: it must be a
  // pipe, which a Node stream (connected through a socketpair) is not.
  const pipedStdio = readDescriptors(imagePath)
    .slice(0, 3)
    .map((link) => (link.startsWith('pipe:') ? link : ''));
  if (!relayTerminal) {
    for (const [fd, link] of pipedStdio.entries()) {
      if (link && stdio.spawn[fd] === 'pipe') {
        throw new ContainerError(
          'OPTION_INVALID',
          `stdio.${['stdin', 'stdout', 'stderr'][fd]}: the checkpointed process had a pipe there, which CRIU can only reconnect to a pipe: pass a pipe's fd or 'ignore', not a stream`,
        );
      }
    }
  }
  await requireFeatures(options.criuPath ?? 'criu', { lazy_pages: options.lazyPages });
  const libc = loadLibc();
  if (!options.detach && !options.noSubreaper) {
    const PR_SET_CHILD_SUBREAPER = 36;
    const result = libc.prctl(PR_SET_CHILD_SUBREAPER, 1);
    if (result < 0) {
      throw new ContainerError('CRIU', `cannot become a subreaper: ${describeErrno(-result)}`);
    }
  }
  return runtime.store
    .withLockAsync(
      id,
      async () => {
        runtime.store.createContainerDir(id);
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
        let cgroup: CgroupManager | undefined;
        let restoredPid = 0;
        // CRIU wants the container's root to be a mount point of its own.
        const criuRoot = join(runtime.store.dir(id), 'criu-root');
        let rootMounted = false;
        const extraFds: number[] = [];
        const tempMounts: string[] = [];
        const imagesFd = openDirectory(imagePath, '--image-path');
        let workFd: number | undefined;
        try {
          workFd = workPath === imagePath ? undefined : openDirectory(workPath, '--work-path');
          cgroup = createCgroupManager(id, spec, runtime.options);
          const containerCgroup = cgroup;
          mkdirSync(criuRoot, { mode: 0o755 });
          const MS_BIND = 4096;
          const MS_REC = 16384;
          const mounted = libc.mount(rootfs, criuRoot, '', MS_BIND | MS_REC);
          if (mounted < 0) {
            throw new ContainerError(
              'CRIU',
              `cannot bind ${rootfs} to ${criuRoot}: ${describeErrno(-mounted)}`,
            );
          }
          rootMounted = true;
          // Pipes the dumped init had as stdio become the caller's stdio (CRIU's).
          const inheritFd = pipedStdio.flatMap((link, fd) => (link ? [{ key: link, fd }] : []));
          // A network namespace joined by path was dumped as external: CRIU
          // gets it as its fd 4 (after its socket).
          const netns = joinedNetns(spec);
          if (netns) {
            extraFds.push(openSync(netns, fsConstants.O_RDONLY));
            inheritFd.push({ key: EXTERNAL_NETNS, fd: 3 + extraFds.length });
          }
          // Bind mounts' mount points, nested ones too, made as runc makes
          // them: each source bound on its destination for the time of the
          // restore, so that the next one's mount point can be created in it.
          tempMounts.push(...prepareRestoreMountpoints(spec, rootfs, bundle));
          const opts: CriuOptions = {
            images_dir_fd: imagesFd,
            log_level: 4,
            log_file: 'restore.log',
            root: criuRoot,
            ...criuConfigFile(spec),
            manage_cgroups: true,
            notify_scripts: true,
            rst_sibling: true,
            ...(workFd !== undefined ? { work_dir_fd: workFd } : {}),
            ...(terminal ? { orphan_pts_master: true } : {}),
            ...(inheritFd.length > 0 ? { inherit_fd: inheritFd } : {}),
            ...(options.tcpEstablished ? { tcp_established: true } : {}),
            ...(options.extUnixSk ? { ext_unix_sk: true } : {}),
            ...(options.shellJob ? { shell_job: true } : {}),
            ...(options.fileLocks ? { file_locks: true } : {}),
            ...(options.autoDedup ? { auto_dedup: true } : {}),
            ...(options.lazyPages ? { lazy_pages: true } : {}),
            ...(options.lsmProfile ? { lsm_profile: options.lsmProfile } : {}),
            ...(options.lsmMountContext ? { lsm_mount_context: options.lsmMountContext } : {}),
            ...(mode !== undefined ? { manage_cgroups_mode: mode } : {}),
            ...(emptyNs !== undefined ? { empty_ns: emptyNs } : {}),
          };
          const response = await callCriu({
            criuPath: options.criuPath ?? 'criu',
            request: { type: CriuRequest.RESTORE, opts },
            // CRIU's stdio are what inherit_fd hands the restored pipes; with a
            // relayed terminal the relay has the caller's streams instead.
            stdio: relayTerminal
              ? stdio.spawn.map((target) => (target === 'pipe' ? 'ignore' : target))
              : stdio.spawn,
            onSpawn: (child) => {
              criu = child;
              if (!relayTerminal) stdio.attach(child);
            },
            extraFds,
            logPath: join(workPath, 'restore.log'),
            onStart: async (criuPid) => {
              // The restored processes are CRIU's children: they start in its cgroup.
              await joinContainerCgroup(containerCgroup, criuPid, spec, runtime.options);
              stored.cgroup = containerCgroup.state();
              const paths = stored.cgroup.paths;
              // The directories the dump bound from the old cgroup are this one's now.
              opts.ext_mnt = [
                ...externalMounts(spec, paths, rootfs).map(({ dest, source }) => ({
                  key: dest,
                  val: hostPath(bundle, source),
                })),
                { key: MASK_SOURCE, val: MASK_SOURCE },
              ];
              const v1 = Object.entries(paths).filter(([controller]) => controller !== '');
              opts.cg_root = v1.length
                ? v1.map(([controller, path]) => ({
                    ctrl: controller,
                    path: path.replace(/^\/sys\/fs\/cgroup\/[^/]+/, '') || '/',
                  }))
                : paths['']
                  ? [{ path: paths[''].replace(/^\/sys\/fs\/cgroup/, '') || '/' }]
                  : [];
            },
            onNotify: async (script, pid, fds) => {
              if (script === 'orphan-pts-master' && terminal) {
                const master = fds[0];
                if (master === undefined) {
                  throw new ContainerError(
                    'CRIU',
                    'CRIU sent no pty master with orphan-pts-master',
                  );
                }
                if (options.consoleSocket)
                  sendFdToSocket(options.consoleSocket, master, '/dev/ptmx');
                else relayMaster = keepFd(master, 'the restored pty master');
              } else if (script === 'setup-namespaces') {
                stored.pid = pid;
                const state = runtime.ociState(stored, 'creating');
                await runHooksAsync('prestart', spec.hooks?.prestart, state);
                await runHooksAsync('createRuntime', spec.hooks?.createRuntime, state);
              } else if (script === 'post-restore') {
                restoredPid = pid;
                stored.pid = pid;
                stored.pidStartTime = readProcessStat(pid)?.startTime ?? '';
                runtime.store.write(stored);
                if (options.pidFile) writePidFile(options.pidFile, pid);
              }
            },
          });
          if (!restoredPid && response.restore) {
            restoredPid = response.restore.pid;
            stored.pid = restoredPid;
            stored.pidStartTime = readProcessStat(restoredPid)?.startTime ?? '';
            runtime.store.write(stored);
            if (options.pidFile) writePidFile(options.pidFile, restoredPid);
          }
          if (relayTerminal && relayMaster === undefined) {
            throw new ContainerError(
              'CRIU',
              'CRIU restored a terminal container without sending its pty master (orphan-pts-master)',
            );
          }
        } catch (error) {
          if (relayMaster !== undefined) closeSync(relayMaster);
          if (restoredPid > 0) await killAndReap(restoredPid, undefined, runtime.host);
          await destroyQuietly(cgroup, (warning) => runtime.report(warning));
          if (rootMounted) unmountQuietly(criuRoot);
          runtime.store.removeContainerDir(id);
          throw error;
        } finally {
          closeSync(imagesFd);
          if (workFd !== undefined) closeSync(workFd);
          for (const fd of extraFds) closeSync(fd);
          for (const target of tempMounts.reverse()) loadLibc().umount2(target, 2);
        }
        if (rootMounted) unmountQuietly(criuRoot);
        try {
          await runHooksAsync(
            'poststart',
            spec.hooks?.poststart,
            runtime.ociState(stored, 'running'),
          );
        } catch (error) {
          runtime.report({ code: 'HOOK', message: (error as Error).message, cause: error });
        }
        return restoredPid;
      },
      { signal: options.signal },
    )
    .then(async (pid) => {
      if (options.detach) return 0;
      const relay =
        relayMaster === undefined
          ? undefined
          : startConsoleRelay(runtime, await runtime.executorPath(), relayMaster, pid, stdio);
      try {
        const code = await waitForRestored(pid, relay?.child, {
          forwardSignals: options.forwardSignals,
          signal: options.signal,
          what: `restore: waiting for container ${id}`,
        });
        // The relay ends once the process has and the pty has no more output;
        // piped stdio once the caller's streams have all of it.
        await relay?.done;
        if (criu && !relay) await stdio.drained(criu);
        return code;
      } finally {
        await runtime.delete(id, { force: true });
      }
    });
}

function readDescriptors(imagePath: string): string[] {
  try {
    const parsed = JSON.parse(readFileSync(join(imagePath, DESCRIPTORS), 'utf8')) as unknown;
    return Array.isArray(parsed) ? parsed.map(String) : [];
  } catch {
    return [];
  }
}

/** A bind source as create mounted it (bindSourcePath), symlinks resolved as the kernel did. */
function hostPath(bundle: string, source: string): string {
  const path = bindSourcePath(bundle, source);
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function unmountQuietly(target: string): void {
  const MNT_DETACH = 2;
  loadLibc().umount2(target, MNT_DETACH);
  try {
    rmdirSync(target);
  } catch {
    // Still busy: removed with the container's directory.
  }
}

/** A CLOEXEC copy of an fd whose original its owner closes. */
function keepFd(fd: number, what: string): number {
  const F_DUPFD_CLOEXEC = 1030;
  const copy = loadLibc().fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (copy < 0) throw new ContainerError('CRIU', `cannot keep ${what}: ${describeErrno(-copy)}`);
  return copy;
}

/**
 * Relays our stdio to a restored container's pty, as `run` does in the
 * foreground: the executor's console relay (`runc-ts-init --console-relay`,
 * native/PROTOCOL.md) gets the master as its fd 3 and copies until `pid`
 * has exited and the pty has no more output. Our copy of the master is
 * closed here.
 */
function startConsoleRelay(
  runtime: Runtime,
  initPath: string,
  master: number,
  pid: number,
  stdio: ResolvedStdio,
): { child: ChildProcess; done: Promise<void> } {
  let child: ChildProcess;
  try {
    child = spawn(initPath, ['--console-relay', String(pid)], {
      stdio: [...stdio.spawn, master],
      env: {},
    });
  } finally {
    closeSync(master);
  }
  stdio.attach(child);
  const done = new Promise<void>((resolveDone) => {
    child.once('error', (error) => {
      runtime.report({
        code: 'TERMINAL',
        message: `cannot relay the restored terminal (${initPath}): ${error.message}`,
        cause: error,
      });
      resolveDone();
    });
    child.once('exit', () => resolveDone(stdio.drained(child)));
  });
  return { child, done };
}

/**
 * Waits for the restored init (our child: CRIU restored it as its sibling)
 * and returns its status as runc does (128 + signal). Only with
 * `forwardSignals` does it install handlers on this process, forwarding
 * signals to the init (SIGWINCH to the console relay, which resizes the
 * pty); `signal` aborting SIGKILLs the init and rejects with ABORTED.
 */
async function waitForRestored(
  pid: number,
  relay: ChildProcess | undefined,
  options: { forwardSignals?: boolean; signal?: AbortSignal; what: string },
): Promise<number> {
  const libc = loadLibc();
  const P_PID = 1;
  const WEXITED = 4;
  const WNOHANG = 1;
  const CLD_EXITED = 1;
  const forward = (signal: NodeJS.Signals) => {
    try {
      if (signal === 'SIGWINCH') relay?.kill('SIGWINCH');
      else process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  };
  if (options.forwardSignals) for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
  const abortSignal = options.signal;
  let killed = false;
  const exited = (status: number) => {
    if (killed && abortSignal) throw abortedError(abortSignal, options.what);
    return status;
  };
  try {
    const info = Buffer.alloc(128);
    for (;;) {
      if (abortSignal?.aborted && !killed) {
        // Reaped below like any exit, then reported as ABORTED.
        killed = true;
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      info.fill(0);
      const result = libc.waitid(P_PID, pid, info, WEXITED | WNOHANG);
      if (result < 0) {
        // Not our child after all (a subreaper elsewhere reaped it): poll.
        if (!isProcessAlive(pid)) return exited(0);
      } else if (info.readInt32LE(16) === pid) {
        // siginfo_t: si_code at 8; for SIGCHLD si_pid at 16, si_status at 24.
        const code = info.readInt32LE(8);
        const status = info.readInt32LE(24);
        return exited(code === CLD_EXITED ? status : 128 + status);
      }
      await new Promise((resolveTimer) => setTimeout(resolveTimer, 10));
    }
  } finally {
    if (options.forwardSignals) {
      for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
    }
  }
}
