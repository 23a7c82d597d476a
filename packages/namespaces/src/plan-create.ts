// config.json -> the executor plan of `runc create` (native/PROTOCOL.md).
//
// Shape of the plan (libcontainer answers the SYNCs in this order):
//
//   OPEN_FIFO                   as the runtime's user, before any namespace
//   SETNS…                      namespaces with a path; user first, mount last
//   UNSHARE(user) SYNC(USERNS)  new user namespace; the parent writes the maps
//   UNSHARE(…)                  every other new namespace but cgroup
//   OPEN_MOUNT_SOURCE…          with a user namespace: bind sources, still as
//                               the runtime's uid; then SETGID/SETUID 0
//   FORK                        always (see below)
//   SYNC(CGROUP)                the parent moves the init into the cgroup
//   PIDFD_SOCKET                --pidfd-socket: the init sends a pidfd of itself
//   UNSHARE(cgroup)             after the move, so the namespace's root is the
//                               container's cgroup, not the runtime's
//   ROOTFS MOUNT… devices       MOUNT_IDMAPPED for id-mapped binds: the executor's
//                               helper, forked before any op, id-maps the source
//   SYNC(HOOKS)                 prestart/createRuntime/createContainer hooks
//   PIVOT_ROOT | MOVE_ROOT
//   HOSTNAME DOMAINNAME SYSCTL… READONLY… MASK… REMOUNT(/ ro) UMASK
//   KEYRING, CONSOLE | SETSID, limits, LSM labels, creds, caps,
//   RESOLVE_EXEC READY WAIT_FIFO CLOSE_FDS EXEC (DEFAULT_HOME, CHDIR before
//                               the credentials; TTY_OWNER after CONSOLE)
//   SECCOMP | SYNC(SECCOMP) SECCOMP_NOTIFY: before the credentials without
//   no_new_privs, else right before READY (see seccompOps)

import { posix } from 'node:path';
import type { Hook, Mount, Process, Spec } from '@runc-ts/spec';
import { capabilityMask } from './capabilities.js';
import { execCpuAffinity, initAffinityOp, memoryPolicyOp } from './cpu-numa.js';
import { cleanPath, deviceOps, mergeDevices } from './devices.js';
import { PlanError } from './errors.js';
import { type ContainerUserns, containerUserns, mountIdmap } from './idmap.js';
import { checkEncodable, checkPlanSize, largestList } from './limits.js';
import {
  MS_BIND,
  MS_NOATIME,
  MS_NODEV,
  MS_NODIRATIME,
  MS_NOEXEC,
  MS_NOSUID,
  MS_NOSYMFOLLOW,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_RELATIME,
  MS_REMOUNT,
  MS_SHARED,
  MS_SLAVE,
  MS_STRICTATIME,
  MS_UNBINDABLE,
  parseMountOptions,
} from './mount-options.js';
import {
  CLONE_NEWCGROUP,
  CLONE_NEWUSER,
  type NamespacePlan,
  planNamespaces,
} from './namespaces.js';
import { netDeviceOps } from './net-devices.js';
import { type Op, op, SyncKind } from './plan.js';
import { planRlimits } from './rlimits.js';

export interface PlanContext {
  /** Absolute host path of the rootfs. */
  rootfs: string;
  /** Absolute host path of <state>/exec.fifo. */
  fifoPath: string;
  containerId: string;
  /** --no-pivot */
  noPivot: boolean;
  /** --no-new-keyring */
  noNewKeyring: boolean;
  /** Number of extra fds (3..3+n-1) the container keeps (--preserve-fds). */
  preserveFds: number;
  /**
   * Foreground `run`: the executor's first process stays the init's parent
   * and exits with its status (FORK mode 1). Default: it exits at once.
   */
  waitForInit?: boolean;
  /** --console-socket path (host); used only when process.terminal. */
  consoleSocket?: string;
  /** --pidfd-socket path (host): receives a pidfd of the init (data `standard`, as runc's). */
  pidfdSocket?: string;
  /** Absolute host path of the bundle: relative bind-mount sources are resolved against it. */
  bundle?: string;
  /** Whether a bind-mount source (absolute host path) is a file, not a directory. Default: no. */
  sourceIsFile?: (path: string) => boolean;
  /** The host runs cgroup v2 (unified): `cgroup` mounts become cgroup2 mounts. Default false. */
  cgroupV2?: boolean;
  /**
   * cgroup v1 hierarchies to mount under a `cgroup` mount, as the host names
   * them (`cpu,cpuacct`, `memory`, `name=systemd`). Default none.
   */
  cgroupV1Controllers?: string[];
  /**
   * The host directories of the container's cgroup, keyed as the cgroup
   * manager's paths (`memory`, `cpu`, `name=systemd`; `''` for cgroup2).
   * Without a new cgroup namespace these are bind-mounted: a cgroup mount
   * there would show the host's whole hierarchy (and fails in a user
   * namespace). Default none: cgroup mounts then.
   */
  cgroupPaths?: Record<string, string>;
  /** The runtime runs with a non-root euid (rootless): supplementary groups cannot be set. */
  rootless?: boolean;
  /**
   * setgroups(2) is denied in the runtime's user namespace (its
   * /proc/self/setgroups says `deny`, as `unshare --map-root-user` leaves it;
   * new user namespaces inherit that): supplementary groups cannot be set.
   */
  setgroupsDenied?: boolean;
  /** The host has /proc/kcore: runc then adds the /dev/core symlink. Default false. */
  hostHasKcore?: boolean;
  /**
   * The runtime itself runs in a user namespace other than the initial one
   * (rootless podman's, rootlesskit's): there mknod(2) fails even for its
   * root, so devices are bind-mounted as in a container's own user namespace.
   */
  runtimeInUserNamespace?: boolean;
  /** SELinux is enabled on the host: linux.mountLabel is applied to filesystem mounts. */
  selinuxEnabled?: boolean;
  /**
   * linux.seccomp compiled (by libcontainer, with @runc-ts/seccomp): required
   * when the config has linux.seccomp. The planner only places it.
   */
  seccomp?: SeccompPlan;
  /** Receives what runc logs as warnings (unknown capability names, which are skipped). */
  warn?: (message: string) => void;
  /** The kernel's last capability number: names above it are skipped as unavailable. */
  lastCap?: number;
}

/** A compiled linux.seccomp, as the plan carries it. */
export interface SeccompPlan {
  /** `struct sock_filter[]`. */
  program: Uint8Array;
  /** seccomp(2) flags; with SECCOMP_FILTER_FLAG_NEW_LISTENER the listener goes to `listenerPath`. */
  flags: number;
  /** The seccomp agent's unix socket (a host path): for filters with SCMP_ACT_NOTIFY rules. */
  listenerPath?: string;
}

const SECCOMP_FILTER_FLAG_NEW_LISTENER = 8;

/** PATH used to find process.args[0] when process.env has none (runc's, and Go's). */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The umask runc gives the container process when process.user.umask is absent. */
export const DEFAULT_UMASK = 0o022;

/** linux.rootfsPropagation as runc reads it: the r* forms are recursive. */
const ROOTFS_PROPAGATION = {
  private: MS_PRIVATE,
  rprivate: MS_PRIVATE | MS_REC,
  shared: MS_SHARED,
  rshared: MS_SHARED | MS_REC,
  slave: MS_SLAVE,
  rslave: MS_SLAVE | MS_REC,
  unbindable: MS_UNBINDABLE,
  runbindable: MS_UNBINDABLE | MS_REC,
} as const;

const SCHED_POLICIES = {
  SCHED_OTHER: 0,
  SCHED_FIFO: 1,
  SCHED_RR: 2,
  SCHED_BATCH: 3,
  SCHED_ISO: 4,
  SCHED_IDLE: 5,
  SCHED_DEADLINE: 6,
} as const;

const SCHED_FLAGS = {
  SCHED_FLAG_RESET_ON_FORK: 0x01,
  SCHED_FLAG_RECLAIM: 0x02,
  SCHED_FLAG_DL_OVERRUN: 0x04,
  SCHED_FLAG_KEEP_POLICY: 0x08,
  SCHED_FLAG_KEEP_PARAMS: 0x10,
  SCHED_FLAG_UTIL_CLAMP_MIN: 0x20,
  SCHED_FLAG_UTIL_CLAMP_MAX: 0x40,
} as const;

const IOPRIO_CLASSES = { IOPRIO_CLASS_RT: 1, IOPRIO_CLASS_BE: 2, IOPRIO_CLASS_IDLE: 3 } as const;

const PERSONALITY_DOMAINS = { LINUX: 0, LINUX32: 8 } as const;

/**
 * The flag bits of personality(2) (linux/personality.h), by the names the
 * runtime-spec's `linux.personality.flags` uses. runc only warns and drops
 * them; here they are applied, and a name the kernel does not have is refused.
 */
const PERSONALITY_FLAGS: Readonly<Record<string, number>> = {
  UNAME26: 0x0020000,
  ADDR_NO_RANDOMIZE: 0x0040000,
  FDPIC_FUNCPTRS: 0x0080000,
  MMAP_PAGE_ZERO: 0x0100000,
  ADDR_COMPAT_LAYOUT: 0x0200000,
  READ_IMPLIES_EXEC: 0x0400000,
  ADDR_LIMIT_32BIT: 0x0800000,
  SHORT_INODE: 0x1000000,
  WHOLE_SECONDS: 0x2000000,
  STICKY_TIMEOUTS: 0x4000000,
  ADDR_LIMIT_3GB: 0x8000000,
};

/**
 * Destinations inside /proc that may be mounted over (the files lxcfs
 * emulates). Anything else under /proc could hide or redirect the kernel's
 * security interfaces (/proc/self/attr, /proc/sys…), so it is refused.
 */
const PROC_MOUNT_ALLOWED = new Set([
  '/proc/cpuinfo',
  '/proc/diskstats',
  '/proc/meminfo',
  '/proc/stat',
  '/proc/swaps',
  '/proc/uptime',
  '/proc/loadavg',
  '/proc/slabinfo',
  '/proc/net/dev',
  '/proc/sys/kernel/ns_last_pid',
]);

/** Sysctls that belong to the IPC namespace. */
const IPC_SYSCTLS = new Set([
  'kernel.msgmax',
  'kernel.msgmnb',
  'kernel.msgmni',
  'kernel.sem',
  'kernel.shmall',
  'kernel.shmmax',
  'kernel.shmmni',
  'kernel.shm_rmid_forced',
]);

function requireProcess(spec: Spec): Process {
  const process = spec.process;
  if (process === undefined) {
    throw new PlanError('PROCESS_INVALID', 'process', 'required to create a container');
  }
  if (process.args === undefined || process.args.length === 0) {
    throw new PlanError('PROCESS_INVALID', 'process.args', 'must name the program to run');
  }
  if (process.args[0] === '') {
    throw new PlanError('PROCESS_INVALID', 'process.args[0]', 'must not be empty');
  }
  if (!process.cwd.startsWith('/')) {
    throw new PlanError(
      'PROCESS_INVALID',
      'process.cwd',
      `${JSON.stringify(process.cwd)} must be an absolute path`,
    );
  }
  return process;
}

// ---------------------------------------------------------------- mounts

interface MountContext {
  ctx: PlanContext;
  mountLabel: string | undefined;
  /** The container gets its own cgroup namespace. */
  newCgroupNs: boolean;
  /** The container gets its own user namespace. */
  newUserNs: boolean;
  /** The container's user namespace: the mapping of `idmap` mounts without their own. */
  userns: ContainerUserns;
}

/** An absolute, clean container path; relative destinations are taken from `/` (as runc does). */
function containerPath(path: string): string {
  return cleanPath(path.startsWith('/') ? path : `/${path}`);
}

function checkProcDestination(mount: Mount, dest: string, isBind: boolean, where: string): void {
  if (dest === '/proc') {
    if (!isBind && mount.type !== 'proc') {
      throw new PlanError(
        'MOUNT_INVALID',
        `${where}.type`,
        `/proc can only be mounted with type "proc", not "${mount.type}"`,
      );
    }
    return;
  }
  if (dest.startsWith('/proc/') && !PROC_MOUNT_ALLOWED.has(dest)) {
    throw new PlanError(
      'MOUNT_INVALID',
      `${where}.destination`,
      `"${dest}" cannot be mounted because it is inside /proc`,
    );
  }
}

function bindSource(mount: Mount, where: string, ctx: PlanContext): string {
  const source = mount.source ?? '';
  if (source === '') {
    throw new PlanError('MOUNT_INVALID', `${where}.source`, 'a bind mount needs a source');
  }
  if (!source.startsWith('/') && ctx.bundle === undefined) {
    throw new PlanError(
      'MOUNT_INVALID',
      `${where}.source`,
      `relative bind source ${JSON.stringify(source)} needs the bundle directory`,
    );
  }
  return bindSourcePath(ctx.bundle ?? '/', source);
}

/**
 * The host path of a bind mount's source as the config names it: a relative
 * one is relative to the bundle directory (runtime-spec), for create and for
 * restore alike.
 */
export function bindSourcePath(bundle: string, source: string): string {
  return source.startsWith('/') ? posix.normalize(source) : posix.resolve(bundle, source);
}

/** A bind mount of a host cgroup directory with the flags of the cgroup mount. */
function cgroupBindOps(source: string, dest: string, flags: number): Op[] {
  return [op('MOUNT', source, dest, '', MS_BIND, '', 1), op('REMOUNT', dest, MS_BIND | flags)];
}

function cgroupMountOps(
  mount: Mount,
  dest: string,
  flags: number,
  data: string,
  mc: MountContext,
): Op[] {
  const { ctx } = mc;
  // Without its own cgroup namespace the container sees its own cgroup
  // directory only, bound from the host.
  const bindFrom = mc.newCgroupNs ? undefined : ctx.cgroupPaths;
  if (ctx.cgroupV2) {
    // A cgroup2 mount shows the host's whole tree then, as runc's does; in a
    // user namespace it is refused (EPERM): bind the container's directory.
    const own = bindFrom?.[''];
    if (mc.newUserNs && own) return cgroupBindOps(own, dest, flags);
    // Read-only through a remount: in a user namespace a read-only mount of
    // the (read-write) cgroup2 superblock fails with EBUSY.
    const mountFlags = flags & ~MS_RDONLY;
    const ops = [op('MOUNT', mount.source || 'cgroup2', dest, 'cgroup2', mountFlags, data, 1)];
    if (flags & MS_RDONLY) ops.push(op('REMOUNT', dest, MS_BIND | flags));
    return ops;
  }
  // cgroup v1: a tmpfs holding one directory per hierarchy, each a cgroup
  // mount of that hierarchy (or a bind of the container's directory in it);
  // co-mounted controllers (cpu,cpuacct) also get a symlink per controller.
  // The tmpfs is made read-only last when asked.
  const base = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  const ops: Op[] = [op('MOUNT', 'tmpfs', dest, 'tmpfs', base, 'mode=755', 1)];
  const links: Op[] = [];
  for (const hierarchy of ctx.cgroupV1Controllers ?? []) {
    const dir = hierarchy.startsWith('name=') ? hierarchy.slice('name='.length) : hierarchy;
    const own =
      bindFrom?.[hierarchy.startsWith('name=') ? hierarchy : (hierarchy.split(',')[0] ?? '')];
    // With bindFrom, a hierarchy without a directory of the container is left out.
    if (own) ops.push(...cgroupBindOps(own, `${dest}/${dir}`, flags));
    else if (bindFrom) continue;
    else ops.push(op('MOUNT', 'cgroup', `${dest}/${dir}`, 'cgroup', flags, hierarchy, 1));
    const controllers = hierarchy.startsWith('name=') ? [] : hierarchy.split(',');
    if (controllers.length > 1) {
      for (const controller of controllers) {
        links.push(op('SYMLINK', dir, `${dest}/${controller}`));
      }
    }
  }
  ops.push(...links);
  if (flags & MS_RDONLY) ops.push(op('REMOUNT', dest, base | MS_RDONLY));
  return ops;
}

/** The ops of one mounts[] entry. */
function mountOps(mount: Mount, index: number, mc: MountContext): Op[] {
  const where = `mounts[${index}]`;
  const { ctx } = mc;
  const options = mount.options ?? [];
  const dest = containerPath(mount.destination);
  const requested = parseMountOptions(options);
  // A read-only /dev is mounted read-write: devpts, the device nodes and the
  // console go below it first; devReadonlyOp makes it read-only after them.
  const parsed =
    dest === '/dev' ? { ...requested, flags: requested.flags & ~MS_RDONLY } : requested;
  // Any type given with bind/rbind is meaningless; type "bind" alone is
  // taken as a bind mount too (what the author means; mount(2) has no such
  // filesystem).
  const isBind = (parsed.flags & MS_BIND) !== 0 || mount.type === 'bind';
  checkProcDestination(mount, dest, isBind, where);
  const idmap = mountIdmap(mount, where, isBind, (parsed.flags & MS_REC) !== 0, {
    userns: mc.userns,
    rootless: ctx.rootless === true,
  });

  const copyup = parsed.extensions.tmpcopyup === true;
  if (copyup && (isBind || mount.type !== 'tmpfs')) {
    throw new PlanError(
      'MOUNT_INVALID',
      `${where}.options[${options.indexOf('tmpcopyup')}]`,
      '"tmpcopyup" copies the covered directory into a new tmpfs: it applies to tmpfs mounts only',
    );
  }
  const ops: Op[] = [];
  if (isBind) {
    const source = bindSource(mount, where, ctx);
    const create = ctx.sourceIsFile?.(source) ? 2 : 1;
    if (idmap) {
      const { flags, uidMap, gidMap, usernsPath } = idmap;
      ops.push(op('MOUNT_IDMAPPED', source, dest, flags, uidMap, gidMap, usernsPath, create));
    } else {
      ops.push(op('MOUNT', source, dest, '', MS_BIND | (parsed.flags & MS_REC), '', create));
    }
    // A bind mount takes the source's flags; the requested ones need a
    // remount (MS_REC is meaningless there, MS_REMOUNT is implied).
    const remount = parsed.flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
    if (remount !== 0 || parsed.clearFlags !== 0) {
      ops.push(op('BIND_REMOUNT', dest, MS_BIND | remount, parsed.clearFlags));
    }
  } else {
    const type = mount.type ?? '';
    if (type === '' || type === 'none') {
      throw new PlanError(
        'MOUNT_INVALID',
        `${where}.type`,
        'a mount that is not a bind mount (options bind/rbind) needs a filesystem type',
      );
    }
    const data = [...parsed.data];
    if (mc.mountLabel && !['proc', 'sysfs', 'mqueue', 'cgroup', 'cgroup2'].includes(type)) {
      data.push(`context="${mc.mountLabel}"`);
    }
    if (type === 'cgroup') {
      ops.push(...cgroupMountOps(mount, dest, parsed.flags, data.join(','), mc));
    } else if (type === 'tmpfs' && (copyup || !data.some((o) => o.startsWith('mode=')))) {
      // The executor knows whether the directory exists: an existing one
      // lends the tmpfs its mode (runc >= 1.1.8), a created one leaves the
      // kernel's 1777; tmpcopyup fills the tmpfs with its content.
      const source = mount.source ?? '';
      ops.push(op('MOUNT_TMPFS', source, dest, parsed.flags, data.join(','), copyup ? 1 : 0));
    } else {
      ops.push(op('MOUNT', mount.source ?? '', dest, type, parsed.flags, data.join(','), 1));
    }
  }
  for (const propagation of parsed.propagation) ops.push(op('PROPAGATE', dest, propagation));
  if (parsed.recursiveAttr) {
    ops.push(op('SETATTR', dest, parsed.attrSet, parsed.attrClear, 1));
  }
  return ops;
}

/** Per-mount flags a bind remount sets (the others it clears). */
const PER_MOUNT_FLAGS =
  MS_RDONLY |
  MS_NOSUID |
  MS_NODEV |
  MS_NOEXEC |
  MS_NOATIME |
  MS_NODIRATIME |
  MS_RELATIME |
  MS_STRICTATIME |
  MS_NOSYMFOLLOW;

/**
 * The remount that makes a read-only /dev mount read-only, once everything
 * below it exists (runc does it last too); its other per-mount flags stay.
 */
function devReadonlyOp(mounts: readonly Mount[]): Op | undefined {
  const dev = mounts.findLast((m) => containerPath(m.destination) === '/dev');
  if (!dev) return undefined;
  const { flags } = parseMountOptions(dev.options ?? []);
  if ((flags & MS_RDONLY) === 0) return undefined;
  return op('REMOUNT', '/dev', MS_BIND | (flags & PER_MOUNT_FLAGS));
}

function isBindMount(mount: Mount): boolean {
  return mount.type === 'bind' || (mount.options ?? []).some((o) => o === 'bind' || o === 'rbind');
}

/** OPEN_MOUNT_SOURCE for every distinct bind source (their MOUNT ops then use the fds). */
function mountSourceOps(spec: Spec, ctx: PlanContext): Op[] {
  const sources = new Set<string>();
  (spec.mounts ?? []).forEach((mount, i) => {
    if (isBindMount(mount)) sources.add(bindSource(mount, `mounts[${i}]`, ctx));
  });
  return [...sources].map((source) => op('OPEN_MOUNT_SOURCE', source));
}

// ---------------------------------------------------------------- linux.*

/**
 * hostname and domainname need a UTS namespace of the container, new or
 * joined by path: in a joined one they are set there, as runc and crun do.
 * Without one they would be the host's.
 */
function checkUts(spec: Spec, ns: NamespacePlan): void {
  for (const field of ['hostname', 'domainname'] as const) {
    if (spec[field] && !ns.has('uts')) {
      throw new PlanError(
        'HOSTNAME_INVALID',
        field,
        `${field} is set but the container has no UTS namespace (add {"type": "uts"} to linux.namespaces)`,
      );
    }
  }
}

/**
 * A container without a mount entry in linux.namespaces shares the
 * runtime's mount namespace (the runtime-spec: a namespace type that is not
 * listed is inherited): its mounts are made there under the rootfs and stay
 * after it exits, and it gets its root by chroot, as with runc and crun.
 * Masking or making read-only a path of its /proc or /sys is refused, as
 * runc refuses it.
 */
function checkMountNamespace(spec: Spec, ns: NamespacePlan): void {
  if (ns.has('mount')) return;
  for (const field of ['maskedPaths', 'readonlyPaths'] as const) {
    if ((spec.linux?.[field] ?? []).length > 0) {
      throw new PlanError(
        'NAMESPACE_INVALID',
        `linux.${field}`,
        'unable to restrict sys entries without a private MNT namespace',
      );
    }
  }
}

function sysctlOps(spec: Spec, ns: NamespacePlan): Op[] {
  const sysctl = spec.linux?.sysctl ?? {};
  return Object.keys(sysctl)
    .sort()
    .map((key) => {
      const where = `linux.sysctl[${JSON.stringify(key)}]`;
      if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(key)) {
        throw new PlanError(
          'SYSCTL_INVALID',
          where,
          'a sysctl name is dot-separated words (letters, digits, _ and -)',
        );
      }
      const notNamespaced = (needed: string) =>
        new PlanError(
          'SYSCTL_INVALID',
          where,
          `sysctl "${key}" belongs to the ${needed} namespace, which linux.namespaces does not have`,
        );
      if (key === 'kernel.hostname') {
        throw new PlanError('SYSCTL_INVALID', where, 'use the "hostname" field instead');
      }
      if (key === 'kernel.domainname') {
        if (!ns.has('uts')) throw notNamespaced('uts');
      } else if (IPC_SYSCTLS.has(key) || key.startsWith('fs.mqueue.')) {
        if (!ns.has('ipc')) throw notNamespaced('ipc');
      } else if (key.startsWith('net.')) {
        if (!ns.has('network')) throw notNamespaced('network');
      } else {
        throw new PlanError(
          'SYSCTL_INVALID',
          where,
          `sysctl "${key}" is not in a separate kernel namespace: setting it would change the host`,
        );
      }
      return op('SYSCTL', key, sysctl[key] ?? '');
    });
}

function pathOps(
  paths: readonly string[] | undefined,
  field: string,
  name: 'MASK' | 'READONLY',
): Op[] {
  return (paths ?? []).map((path, i) => {
    if (!path.startsWith('/')) {
      throw new PlanError(
        'PATH_INVALID',
        `${field}[${i}]`,
        `${JSON.stringify(path)} must be an absolute path`,
      );
    }
    return op(name, path);
  });
}

// ---------------------------------------------------------------- process

export function schedOp(process: Process): Op | undefined {
  const sched = process.scheduler;
  if (sched === undefined) return undefined;
  const where = 'process.scheduler';
  const policy = SCHED_POLICIES[sched.policy];
  const nice = sched.nice ?? 0;
  const priority = sched.priority ?? 0;
  if (nice < -20 || nice > 19) {
    throw new PlanError('PROCESS_INVALID', `${where}.nice`, `${nice} is not in -20..19`);
  }
  if (priority !== 0 && sched.policy !== 'SCHED_FIFO' && sched.policy !== 'SCHED_RR') {
    throw new PlanError(
      'PROCESS_INVALID',
      `${where}.priority`,
      'can only be set with policy SCHED_FIFO or SCHED_RR',
    );
  }
  const runtime = sched.runtime ?? 0;
  const deadline = sched.deadline ?? 0;
  const period = sched.period ?? 0;
  if (sched.policy !== 'SCHED_DEADLINE' && (runtime || deadline || period)) {
    throw new PlanError(
      'PROCESS_INVALID',
      where,
      'runtime, deadline and period can only be set with policy SCHED_DEADLINE',
    );
  }
  const flags = (sched.flags ?? []).reduce((acc, flag) => acc | SCHED_FLAGS[flag], 0);
  return op(
    'SCHED',
    policy,
    flags,
    nice,
    priority,
    BigInt(runtime),
    BigInt(deadline),
    BigInt(period),
  );
}

export function ioprioOp(process: Process): Op | undefined {
  const io = process.ioPriority;
  if (io === undefined) return undefined;
  const priority = io.priority ?? 0;
  if (priority < 0 || priority > 7) {
    throw new PlanError(
      'PROCESS_INVALID',
      'process.ioPriority.priority',
      `${priority} is not in 0..7`,
    );
  }
  return op('IOPRIO', (IOPRIO_CLASSES[io.class] << 13) | priority);
}

export function personalityOp(spec: Spec): Op | undefined {
  const personality = spec.linux?.personality;
  if (personality === undefined) return undefined;
  let persona: number = PERSONALITY_DOMAINS[personality.domain ?? 'LINUX'];
  (personality.flags ?? []).forEach((name, i) => {
    const bit = Object.hasOwn(PERSONALITY_FLAGS, name) ? PERSONALITY_FLAGS[name] : undefined;
    if (bit === undefined) {
      throw new PlanError(
        'PERSONALITY_INVALID',
        `linux.personality.flags[${i}]`,
        `unknown personality flag ${JSON.stringify(name)} (known: ${Object.keys(PERSONALITY_FLAGS).join(', ')})`,
      );
    }
    persona |= bit;
  });
  return op('PERSONALITY', persona);
}

function isMapped(
  id: number,
  mappings: readonly { containerID: number; size: number }[] | undefined,
): boolean {
  return (mappings ?? []).some((m) => id >= m.containerID && id - m.containerID < m.size);
}

/**
 * When the runtime cannot call setgroups(2) for the container's processes:
 * the error for additionalGids, saying why; undefined when it can.
 */
export function setgroupsUnavailable(ctx: {
  rootless?: boolean;
  setgroupsDenied?: boolean;
}): string | undefined {
  if (ctx.rootless) return 'cannot set additional groups in a rootless container';
  if (ctx.setgroupsDenied) {
    return 'cannot set additional groups: setgroups(2) is denied in the user namespace the runtime runs in (/proc/self/setgroups says deny)';
  }
  return undefined;
}

/**
 * SETGROUPS/SETGID/SETUID, with the ids checked against a new user
 * namespace's maps. `noSetgroups`: setgroupsUnavailable's answer.
 */
export function credentialOps(
  spec: Spec,
  process: Process,
  ns: NamespacePlan,
  noSetgroups: string | undefined,
): Op[] {
  const uid = process.user?.uid ?? 0;
  const gid = process.user?.gid ?? 0;
  const groups = process.user?.additionalGids ?? [];
  if (ns.creates('user')) {
    const unmapped = (field: string, kind: string, id: number, maps: string) =>
      new PlanError(
        'USER_INVALID',
        field,
        `${kind} ${id} is not mapped in the container's user namespace (${maps})`,
      );
    if (!isMapped(uid, spec.linux?.uidMappings)) {
      throw unmapped('process.user.uid', 'uid', uid, 'linux.uidMappings');
    }
    if (!isMapped(gid, spec.linux?.gidMappings)) {
      throw unmapped('process.user.gid', 'gid', gid, 'linux.gidMappings');
    }
    groups.forEach((g, i) => {
      if (!isMapped(g, spec.linux?.gidMappings)) {
        throw unmapped(`process.user.additionalGids[${i}]`, 'gid', g, 'linux.gidMappings');
      }
    });
  }
  const ops: Op[] = [];
  // setgroups(2) always runs (with an empty list when there are no
  // additionalGids): otherwise the container would inherit the runtime's
  // supplementary groups. A rootless runtime cannot call it (the parent
  // denies setgroups in the user namespace), nor can a runtime in a user
  // namespace where setgroups is denied: it is left out there and
  // additionalGids are refused, as runc does.
  if (noSetgroups !== undefined) {
    if (groups.length > 0) {
      throw new PlanError('USER_INVALID', 'process.user.additionalGids', noSetgroups);
    }
  } else {
    ops.push(op('SETGROUPS', groups));
  }
  ops.push(op('SETGID', gid), op('SETUID', uid));
  return ops;
}

/**
 * The CAPS op of process.capabilities. Names this runtime does not know, or
 * the kernel does not (above `lastCap`), are skipped, with one warning that
 * lists them (as runc: a config written for a newer kernel still runs).
 */
export function capsOp(process: Process, warn?: (message: string) => void, lastCap?: number): Op {
  const caps = process.capabilities ?? {};
  const unknown = new Set<string>();
  const mask = (set: keyof typeof caps & string) =>
    capabilityMask(
      caps[set] as string[] | undefined,
      `process.capabilities.${set}`,
      unknown,
      lastCap,
    );
  const permitted = mask('permitted');
  const inheritable = mask('inheritable');
  const bounding = mask('bounding');
  const effective = mask('effective');
  const ambient = mask('ambient');
  if (unknown.size > 0) {
    warn?.(`ignoring unknown or unavailable capabilities: [${[...unknown].sort().join(' ')}]`);
  }
  // The kernel raises an ambient capability only if it is permitted and
  // inheritable; runc skips the others (its 1.1 template lists ambient
  // capabilities without inheritable ones), and so do we.
  return op('CAPS', bounding, effective, permitted, inheritable, ambient & permitted & inheritable);
}

/**
 * The ops that load the container's seccomp filter. With a NOTIFY listener,
 * SYNC(SECCOMP) first: the parent answers with the container process state
 * the executor sends to the agent with the listener.
 *
 * Where they go (runc's places, which the kernel dictates): without
 * no_new_privs, loading a filter needs CAP_SYS_ADMIN, so they come before
 * the credentials and capabilities change; with it, as late as possible (so
 * the profile needs to allow as few of the runtime's own syscalls as
 * possible) but before READY, while errors can still be reported and the
 * parent can still answer SYNC(SECCOMP).
 */
export function seccompOps(spec: Spec, seccomp: SeccompPlan | undefined): Op[] {
  if (spec.linux?.seccomp === undefined) return [];
  if (seccomp === undefined) {
    throw new PlanError(
      'SECCOMP_INVALID',
      'linux.seccomp',
      "the compiled filter is missing: compile the profile (@runc-ts/seccomp) and pass it as the plan context's seccomp",
    );
  }
  if ((seccomp.flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) === 0) {
    return [op('SECCOMP', seccomp.program, seccomp.flags)];
  }
  if (!seccomp.listenerPath) {
    throw new PlanError(
      'SECCOMP_INVALID',
      'linux.seccomp.listenerPath',
      'SCMP_ACT_NOTIFY rules need a listenerPath',
    );
  }
  return [
    op('SYNC', SyncKind.SECCOMP),
    op('SECCOMP_NOTIFY', seccomp.program, seccomp.flags, seccomp.listenerPath),
  ];
}

/**
 * process.env as the process gets it: a key given more than once appears
 * once, where it first appears, with its last value (runc sets the entries
 * in order). Values are passed unchanged, newlines included. An entry
 * without `=` or with an empty name is refused, as runc refuses it.
 */
export function processEnv(env: readonly string[] | undefined): string[] {
  const result: string[] = [];
  const slot = new Map<string, number>();
  (env ?? []).forEach((entry, index) => {
    const eq = entry.indexOf('=');
    if (eq < 0) {
      throw new PlanError(
        'PROCESS_INVALID',
        `process.env[${index}]`,
        `invalid environment variable: ${JSON.stringify(entry)}`,
      );
    }
    if (eq === 0) {
      throw new PlanError(
        'PROCESS_INVALID',
        `process.env[${index}]`,
        `environment variable name can't be empty: ${JSON.stringify(entry)}`,
      );
    }
    const key = entry.slice(0, eq);
    const at = slot.get(key);
    if (at === undefined) {
      slot.set(key, result.length);
      result.push(entry);
    } else {
      result[at] = entry;
    }
  });
  return result;
}

/**
 * Without a non-empty HOME the process gets its user's home directory from
 * the container's /etc/passwd ("/" when it has none), as runc does. The
 * executor reads it in the container's root, before the credentials change.
 */
export function homeOps(process: Process, env: readonly string[]): Op[] {
  if (env.some((entry) => entry.startsWith('HOME=') && entry.length > 'HOME='.length)) return [];
  return [op('DEFAULT_HOME', process.user?.uid ?? 0)];
}

/**
 * After CONSOLE: the pty belongs to the process' user (its group stays
 * devpts' gid=, the tty group), so the user may use its own terminal.
 */
export function consoleOwnerOps(process: Process): Op[] {
  const uid = process.user?.uid ?? 0;
  return uid === 0 ? [] : [op('TTY_OWNER', uid)];
}

/** The PATH the process will see: the last PATH= of process.env, as getenv after setenv in order. */
export function processPath(env: readonly string[]): string {
  let path: string | undefined;
  for (const entry of env) if (entry.startsWith('PATH=')) path = entry.slice('PATH='.length);
  return path ?? DEFAULT_PATH;
}

// ---------------------------------------------------------------- plan

/**
 * The executor plan that creates the container of `spec`: everything up to
 * the init process blocked on the exec fifo, then the exec of process.args.
 * Throws PlanError (with a stable code and the JSON path) for configs that
 * cannot be run.
 */
export function planCreate(spec: Spec, ctx: PlanContext): Op[] {
  checkEncodable(spec, '');
  // Not the init's (the spec), but checked here as runc checks the config.
  if (spec.process) execCpuAffinity(spec.process);
  const process = requireProcess(spec);
  const ns = planNamespaces(spec);
  checkMountNamespace(spec, ns);
  checkUts(spec, ns);
  if (!Number.isInteger(ctx.preserveFds) || ctx.preserveFds < 0) {
    throw new PlanError(
      'PROCESS_INVALID',
      '',
      `--preserve-fds must be a non-negative integer, got ${ctx.preserveFds}`,
    );
  }
  const terminal = process.terminal === true;
  // A terminal goes to --console-socket, or, for a foreground run, to the
  // executor's console proxy (FORK mode 2), which relays it to our stdio.
  const consoleProxy = terminal && !ctx.consoleSocket && ctx.waitForInit === true;
  if (terminal && !ctx.consoleSocket && !consoleProxy) {
    throw new PlanError(
      'PROCESS_INVALID',
      'process.terminal',
      'cannot allocate tty if runc will detach without setting console socket',
    );
  }
  if (process.oomScoreAdj !== undefined && Math.abs(process.oomScoreAdj) > 1000) {
    throw new PlanError(
      'PROCESS_INVALID',
      'process.oomScoreAdj',
      `${process.oomScoreAdj} is not in -1000..1000`,
    );
  }

  // The exec fifo first, as host root: in a user namespace the executor
  // soon becomes the namespace's root, which cannot reach --root (0700).
  const ops: Op[] = [op('OPEN_FIFO', ctx.fifoPath)];

  // Namespaces: those given by path are joined first (see JOIN_NAMESPACES),
  // so a new user namespace comes after joins that need the runtime's rights.
  if (ns.joined.length > 0) {
    ops.push(
      op(
        'JOIN_NAMESPACES',
        ns.joined.map((joined) => joined.flag),
        ns.joined.map((joined) => joined.path),
      ),
    );
  }
  if (ns.creates('user')) ops.push(op('UNSHARE', CLONE_NEWUSER), op('SYNC', SyncKind.USERNS));
  const others = ns.createFlags & ~(CLONE_NEWUSER | CLONE_NEWCGROUP);
  if (others !== 0) ops.push(op('UNSHARE', others));
  // In the container's network namespace (new or joined) now.
  ops.push(...netDeviceOps(spec, ns, ctx.rootless === true));
  // Bind sources are opened in the container's mount namespace (a bind
  // mount needs a source there) while the executor still has the runtime's
  // own uid, the owner of the runtime's files: the namespace's root may not
  // search the paths to them (runc opens them in the parent, likewise).
  if (ns.has('user')) ops.push(...mountSourceOps(spec, ctx));
  if (ns.has('user')) {
    // Then become the namespace's root (new or joined): the host uid we
    // still carry is unmapped there, and files we create (mount points,
    // devices) need a mapped owner.
    ops.push(op('SETGID', 0), op('SETUID', 0));
  }
  // Offsets apply to a new time namespace only until a process enters it (FORK).
  const offsets = timeOffsetsText(spec);
  if (offsets) ops.push(op('TIMENS_OFFSETS', offsets));
  // Always FORK: new pid and time namespaces only apply to children, and a
  // joined pid namespace too; forking in every case keeps one shape (init
  // is always a fresh child whose parent exits at once, as runc's init is
  // a child of its bootstrap process), and libcontainer always gets PID.
  ops.push(op('FORK', consoleProxy ? 2 : ctx.waitForInit ? 1 : 0));
  // The cgroup move comes after FORK so that a waiting parent (foreground
  // run, console proxy) stays outside the container's cgroup: it is not a
  // container process (pids.max, ps). libcontainer knows the pid from PID.
  ops.push(op('SYNC', SyncKind.CGROUP));
  if (ns.creates('cgroup')) ops.push(op('UNSHARE', CLONE_NEWCGROUP));
  // The init opens a pidfd of itself (no pid-reuse race) as soon as it is in
  // its cgroup; the executor connected to the socket when it read the plan.
  if (ctx.pidfdSocket) ops.push(op('PIDFD_SOCKET', ctx.pidfdSocket, 'standard'));
  // In its cgroup, the init's affinity is reset to every CPU its cpuset
  // allows: the runtime's own (under `taskset`, say) is not the container's.
  ops.push(initAffinityOp());

  // Root filesystem, while the host filesystem is still reachable.
  const rootfsPropagation = spec.linux?.rootfsPropagation;
  const propagation = ROOTFS_PROPAGATION[rootfsPropagation ?? 'rslave'];
  // Without a mount namespace of its own the container's mounts are made in
  // the runtime's, whose propagation stays as it is (0).
  const ownMountNs = ns.has('mount');
  ops.push(op('ROOTFS', ctx.rootfs, ownMountNs ? propagation : 0));
  const mountContext: MountContext = {
    ctx,
    mountLabel: ctx.selinuxEnabled ? spec.linux?.mountLabel : undefined,
    newCgroupNs: ns.creates('cgroup'),
    newUserNs: ns.creates('user'),
    userns: containerUserns(spec, ns),
  };
  const mounts = spec.mounts ?? [];
  mounts.forEach((mount, i) => {
    ops.push(...mountOps(mount, i, mountContext));
  });
  // Like runc: device nodes and /dev symlinks unless /dev is a bind mount
  // (then /dev is the host's choice). Without any /dev mount they go to the
  // rootfs' own /dev.
  const devBound = mounts.some((m) => containerPath(m.destination) === '/dev' && isBindMount(m));
  const devices = mergeDevices(spec.linux?.devices);
  if (!devBound) {
    ops.push(
      ...deviceOps(devices, {
        userns: ns.has('user') || ctx.runtimeInUserNamespace === true,
        hostHasKcore: ctx.hostHasKcore,
      }),
    );
  }

  ops.push(op('SYNC', SyncKind.HOOKS));
  // createContainer hooks: in the container's namespaces, before pivot_root
  // (their path resolves on the host). The parent sends the state first.
  const createHooks = hookOps('createContainer', spec.hooks?.createContainer);
  // startContainer hooks without an env of their own get the process' (runc).
  const startHooks = hookOps('startContainer', spec.hooks?.startContainer, processEnv(process.env));
  if (createHooks.length > 0 || startHooks.length > 0) ops.push(op('SYNC', SyncKind.STATE));
  ops.push(...createHooks);
  // Sharing the runtime's mount namespace, only chroot leaves the host's
  // root alone (runc chroots too; its --no-pivot would move the rootfs
  // over the host's "/").
  ops.push(op(!ownMountNs ? 'CHROOT' : ctx.noPivot ? 'MOVE_ROOT' : 'PIVOT_ROOT'));
  // The root mount itself gets the asked propagation once it is "/" (runc
  // >= 1.2): before, its parent had to be private or slave for the bind and
  // pivot_root, which left a shared or unbindable request unapplied.
  if (rootfsPropagation) ops.push(op('PROPAGATE', '/', propagation));

  // Inside the container's root. Sysctls go before the read-only paths
  // (readonlyPaths usually holds /proc/sys); masks after them, so a path in
  // both ends up masked.
  if (spec.hostname) ops.push(op('HOSTNAME', spec.hostname));
  if (spec.domainname) ops.push(op('DOMAINNAME', spec.domainname));
  ops.push(...sysctlOps(spec, ns));
  ops.push(...pathOps(spec.linux?.readonlyPaths, 'linux.readonlyPaths', 'READONLY'));
  ops.push(...pathOps(spec.linux?.maskedPaths, 'linux.maskedPaths', 'MASK'));
  // Only the root mount itself (no MS_REC): /proc, /dev… keep their flags.
  if (spec.root.readonly) ops.push(op('REMOUNT', '/', MS_BIND | MS_RDONLY));
  ops.push(op('UMASK', process.user?.umask ?? DEFAULT_UMASK));

  // The process: session, limits, scheduling, LSM labels, then credentials.
  if (!ctx.noNewKeyring) ops.push(op('KEYRING', `_ses.${ctx.containerId}`));
  // CONSOLE runs after PIVOT_ROOT so the pty comes from the container's
  // /dev/ptmx; the executor connects to the (host) socket path when it
  // reads the plan. It makes its own session; otherwise SETSID does.
  if (terminal) {
    ops.push(
      op('CONSOLE', consoleProxy ? '' : (ctx.consoleSocket ?? '')),
      ...consoleOwnerOps(process),
    );
    const size = process.consoleSize;
    if (size) ops.push(op('WINSIZE', size.height, size.width));
    // The init's pty is also its /dev/console (as with runc; init systems
    // and getty expect one).
    ops.push(op('MOUNT_CONSOLE'));
  } else {
    ops.push(op('SETSID'));
  }
  const devReadonly = devReadonlyOp(mounts);
  if (devReadonly) ops.push(devReadonly);
  for (const rlimit of planRlimits(process.rlimits)) {
    ops.push(op('RLIMIT', rlimit.resource, rlimit.soft, rlimit.hard));
  }
  if (process.oomScoreAdj !== undefined) {
    ops.push(op('OOM_SCORE_ADJ', String(process.oomScoreAdj)));
  }
  for (const optional of [
    personalityOp(spec),
    schedOp(process),
    ioprioOp(process),
    memoryPolicyOp(spec),
  ]) {
    if (optional) ops.push(optional);
  }
  if (process.apparmorProfile) ops.push(op('APPARMOR', process.apparmorProfile));
  if (process.selinuxLabel) ops.push(op('SELINUX_LABEL', process.selinuxLabel));
  // KEEPCAPS keeps the permitted set across setuid away from 0; CAPS then
  // sets the final sets (ambient must come after setuid, which clears it).
  const caps = capsOp(process, ctx.warn, ctx.lastCap);
  // chdir while still root with every capability: a cwd the user may not
  // search (runc's "exec --user with no access to cwd") still works.
  const env = processEnv(process.env);
  ops.push(...homeOps(process, env), op('CHDIR', process.cwd));
  const filter = seccompOps(spec, ctx.seccomp);
  const nnp = process.noNewPrivileges === true;
  if (!nnp) ops.push(...filter);
  ops.push(
    op('KEEPCAPS', 1),
    ...credentialOps(spec, process, ns, setgroupsUnavailable(ctx)),
    op('KEEPCAPS', 0),
    caps,
  );
  if (nnp) ops.push(op('NO_NEW_PRIVS'));
  const args = process.args ?? [];
  ops.push(op('RESOLVE_EXEC', args[0] ?? '', processPath(env)));
  // Rootless: `runc exec` into the created container opens the init's
  // /proc/<pid>/ns files as the same unprivileged user, which a
  // non-dumpable process refuses (before the filter: it may deny prctl).
  if (ctx.rootless) ops.push(op('SET_DUMPABLE'));
  if (nnp) ops.push(...filter);
  ops.push(
    op('READY'),
    op('WAIT_FIFO'),
    // startContainer hooks: after start, in the container, before the process.
    ...startHooks,
    op('CLOSE_FDS', 3 + ctx.preserveFds),
    op('EXEC', args, env),
  );
  return checkPlanSize(ops, largestList(spec));
}

function hookOps(
  phase: 'createContainer' | 'startContainer',
  hooks: readonly Hook[] | undefined,
  defaultEnv: readonly string[] = [],
): Op[] {
  return (hooks ?? []).map((hook, index) =>
    op(
      'HOOK',
      `${phase} hook #${index} (${hook.path})`,
      hook.path,
      hook.args ?? [hook.path],
      hook.env ?? defaultEnv,
      hook.timeout ?? 0,
    ),
  );
}

/** linux.timeOffsets as /proc/self/timens_offsets takes them: "<clock> <secs> <nanosecs>" lines. */
export function timeOffsetsText(spec: Spec): string | undefined {
  const offsets = spec.linux?.timeOffsets;
  if (!offsets || Object.keys(offsets).length === 0) return undefined;
  return Object.entries(offsets as Record<string, { secs?: number; nanosecs?: number }>)
    .map(([clock, offset]) => {
      if (clock !== 'monotonic' && clock !== 'boottime') {
        throw new PlanError(
          'NAMESPACE_INVALID',
          `linux.timeOffsets.${clock}`,
          'only the monotonic and boottime clocks have offsets',
        );
      }
      const nanosecs = offset?.nanosecs ?? 0;
      if (nanosecs < 0 || nanosecs > 999_999_999) {
        throw new PlanError(
          'NAMESPACE_INVALID',
          `linux.timeOffsets.${clock}.nanosecs`,
          `${nanosecs} is not in 0..999999999`,
        );
      }
      return `${clock} ${offset?.secs ?? 0} ${nanosecs}\n`;
    })
    .join('');
}
