// An executor plan, read back as what it will do (`runc create --dry-run`):
// the ops grouped by concern with names instead of numbers. Pure; the field
// names are part of the dry run's JSON output, so keep them stable.

import { KNOWN_CAPABILITIES } from './capabilities.js';
import { S_IFBLK, S_IFCHR, S_IFIFO } from './devices.js';
import {
  MOUNT_ATTR__ATIME,
  MOUNT_ATTR_IDMAP,
  MOUNT_ATTR_NOATIME,
  MOUNT_ATTR_NODEV,
  MOUNT_ATTR_NODIRATIME,
  MOUNT_ATTR_NOEXEC,
  MOUNT_ATTR_NOSUID,
  MOUNT_ATTR_NOSYMFOLLOW,
  MOUNT_ATTR_RDONLY,
  MOUNT_ATTR_STRICTATIME,
  MS_BIND,
  MS_DIRSYNC,
  MS_I_VERSION,
  MS_LAZYTIME,
  MS_MANDLOCK,
  MS_NOATIME,
  MS_NODEV,
  MS_NODIRATIME,
  MS_NOEXEC,
  MS_NOSUID,
  MS_NOSYMFOLLOW,
  MS_POSIXACL,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_RELATIME,
  MS_REMOUNT,
  MS_SHARED,
  MS_SILENT,
  MS_SLAVE,
  MS_STRICTATIME,
  MS_SYNCHRONOUS,
  MS_UNBINDABLE,
} from './mount-options.js';
import { NAMESPACE_FLAGS } from './namespaces.js';
import type { Op } from './plan.js';
import { RLIM_INFINITY, RLIMITS } from './rlimits.js';

export interface NamespaceStep {
  type: string;
  /** `new`: unshare(2); `join`: setns(2) on `path` (or on the pidfd of `pid`). */
  action: 'new' | 'join';
  path?: string;
}

export interface MountStep {
  /** `bind`, `idmapped-bind`, `tmpfs` (mode or content from the covered directory) or a filesystem mount. */
  kind: 'bind' | 'idmapped-bind' | 'tmpfs' | 'mount';
  source: string;
  destination: string;
  /** Filesystem type; empty for binds. */
  type: string;
  /** mount(2) flags, by name (MS_ prefix dropped). */
  flags: string[];
  data: string;
  /** Per-mount flags a bind gets by a remount after it (set; the others cleared). */
  remount?: { set: string[]; clear: string[] };
  propagation: string[];
  /** mount_setattr(2) on the whole tree (rro, rnosuid, …). */
  recursive?: { set: string[]; clear: string[] };
  idmap?: { uidMappings: string; gidMappings: string; userns: string };
  /** tmpcopyup: the covered directory's content is copied into the tmpfs. */
  copyUp?: boolean;
}

export type DeviceStep =
  | {
      kind: 'node';
      path: string;
      type: 'c' | 'b' | 'p';
      major: number;
      minor: number;
      /** Permission bits, octal. */
      mode: string;
      uid: number;
      gid: number;
    }
  | { kind: 'bind'; path: string; source: string }
  | { kind: 'console'; path: string };

export interface RlimitStep {
  type: string;
  soft: number | 'unlimited';
  hard: number | 'unlimited';
}

export interface ProcessSteps {
  args: string[];
  env: string[];
  cwd?: string;
  user?: { uid: number; gid: number; additionalGids: number[] };
  capabilities?: Record<
    'bounding' | 'effective' | 'permitted' | 'inheritable' | 'ambient',
    string[]
  >;
  rlimits: RlimitStep[];
  noNewPrivileges: boolean;
  apparmorProfile?: string;
  selinuxLabel?: string;
  umask?: string;
  oomScoreAdj?: number;
  /** A pseudoterminal is made for it (process.terminal). */
  terminal: boolean;
}

export interface HookStep {
  /** The hook list it comes from: createContainer or startContainer. */
  kind: string;
  path: string;
  args: string[];
  env: string[];
  timeout?: number;
}

export interface PlanDescription {
  namespaces: NamespaceStep[];
  rootfs?: { path: string; propagation: string[]; readonly: boolean };
  mounts: MountStep[];
  /** How the container's root becomes `/`. */
  rootChange?: 'pivot_root' | 'move' | 'chroot';
  devices: DeviceStep[];
  /** Symbolic links the executor makes (/dev/fd, /dev/ptmx, cgroup v1 co-mounts). */
  symlinks: { path: string; target: string }[];
  maskedPaths: string[];
  readonlyPaths: string[];
  hostname?: string;
  domainname?: string;
  sysctl: Record<string, string>;
  process: ProcessSteps;
  /** The compiled linux.seccomp, as loaded. */
  seccomp?: { instructions: number; flags: number; listener?: string };
  /** Hooks the executor runs in the container's namespaces. */
  hooks: HookStep[];
  /** Every op in order, as native/PROTOCOL.md's dump (byte values abbreviated). */
  ops: string[];
}

const MOUNT_FLAG_NAMES: [number, string][] = [
  [MS_RDONLY, 'RDONLY'],
  [MS_NOSUID, 'NOSUID'],
  [MS_NODEV, 'NODEV'],
  [MS_NOEXEC, 'NOEXEC'],
  [MS_SYNCHRONOUS, 'SYNCHRONOUS'],
  [MS_REMOUNT, 'REMOUNT'],
  [MS_MANDLOCK, 'MANDLOCK'],
  [MS_DIRSYNC, 'DIRSYNC'],
  [MS_NOSYMFOLLOW, 'NOSYMFOLLOW'],
  [MS_NOATIME, 'NOATIME'],
  [MS_NODIRATIME, 'NODIRATIME'],
  [MS_BIND, 'BIND'],
  [MS_REC, 'REC'],
  [MS_SILENT, 'SILENT'],
  [MS_POSIXACL, 'POSIXACL'],
  [MS_UNBINDABLE, 'UNBINDABLE'],
  [MS_PRIVATE, 'PRIVATE'],
  [MS_SLAVE, 'SLAVE'],
  [MS_SHARED, 'SHARED'],
  [MS_RELATIME, 'RELATIME'],
  [MS_I_VERSION, 'I_VERSION'],
  [MS_STRICTATIME, 'STRICTATIME'],
  [MS_LAZYTIME, 'LAZYTIME'],
];

const MOUNT_ATTR_NAMES: [number, string][] = [
  [MOUNT_ATTR_RDONLY, 'RDONLY'],
  [MOUNT_ATTR_NOSUID, 'NOSUID'],
  [MOUNT_ATTR_NODEV, 'NODEV'],
  [MOUNT_ATTR_NOEXEC, 'NOEXEC'],
  [MOUNT_ATTR_NOATIME, 'NOATIME'],
  [MOUNT_ATTR_STRICTATIME, 'STRICTATIME'],
  [MOUNT_ATTR_NODIRATIME, 'NODIRATIME'],
  [MOUNT_ATTR_IDMAP, 'IDMAP'],
  [MOUNT_ATTR_NOSYMFOLLOW, 'NOSYMFOLLOW'],
];

/** Names of the bits of `value` in `table`; bits it does not name as hex. */
function flagNames(value: bigint | number, table: [number, string][]): string[] {
  let rest = BigInt(value);
  const names: string[] = [];
  for (const [bit, name] of table) {
    if (rest & BigInt(bit)) {
      names.push(name);
      rest &= ~BigInt(bit);
    }
  }
  if (rest !== 0n) names.push(`0x${rest.toString(16)}`);
  return names;
}

function attrNames(value: bigint | number): string[] {
  const names = flagNames(BigInt(value) & ~BigInt(MOUNT_ATTR__ATIME), MOUNT_ATTR_NAMES);
  const atime = Number(BigInt(value) & BigInt(MOUNT_ATTR__ATIME));
  // MOUNT_ATTR_RELATIME is 0: only a set atime field names it.
  return atime === MOUNT_ATTR_NOATIME || atime === MOUNT_ATTR_STRICTATIME
    ? [...names, atime === MOUNT_ATTR_NOATIME ? 'NOATIME' : 'STRICTATIME']
    : names;
}

function propagationNames(flags: bigint | number): string[] {
  const names = flagNames(
    BigInt(flags) & BigInt(MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE | MS_REC),
    MOUNT_FLAG_NAMES,
  );
  return names.length > 0 ? names : [];
}

const NAMESPACE_NAMES = new Map<number, string>(
  Object.entries(NAMESPACE_FLAGS).map(([type, flag]) => [flag, type]),
);

function namespaceNames(flags: bigint | number): string[] {
  const value = BigInt(flags);
  return [...NAMESPACE_NAMES]
    .filter(([flag]) => (value & BigInt(flag)) !== 0n)
    .map(([, name]) => name);
}

const RLIMIT_NAMES = new Map<number, string>([...RLIMITS].map(([name, num]) => [num, name]));

function rlimitValue(value: bigint | number): number | 'unlimited' {
  const big = BigInt.asUintN(64, BigInt(value));
  return big === RLIM_INFINITY ? 'unlimited' : Number(big);
}

function capabilityNames(mask: bigint | number): string[] {
  const value = BigInt(mask);
  const names: string[] = [];
  for (let bit = 0; bit < 64; bit++) {
    if ((value >> BigInt(bit)) & 1n) names.push(KNOWN_CAPABILITIES[bit] ?? `capability ${bit}`);
  }
  return names;
}

function deviceType(mode: number): 'c' | 'b' | 'p' {
  const format = mode & 0o170000;
  if (format === S_IFBLK) return 'b';
  if (format === S_IFIFO) return 'p';
  if (format === S_IFCHR) return 'c';
  return 'c';
}

/** One op as PROTOCOL.md's dump shows it, byte values as their length. */
function opLine({ op: name, args }: Op): string {
  const values = (args as readonly unknown[]).map((value) => {
    if (value instanceof Uint8Array) return `<${value.length} bytes>`;
    if (typeof value === 'string') return JSON.stringify(value);
    if (Array.isArray(value)) {
      return `[${value.map((v) => (typeof v === 'string' ? JSON.stringify(v) : BigInt.asUintN(64, BigInt(v)).toString())).join(',')}]`;
    }
    return BigInt.asUintN(64, BigInt(value as number)).toString();
  });
  return [name, ...values].join(' ');
}

/** What the plan of `runc create` does, grouped (see PlanDescription). */
export function describePlan(ops: readonly Op[]): PlanDescription {
  const result: PlanDescription = {
    namespaces: [],
    mounts: [],
    devices: [],
    symlinks: [],
    maskedPaths: [],
    readonlyPaths: [],
    sysctl: {},
    process: { args: [], env: [], rlimits: [], noNewPrivileges: false, terminal: false },
    hooks: [],
    ops: ops.map(opLine),
  };
  const process = result.process;
  let uid: number | undefined;
  let gid: number | undefined;
  let groups: number[] = [];
  const lastMount = (dest: string): MountStep | undefined =>
    result.mounts.findLast((mount) => mount.destination === dest);
  for (const step of ops) {
    switch (step.op) {
      case 'UNSHARE':
        for (const type of namespaceNames(step.args[0])) {
          result.namespaces.push({ type, action: 'new' });
        }
        break;
      case 'SETNS':
        for (const type of namespaceNames(step.args[0])) {
          result.namespaces.push({ type, action: 'join', path: step.args[1] });
        }
        break;
      case 'JOIN_NAMESPACES': {
        const [types, paths] = step.args;
        types.forEach((flag, index) => {
          for (const type of namespaceNames(flag)) {
            result.namespaces.push({ type, action: 'join', path: paths[index] });
          }
        });
        break;
      }
      case 'SETNS_PID':
        for (const type of namespaceNames(step.args[1])) {
          result.namespaces.push({ type, action: 'join', path: `pidfd of ${step.args[0]}` });
        }
        break;
      case 'ROOTFS':
        result.rootfs = {
          path: step.args[0],
          propagation: propagationNames(step.args[1]),
          readonly: false,
        };
        break;
      case 'MOUNT': {
        const [source, destination, type, flags, data] = step.args;
        const bind = (BigInt(flags) & BigInt(MS_BIND)) !== 0n;
        result.mounts.push({
          kind: bind ? 'bind' : 'mount',
          source,
          destination,
          type,
          flags: flagNames(flags, MOUNT_FLAG_NAMES),
          data,
          propagation: [],
        });
        break;
      }
      case 'MOUNT_IDMAPPED': {
        const [source, destination, flags, uidMappings, gidMappings, userns] = step.args;
        result.mounts.push({
          kind: 'idmapped-bind',
          source,
          destination,
          type: '',
          flags: flagNames(flags, MOUNT_FLAG_NAMES),
          data: '',
          propagation: [],
          idmap: { uidMappings, gidMappings, userns },
        });
        break;
      }
      case 'MOUNT_TMPFS': {
        const [source, destination, flags, data, copyUp] = step.args;
        result.mounts.push({
          kind: 'tmpfs',
          source,
          destination,
          type: 'tmpfs',
          flags: flagNames(flags, MOUNT_FLAG_NAMES),
          data,
          propagation: [],
          ...(Number(copyUp) ? { copyUp: true } : {}),
        });
        break;
      }
      case 'BIND_REMOUNT': {
        const mount = lastMount(step.args[0]);
        const set = flagNames(
          BigInt(step.args[1]) & ~BigInt(MS_BIND | MS_REC | MS_REMOUNT),
          MOUNT_FLAG_NAMES,
        );
        const clear = flagNames(step.args[2], MOUNT_FLAG_NAMES);
        if (mount) mount.remount = { set, clear };
        break;
      }
      case 'REMOUNT': {
        const [dest, flags] = step.args;
        const set = flagNames(BigInt(flags) & ~BigInt(MS_BIND | MS_REMOUNT), MOUNT_FLAG_NAMES);
        const mount = lastMount(dest);
        if (dest === '/' && !mount) {
          if (result.rootfs) result.rootfs.readonly = set.includes('RDONLY');
        } else if (mount) {
          mount.remount = { set, clear: mount.remount?.clear ?? [] };
        }
        break;
      }
      case 'PROPAGATE':
        lastMount(step.args[0])?.propagation.push(...propagationNames(step.args[1]));
        break;
      case 'SETATTR': {
        const mount = lastMount(step.args[0]);
        if (mount)
          mount.recursive = { set: attrNames(step.args[1]), clear: attrNames(step.args[2]) };
        break;
      }
      case 'PIVOT_ROOT':
        result.rootChange = 'pivot_root';
        break;
      case 'MOVE_ROOT':
        result.rootChange = 'move';
        break;
      case 'CHROOT':
        result.rootChange = 'chroot';
        break;
      case 'MKNOD': {
        const [path, mode, major, minor, owner, group] = step.args;
        result.devices.push({
          kind: 'node',
          path,
          type: deviceType(Number(mode)),
          major: Number(major),
          minor: Number(minor),
          mode: `0${(Number(mode) & 0o7777).toString(8)}`,
          uid: Number(owner),
          gid: Number(group),
        });
        break;
      }
      case 'BIND_DEVICE':
        result.devices.push({ kind: 'bind', path: step.args[1], source: step.args[0] });
        break;
      case 'MOUNT_CONSOLE':
        result.devices.push({ kind: 'console', path: '/dev/console' });
        break;
      case 'SYMLINK':
        result.symlinks.push({ path: step.args[1], target: step.args[0] });
        break;
      case 'MASK':
        result.maskedPaths.push(step.args[0]);
        break;
      case 'READONLY':
        result.readonlyPaths.push(step.args[0]);
        break;
      case 'HOSTNAME':
        result.hostname = step.args[0];
        break;
      case 'DOMAINNAME':
        result.domainname = step.args[0];
        break;
      case 'SYSCTL':
        result.sysctl[step.args[0]] = step.args[1];
        break;
      case 'RLIMIT':
        process.rlimits.push({
          type: RLIMIT_NAMES.get(Number(step.args[0])) ?? `resource ${step.args[0]}`,
          soft: rlimitValue(step.args[1]),
          hard: rlimitValue(step.args[2]),
        });
        break;
      case 'OOM_SCORE_ADJ':
        process.oomScoreAdj = Number(step.args[0]);
        break;
      case 'UMASK':
        process.umask = `0${Number(step.args[0]).toString(8).padStart(3, '0')}`;
        break;
      case 'CONSOLE':
        process.terminal = true;
        break;
      case 'SETGROUPS':
        groups = step.args[0].map(Number);
        break;
      case 'SETGID':
        gid = Number(step.args[0]);
        break;
      case 'SETUID':
        uid = Number(step.args[0]);
        break;
      case 'CAPS': {
        const [bounding, effective, permitted, inheritable, ambient] = step.args;
        process.capabilities = {
          bounding: capabilityNames(bounding),
          effective: capabilityNames(effective),
          permitted: capabilityNames(permitted),
          inheritable: capabilityNames(inheritable),
          ambient: capabilityNames(ambient),
        };
        break;
      }
      case 'NO_NEW_PRIVS':
        process.noNewPrivileges = true;
        break;
      case 'APPARMOR':
        process.apparmorProfile = step.args[0];
        break;
      case 'SELINUX_LABEL':
        process.selinuxLabel = step.args[0];
        break;
      case 'CHDIR':
        process.cwd = step.args[0];
        break;
      case 'SECCOMP':
        result.seccomp = { instructions: step.args[0].length / 8, flags: Number(step.args[1]) };
        break;
      case 'SECCOMP_NOTIFY':
        result.seccomp = {
          instructions: step.args[0].length / 8,
          flags: Number(step.args[1]),
          listener: step.args[2],
        };
        break;
      case 'HOOK': {
        const [label, path, args, env, timeout] = step.args;
        result.hooks.push({
          kind: label.split(' ')[0] ?? label,
          path,
          args: [...args],
          env: [...env],
          ...(Number(timeout) > 0 ? { timeout: Number(timeout) } : {}),
        });
        break;
      }
      case 'EXEC':
        process.args = [...step.args[0]];
        process.env = [...step.args[1]];
        break;
      default:
        break;
    }
  }
  if (uid !== undefined || gid !== undefined) {
    process.user = { uid: uid ?? 0, gid: gid ?? 0, additionalGids: groups };
  }
  return result;
}
