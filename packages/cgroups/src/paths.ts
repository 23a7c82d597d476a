import { posix } from 'node:path';
import { CgroupError } from './errors.js';
import type { CgroupConfig, CgroupLayout } from './types.js';

/** The v1 hierarchies a container joins, in the order resources are written to them. */
export const JOINED_V1_HIERARCHIES = [
  'cpuset',
  'devices',
  'memory',
  'cpu',
  'cpuacct',
  'pids',
  'blkio',
  'hugetlb',
  'net_cls',
  'net_prio',
  'perf_event',
  'freezer',
  'rdma',
  'name=systemd',
] as const;

/**
 * linux.cgroupsPath as the fs drivers read it: an absolute path is taken
 * from each hierarchy's root, a relative one from the cgroup the runtime
 * itself is in; absent means the container id, relative (runc 1.1.5 puts a
 * container whose config has no cgroupsPath in `<own cgroup>/<id>`). `..`
 * cannot climb above the start: the path is cleaned as if it were absolute.
 */
export function cleanCgroupsPath(config: Pick<CgroupConfig, 'containerId' | 'cgroupsPath'>): {
  path: string;
  absolute: boolean;
} {
  const raw =
    config.cgroupsPath === undefined || config.cgroupsPath === ''
      ? config.containerId
      : config.cgroupsPath;
  const absolute = raw.startsWith('/');
  const cleaned = posix.normalize(`/${raw}`).replace(/\/+$/, '');
  if (cleaned === '' || cleaned === '/') {
    throw new CgroupError(
      'INVALID',
      `linux.cgroupsPath: ${JSON.stringify(raw)} names the hierarchy root or the runtime's own cgroup, not a cgroup of the container's own`,
    );
  }
  return { path: absolute ? cleaned : cleaned.slice(1), absolute };
}

/** Where the cgroup `cgroupPath` (as /proc/<pid>/cgroup spells it) is, below the mount of `key`. */
function dirOf(mountPoint: string, mountRoot: string | undefined, cgroupPath: string): string {
  let inside = cgroupPath;
  if (mountRoot && mountRoot !== '/') {
    if (inside === mountRoot) inside = '/';
    else if (inside.startsWith(`${mountRoot}/`)) inside = inside.slice(mountRoot.length);
  }
  return posix.join(mountPoint, inside);
}

function resolveIn(
  key: string,
  mountPoint: string,
  layout: CgroupLayout,
  cleaned: { path: string; absolute: boolean },
  ownCgroups: Record<string, string>,
): string {
  // An absolute cgroupsPath starts at the mount point, whatever it shows.
  if (cleaned.absolute) return posix.join(mountPoint, cleaned.path);
  const own = ownCgroups[key];
  if (own === undefined) {
    throw new CgroupError(
      'UNSUPPORTED',
      `linux.cgroupsPath ${JSON.stringify(cleaned.path)} is relative to this process' cgroup, but /proc/self/cgroup has no ${key === '' ? 'cgroup2' : JSON.stringify(key)} entry`,
    );
  }
  return posix.join(dirOf(mountPoint, layout.mountRoots?.[key], own), cleaned.path);
}

/**
 * The directories a v1/hybrid container uses, by hierarchy key as runc's
 * state.json `cgroup_paths` has them: every mounted controller runc joins,
 * "name=systemd" when mounted, and '' for the cgroup2 mount of a hybrid
 * host (runc 1.1.5 creates and joins the container's cgroup there too).
 */
export function v1CgroupPaths(
  config: Pick<CgroupConfig, 'containerId' | 'cgroupsPath'>,
  layout: CgroupLayout,
  ownCgroups: Record<string, string>,
): Record<string, string> {
  const cleaned = cleanCgroupsPath(config);
  const paths: Record<string, string> = {};
  for (const key of JOINED_V1_HIERARCHIES) {
    const mountPoint = layout.v1Mounts[key];
    if (mountPoint === undefined) continue;
    paths[key] = resolveIn(key, mountPoint, layout, cleaned, ownCgroups);
  }
  if (layout.mode === 'hybrid' && layout.v2Mount !== undefined) {
    paths[''] = resolveIn('', layout.v2Mount, layout, cleaned, ownCgroups);
  }
  return paths;
}

/** The container's directory in the cgroup2 hierarchy of a unified host. */
export function v2CgroupDir(
  config: Pick<CgroupConfig, 'containerId' | 'cgroupsPath'>,
  layout: CgroupLayout,
  ownCgroups: Record<string, string>,
): string {
  if (layout.v2Mount === undefined) {
    throw new CgroupError('UNSUPPORTED', 'cgroup2 is not mounted on this host');
  }
  // A scope the runtime runs in holds processes (it at least), and a cgroup
  // with processes cannot have children with controllers enabled (the "no
  // internal processes" rule): as with runc's v2 driver, a relative path
  // then starts at the scope's parent (usually a slice).
  const own = ownCgroups[''];
  const parent = own?.endsWith('.scope') ? { '': posix.dirname(own) } : undefined;
  return resolveIn('', layout.v2Mount, layout, cleanCgroupsPath(config), parent ?? ownCgroups);
}
