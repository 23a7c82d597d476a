// Rootless containers: what a runtime without root (euid != 0) checks and
// does differently. The user namespace's maps are written by this process
// (the executor's parent): a single mapping of its own uid/gid directly,
// several ranges through the setuid helpers newuidmap/newgidmap, which allow
// what /etc/subuid and /etc/subgid grant the user.

import { accessSync, constants, readFileSync, statSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { detectLayout, parseProcCgroup } from '@runc-ts/cgroups';
import type { Process, Spec } from '@runc-ts/spec';
import { ContainerError, describeSystemError } from './errors.js';

// child_process loads only when a process is spawned (start-up cost).
const childProcess = () => process.getBuiltinModule('node:child_process');

export interface IdMap {
  containerID: number;
  hostID: number;
  size: number;
}

/** The runtime's own identity: effective ids and the user name (for /etc/subuid). */
export interface RuntimeIdentity {
  uid: number;
  gid: number;
  /** Login name of `uid`, or undefined when the passwd database has none. */
  user: string | undefined;
}

export function runtimeIdentity(): RuntimeIdentity {
  const uid = process.geteuid?.() ?? 0;
  let user: string | undefined;
  try {
    user = userInfo().username;
  } catch {
    user = undefined; // a uid without a passwd entry (containers, CI sandboxes)
  }
  return { uid, gid: process.getegid?.() ?? 0, user };
}

/** runc's RootlessEUID: the runtime runs with a non-root effective uid. */
export function isRootlessEuid(): boolean {
  return (process.geteuid?.() ?? 0) !== 0;
}

/**
 * Whether this process runs in a user namespace other than the initial one:
 * the initial namespace maps all 2^32-1 ids from 0 to 0.
 */
export function runningInUserNamespace(
  read: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): boolean {
  let text: string;
  try {
    text = read('/proc/self/uid_map');
  } catch {
    return false; // no /proc/self/uid_map: a kernel without user namespaces
  }
  const lines = text.trim().split('\n');
  const fields = lines[0]?.trim().split(/\s+/) ?? [];
  return !(
    lines.length === 1 &&
    fields[0] === '0' &&
    fields[1] === '0' &&
    fields[2] === '4294967295'
  );
}

/**
 * Whether setgroups(2) is denied in this process's user namespace
 * (/proc/self/setgroups says `deny`, as an unprivileged writer of the gid map
 * must leave it); new user namespaces inherit the setting.
 */
export function setgroupsDenied(
  read: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): boolean {
  try {
    return read('/proc/self/setgroups').trim() === 'deny';
  } catch {
    return false; // a kernel without the file (before 3.19) has no such rule
  }
}

/**
 * runc's `XDG_RUNTIME_DIR` rule for the default --root: honoured for a non-root
 * user, ignored by real root (which keeps /run), and honoured by root in a
 * user namespace (rootlesskit and the like) unless $USER says "root".
 */
export function shouldHonorXdgRuntimeDir(
  env: NodeJS.ProcessEnv = process.env,
  euid = process.geteuid?.() ?? 0,
  inUserNamespace: () => boolean = runningInUserNamespace,
): boolean {
  if (!env.XDG_RUNTIME_DIR) return false;
  if (euid !== 0) return true;
  if (!inUserNamespace()) return false;
  return env.USER === undefined || env.USER !== 'root';
}

/**
 * runc's `--rootless auto` for the cgroup manager: rootless for a non-root
 * user and for root in a user namespace; with the systemd driver, root in a
 * user namespace is rootless only when its systemd (the session bus owner)
 * is not root's.
 */
export function rootlessCgroupsAuto(options: {
  euid: number;
  inUserNamespace: () => boolean;
  systemd: boolean;
  systemdOwnerUid: () => number | undefined;
}): boolean {
  if (options.euid !== 0) return true;
  if (!options.inUserNamespace()) return false;
  if (options.systemd) return (options.systemdOwnerUid() ?? 0) !== 0;
  return true;
}

/** OwnerUID of the user's systemd (`busctl --user status`), or undefined when unknown. */
export function systemdOwnerUid(): number | undefined {
  const result = childProcess().spawnSync('busctl', ['--user', '--no-pager', 'status'], {
    encoding: 'utf8',
    timeout: 5000,
  });
  if (result.status !== 0) return undefined;
  const match = /^OwnerUID=(\d+)$/m.exec(result.stdout ?? '');
  return match ? Number(match[1]) : undefined;
}

const SYSCTL_HINTS: { path: string; off: (value: string) => boolean; hint: string }[] = [
  {
    path: '/proc/sys/user/max_user_namespaces',
    off: (value) => value === '0',
    hint: 'user namespaces are disabled: /proc/sys/user/max_user_namespaces is 0 (as root: sysctl -w user.max_user_namespaces=15000)',
  },
];

const UNPRIVILEGED_HINTS: typeof SYSCTL_HINTS = [
  {
    // Debian's and Ubuntu's older kernels.
    path: '/proc/sys/kernel/unprivileged_userns_clone',
    off: (value) => value === '0',
    hint: 'unprivileged user namespaces are disabled: /proc/sys/kernel/unprivileged_userns_clone is 0 (as root: sysctl -w kernel.unprivileged_userns_clone=1)',
  },
  {
    // Ubuntu 23.10 and later: AppArmor decides who may create one.
    path: '/proc/sys/kernel/apparmor_restrict_unprivileged_userns',
    off: (value) => value === '1',
    hint: 'AppArmor restricts unprivileged user namespaces: /proc/sys/kernel/apparmor_restrict_unprivileged_userns is 1 (as root: sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or give runc-ts an AppArmor profile with the userns permission)',
  },
];

/**
 * Throws USERNS_DISABLED when this host will not let us create the user
 * namespace the config asks for; the message says which knob to turn.
 */
export function checkUserNamespacesEnabled(
  rootless: boolean,
  read: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): void {
  const hints = rootless ? [...SYSCTL_HINTS, ...UNPRIVILEGED_HINTS] : SYSCTL_HINTS;
  for (const { path, off, hint } of hints) {
    let value: string;
    try {
      value = read(path).trim();
    } catch {
      continue; // this kernel has no such knob
    }
    if (off(value)) {
      throw new ContainerError(
        'USERNS_DISABLED',
        `linux.namespaces: cannot create a user namespace: ${hint}`,
      );
    }
  }
}

/**
 * What runc checks before a rootless create: a new user namespace with
 * mappings, no uid=/gid= mount option for an unmapped id.
 */
export function checkRootlessConfig(spec: Spec): void {
  const linux = spec.linux ?? {};
  const fail = (message: string) => new ContainerError('ROOTLESS_CONFIG', message);
  const userns = (linux.namespaces ?? []).find((ns) => ns.type === 'user');
  if (userns === undefined) {
    throw fail(
      'linux.namespaces: a rootless container requires a user namespace (add {"type": "user"}; `runc spec --rootless` writes a config with one)',
    );
  }
  if (!userns.path) {
    if ((linux.uidMappings ?? []).length === 0) {
      throw fail('linux.uidMappings: a rootless container requires at least one uid mapping');
    }
    if ((linux.gidMappings ?? []).length === 0) {
      throw fail('linux.gidMappings: a rootless container requires at least one gid mapping');
    }
  }
  (spec.mounts ?? []).forEach((mount, i) => {
    (mount.options ?? []).forEach((option, j) => {
      const match = /^(uid|gid)=(\d+)$/.exec(option);
      if (!match) return;
      const maps = match[1] === 'uid' ? linux.uidMappings : linux.gidMappings;
      if (!isMapped(Number(match[2]), maps)) {
        throw fail(
          `mounts[${i}].options[${j}]: ${option} names a ${match[1]} that is not mapped in the container's user namespace (linux.${match[1]}Mappings); a rootless container cannot use it`,
        );
      }
    });
  });
}

function isMapped(id: number, maps: readonly IdMap[] | undefined): boolean {
  return (maps ?? []).some((m) => id >= m.containerID && id - m.containerID < m.size);
}

/** Resources in /proc/self/limits order (that file lists them by resource number). */
const RLIMIT_ORDER = [
  'RLIMIT_CPU',
  'RLIMIT_FSIZE',
  'RLIMIT_DATA',
  'RLIMIT_STACK',
  'RLIMIT_CORE',
  'RLIMIT_RSS',
  'RLIMIT_NPROC',
  'RLIMIT_NOFILE',
  'RLIMIT_MEMLOCK',
  'RLIMIT_AS',
  'RLIMIT_LOCKS',
  'RLIMIT_SIGPENDING',
  'RLIMIT_MSGQUEUE',
  'RLIMIT_NICE',
  'RLIMIT_RTPRIO',
  'RLIMIT_RTTIME',
];

/** Hard limits of /proc/self/limits by RLIMIT_* name; `Infinity` for unlimited. */
export function parseHardLimits(text: string): Map<string, number> {
  const limits = new Map<string, number>();
  const lines = text.split('\n').slice(1);
  RLIMIT_ORDER.forEach((name, i) => {
    // "Max open files            1024                 524288               files"
    const columns = (lines[i] ?? '').slice(26).trim().split(/\s+/);
    const hard = columns[1];
    if (hard === undefined) return;
    limits.set(name, hard === 'unlimited' ? Number.POSITIVE_INFINITY : Number(hard));
  });
  return limits;
}

/**
 * Only a process with CAP_SYS_RESOURCE in the initial user namespace may
 * raise a hard limit: a rootless container cannot go above the runtime's.
 */
export function checkRootlessRlimits(
  process: Process | undefined,
  where: string,
  readLimits: () => string = () => readFileSync('/proc/self/limits', 'utf8'),
): void {
  const rlimits = process?.rlimits ?? [];
  if (rlimits.length === 0) return;
  const current = parseHardLimits(readLimits());
  rlimits.forEach((rlimit, i) => {
    const limit = current.get(rlimit.type);
    if (limit === undefined) return; // unknown types fail in the planner
    // JSON's 2^64-1 ("unlimited") parses as 2^64.
    const wanted = rlimit.hard >= 2 ** 64 - 1 ? Number.POSITIVE_INFINITY : rlimit.hard;
    if (wanted > limit) {
      const show = (n: number) => (n === Number.POSITIVE_INFINITY ? 'unlimited' : String(n));
      throw new ContainerError(
        'ROOTLESS_CONFIG',
        `${where}.rlimits[${i}]: ${rlimit.type} hard limit ${show(wanted)} is above this user's own hard limit ${show(limit)}; without root a hard limit can only be lowered (lower it in the config, or raise the user's limit, e.g. in /etc/security/limits.conf)`,
      );
    }
  });
}

// ---------------------------------------------------------------- id maps

type MapKind = 'uid' | 'gid';

/** How the maps of a new user namespace get written. */
export interface IdMappingPlan {
  /** newuidmap, when the uid map needs more than the runtime's own uid. */
  uidTool?: string;
  gidTool?: string;
  /** Write "deny" to setgroups before gid_map (an unprivileged writer must). */
  denySetgroups: boolean;
}

/** `name` found on PATH as an executable, as exec.LookPath does. */
export function lookPath(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    const candidate = join(dir || '.', name);
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Whether `maps` is exactly one mapping of `ownId` (what an unprivileged writer may write). */
export function isOwnIdOnly(maps: readonly IdMap[], ownId: number): boolean {
  return maps.length === 1 && maps[0]!.hostID === ownId && maps[0]!.size === 1;
}

/**
 * Decides, before anything is created, how a rootless runtime writes the
 * maps: its own id alone directly (gid_map after setgroups "deny"), anything
 * more through newuidmap/newgidmap, which must then be installed.
 */
export function planIdMapping(
  spec: Spec,
  identity: RuntimeIdentity,
  find: (name: string) => string | undefined = lookPath,
): IdMappingPlan {
  const linux = spec.linux ?? {};
  const plan: IdMappingPlan = { denySetgroups: false };
  const need = (kind: MapKind, maps: readonly IdMap[], own: number): string | undefined => {
    if (isOwnIdOnly(maps, own)) return undefined;
    const tool = kind === 'uid' ? 'newuidmap' : 'newgidmap';
    const found = find(tool);
    if (found) return found;
    const range = renderRanges(maps);
    throw new ContainerError(
      'ID_MAPPING_TOOL_MISSING',
      `linux.${kind}Mappings: mapping ${range} needs more than your own ${kind} ${own}, which only the setuid helper ${tool} can write, and ${tool} is not on PATH: install it (Debian/Ubuntu: apt-get install uidmap; Fedora: dnf install shadow-utils), or map only ${kind} ${own}`,
    );
  };
  plan.uidTool = need('uid', linux.uidMappings ?? [], identity.uid);
  plan.gidTool = need('gid', linux.gidMappings ?? [], identity.gid);
  plan.denySetgroups = plan.gidTool === undefined;
  return plan;
}

function renderRanges(maps: readonly IdMap[]): string {
  return maps
    .map(
      (m) =>
        `${m.containerID}-${m.containerID + m.size - 1} -> ${m.hostID}-${m.hostID + m.size - 1}`,
    )
    .join(', ');
}

/** The ranges /etc/subuid (or subgid) grants `identity`: entries by name or by uid. */
export function subordinateRanges(
  text: string,
  identity: RuntimeIdentity,
): { start: number; count: number }[] {
  const ranges: { start: number; count: number }[] = [];
  for (const line of text.split('\n')) {
    const [owner, start, count] = line.trim().split(':');
    if (!owner || start === undefined || count === undefined || owner.startsWith('#')) continue;
    if (owner !== identity.user && owner !== String(identity.uid)) continue;
    if (!/^\d+$/.test(start) || !/^\d+$/.test(count)) continue;
    ranges.push({ start: Number(start), count: Number(count) });
  }
  return ranges;
}

/**
 * Explains a failed newuidmap/newgidmap: what the user's /etc/subuid or
 * /etc/subgid entry allows against what the config asks for.
 */
export function explainToolFailure(
  kind: MapKind,
  maps: readonly IdMap[],
  identity: RuntimeIdentity,
  toolOutput: string,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): ContainerError {
  const file = kind === 'uid' ? '/etc/subuid' : '/etc/subgid';
  const tool = kind === 'uid' ? 'newuidmap' : 'newgidmap';
  const who = identity.user ?? String(identity.uid);
  const own = kind === 'uid' ? identity.uid : identity.gid;
  let text = '';
  try {
    text = readFile(file);
  } catch {
    // missing: no entries at all
  }
  const ranges = subordinateRanges(text, identity);
  const detail = toolOutput.trim() ? ` (${tool}: ${toolOutput.trim().split('\n').join('; ')})` : '';
  const option = kind === 'uid' ? '--add-subuids' : '--add-subgids';
  if (ranges.length === 0) {
    return new ContainerError(
      'SUBID_MISSING',
      `linux.${kind}Mappings: ${file} has no entry for user ${who}, so ${tool} refuses to map ${renderRanges(maps)}${detail}. Add one as root, e.g. \`usermod ${option} 100000-165535 ${who}\` (or a line "${who}:100000:65536" in ${file})`,
    );
  }
  const allowed = (m: IdMap) =>
    (m.hostID === own && m.size === 1) ||
    ranges.some((r) => m.hostID >= r.start && m.hostID + m.size <= r.start + r.count);
  const outside = maps.filter((m) => !allowed(m));
  const granted = ranges.map((r) => `${r.start}-${r.start + r.count - 1}`).join(', ');
  if (outside.length > 0) {
    return new ContainerError(
      'SUBID_MISSING',
      `linux.${kind}Mappings: ${renderRanges(outside)} is outside what ${file} grants user ${who} (host ${kind}s ${granted}, and ${own} itself)${detail}. Map only those ranges, or add a range with \`usermod ${option} START-END ${who}\``,
    );
  }
  return new ContainerError(
    'ID_MAPPING',
    `linux.${kind}Mappings: ${tool} failed to write ${renderRanges(maps)}${detail}`,
  );
}

function renderMap(maps: readonly IdMap[]): string {
  return maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

function writeProcFile(pid: number, file: string, text: string, what: string): void {
  try {
    writeFileSync(`/proc/${pid}/${file}`, text);
  } catch (error) {
    throw new ContainerError(
      'ID_MAPPING',
      `write ${what} of the user namespace (/proc/${pid}/${file}): ${describeSystemError(error)}`,
      { cause: error },
    );
  }
}

function runTool(
  tool: string,
  kind: MapKind,
  pid: number,
  maps: readonly IdMap[],
  identity: RuntimeIdentity,
): void {
  const args = [String(pid), ...maps.flatMap((m) => [m.containerID, m.hostID, m.size].map(String))];
  const result = childProcess().spawnSync(tool, args, {
    encoding: 'utf8',
    env: {},
    timeout: 10_000,
  });
  if (result.error) {
    throw new ContainerError(
      'ID_MAPPING_TOOL_MISSING',
      `linux.${kind}Mappings: cannot run ${tool}: ${describeSystemError(result.error)}`,
      { cause: result.error },
    );
  }
  if (result.status !== 0) {
    throw explainToolFailure(kind, maps, identity, `${result.stderr ?? ''}${result.stdout ?? ''}`);
  }
}

/**
 * Writes the maps of the user namespace `pid` created (SYNC USERNS). As root:
 * both files directly. Rootless: as `plan` says, setgroups first.
 */
export function writeIdMappings(
  pid: number,
  spec: Spec,
  rootless: { plan: IdMappingPlan; identity: RuntimeIdentity } | undefined,
): void {
  const linux = spec.linux ?? {};
  const uidMaps = linux.uidMappings ?? [];
  const gidMaps = linux.gidMappings ?? [];
  if (!rootless) {
    writeProcFile(pid, 'uid_map', renderMap(uidMaps), 'uid mappings');
    writeProcFile(pid, 'gid_map', renderMap(gidMaps), 'gid mappings');
    return;
  }
  const { plan, identity } = rootless;
  if (plan.uidTool) runTool(plan.uidTool, 'uid', pid, uidMaps, identity);
  else writeProcFile(pid, 'uid_map', renderMap(uidMaps), 'uid mappings');
  if (plan.gidTool) {
    runTool(plan.gidTool, 'gid', pid, gidMaps, identity);
  } else {
    // Without "deny" the kernel refuses an unprivileged gid_map.
    if (plan.denySetgroups) writeProcFile(pid, 'setgroups', 'deny', 'setgroups policy');
    writeProcFile(pid, 'gid_map', renderMap(gidMaps), 'gid mappings');
  }
}

// ---------------------------------------------------------------- cgroups

/**
 * Whether this user can (probably) put a process into cgroup `dir`: join it
 * if it exists, else create it (mkdir -p needs the nearest existing ancestor
 * writable; a new cgroup is then the user's). cgroup2 also needs the common
 * ancestor of `from` (where the process is now) and `dir` writable.
 */
export function mayEnterCgroup(dir: string, from?: string): boolean {
  const writable = (path: string, mode: number) => {
    try {
      accessSync(path, mode);
      return true;
    } catch {
      return false;
    }
  };
  if (from !== undefined) {
    const a = from.split('/');
    const b = dir.split('/');
    let n = 0;
    while (n < a.length && n < b.length && a[n] === b[n]) n++;
    const common = a.slice(0, n).join('/') || '/';
    if (!writable(join(common, 'cgroup.procs'), constants.W_OK)) return false;
  }
  if (writable(dir, constants.F_OK)) return writable(join(dir, 'cgroup.procs'), constants.W_OK);
  let parent = dirname(dir);
  while (parent !== dirname(parent) && !writable(parent, constants.F_OK)) parent = dirname(parent);
  return writable(parent, constants.W_OK | constants.X_OK);
}

/**
 * The cgroup directories a rootless container's init ends up in, by the
 * manager's keys ("memory", "name=systemd", '' for cgroup2), for the bind
 * mounts of a `cgroup` mount (runc binds the init's own cgroups there): the
 * container's own where this user may create or join it, else the runtime's
 * own cgroup, where the init then stays. `own` holds the runtime's
 * directories by the same keys.
 */
export function rootlessCgroupDirs(
  containerPaths: Record<string, string>,
  own: Record<string, string>,
  mayEnter: (dir: string, from?: string) => boolean = mayEnterCgroup,
): Record<string, string> {
  const dirs: Record<string, string> = {};
  for (const [key, dir] of Object.entries(containerPaths)) {
    const ownDir = own[key];
    if (ownDir === undefined) continue;
    dirs[key] = mayEnter(dir, key === '' ? ownDir : undefined) ? dir : ownDir;
  }
  return dirs;
}

/** The runtime's own cgroup directories by hierarchy key, as this host mounts them. */
export function runtimeCgroupDirs(): Record<string, string> {
  return ownCgroupDirs(detectLayout(), parseProcCgroup(readFileSync('/proc/self/cgroup', 'utf8')));
}

/** The cgroup directories of `ownCgroups` (/proc/self/cgroup) by hierarchy key, below `layout`'s mounts. */
export function ownCgroupDirs(
  layout: {
    v1Mounts: Record<string, string>;
    v2Mount?: string;
    mountRoots?: Record<string, string>;
  },
  ownCgroups: Record<string, string>,
): Record<string, string> {
  const dirs: Record<string, string> = {};
  const place = (key: string, mountPoint: string | undefined) => {
    const path = ownCgroups[key];
    if (mountPoint === undefined || path === undefined) return;
    const root = layout.mountRoots?.[key] ?? '/';
    let inside = path;
    if (root !== '/' && (inside === root || inside.startsWith(`${root}/`))) {
      inside = inside.slice(root.length) || '/';
    }
    dirs[key] = join(mountPoint, inside).replace(/(.)\/+$/, '$1');
  };
  for (const [key, mountPoint] of Object.entries(layout.v1Mounts)) place(key, mountPoint);
  place('', layout.v2Mount);
  return dirs;
}
