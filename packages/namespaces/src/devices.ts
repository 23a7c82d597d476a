// The device nodes and /dev symlinks of a container: runc's defaults merged
// with linux.devices.

import { posix } from 'node:path';
import type { LinuxDevice } from '@runc-ts/spec';
import { PlanError } from './errors.js';
import { type Op, op } from './plan.js';

export const S_IFIFO = 0o010000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;

/** A device node to create; `type` 'u' (unbuffered char) is folded into 'c'. */
export interface DeviceNode {
  path: string;
  type: 'c' | 'b' | 'p';
  major: number;
  minor: number;
  /** Permission bits (0..0o7777). */
  fileMode: number;
  uid: number;
  gid: number;
}

const DEFAULT_MODE = 0o666;

const charDevice = (path: string, major: number, minor: number): DeviceNode => ({
  path,
  type: 'c',
  major,
  minor,
  fileMode: DEFAULT_MODE,
  uid: 0,
  gid: 0,
});

/** The nodes runc creates in every container's /dev. */
export const DEFAULT_DEVICES: readonly DeviceNode[] = [
  charDevice('/dev/null', 1, 3),
  charDevice('/dev/zero', 1, 5),
  charDevice('/dev/full', 1, 7),
  charDevice('/dev/random', 1, 8),
  charDevice('/dev/urandom', 1, 9),
  charDevice('/dev/tty', 5, 0),
];

/** [target, path] of the symlinks runc creates in every container's /dev. */
export const DEFAULT_DEV_SYMLINKS: readonly (readonly [string, string])[] = [
  ['/proc/self/fd', '/dev/fd'],
  ['/proc/self/fd/0', '/dev/stdin'],
  ['/proc/self/fd/1', '/dev/stdout'],
  ['/proc/self/fd/2', '/dev/stderr'],
];

/** Only when the host has /proc/kcore (CONFIG_PROC_KCORE), as runc does. */
export const KCORE_SYMLINK = ['/proc/kcore', '/dev/core'] as const;

/** /dev/ptmx points at the devpts instance mounted at /dev/pts. */
export const PTMX_SYMLINK = ['pts/ptmx', '/dev/ptmx'] as const;

/** Cleans an absolute container path: no `.`/`..`/double or trailing slashes. */
export function cleanPath(path: string): string {
  const normal = posix.normalize(path);
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
}

function configDevice(device: LinuxDevice, where: string): DeviceNode {
  if (!device.path.startsWith('/')) {
    throw new PlanError(
      'DEVICE_INVALID',
      `${where}.path`,
      `device path ${JSON.stringify(device.path)} must be absolute`,
    );
  }
  const path = cleanPath(device.path);
  if (path === '/' || path === '/dev') {
    throw new PlanError('DEVICE_INVALID', `${where}.path`, `"${path}" cannot be a device node`);
  }
  const type = device.type === 'u' ? 'c' : device.type;
  if (type !== 'c' && type !== 'b' && type !== 'p') {
    throw new PlanError(
      'DEVICE_INVALID',
      `${where}.type`,
      `unknown device type "${device.type}" (want c, b, u or p)`,
    );
  }
  let major = 0;
  let minor = 0;
  if (type !== 'p') {
    if (device.major === undefined || device.minor === undefined) {
      throw new PlanError(
        'DEVICE_INVALID',
        where,
        `major and minor are required for a device of type "${device.type}"`,
      );
    }
    ({ major, minor } = device);
    if (major < 0 || minor < 0 || !Number.isInteger(major) || !Number.isInteger(minor)) {
      throw new PlanError(
        'DEVICE_INVALID',
        where,
        `major and minor must be non-negative integers, got ${major}:${minor}`,
      );
    }
  }
  return {
    path,
    type,
    major,
    minor,
    fileMode: (device.fileMode ?? DEFAULT_MODE) & 0o7777,
    uid: device.uid ?? 0,
    gid: device.gid ?? 0,
  };
}

/**
 * runc's default devices followed by linux.devices, validated. A config
 * entry replaces the default with the same path.
 */
export function mergeDevices(
  devices: readonly LinuxDevice[] | undefined,
  path = 'linux.devices',
): DeviceNode[] {
  const configured = (devices ?? []).map((device, i) => configDevice(device, `${path}[${i}]`));
  const overridden = new Set(configured.map((device) => device.path));
  return [...DEFAULT_DEVICES.filter((device) => !overridden.has(device.path)), ...configured];
}

const TYPE_BITS = { c: S_IFCHR, b: S_IFBLK, p: S_IFIFO } as const;

export interface DeviceOpsOptions {
  /**
   * The container has a user namespace (created or joined): mknod(2) is not
   * allowed there, so each device is bind-mounted from the same host path.
   */
  userns: boolean;
  /** The host has /proc/kcore: add the /dev/core symlink. */
  hostHasKcore?: boolean;
}

/** MKNOD (or BIND_DEVICE in a user namespace) for each node, then /dev's symlinks. */
export function deviceOps(nodes: readonly DeviceNode[], options: DeviceOpsOptions): Op[] {
  const ops: Op[] = nodes.map((node) =>
    options.userns
      ? op('BIND_DEVICE', node.path, node.path)
      : op(
          'MKNOD',
          node.path,
          TYPE_BITS[node.type] | node.fileMode,
          node.major,
          node.minor,
          node.uid,
          node.gid,
        ),
  );
  const links = [...DEFAULT_DEV_SYMLINKS];
  if (options.hostHasKcore) links.push(KCORE_SYMLINK);
  links.push(PTMX_SYMLINK);
  for (const [target, path] of links) ops.push(op('SYMLINK', target, path));
  return ops;
}
