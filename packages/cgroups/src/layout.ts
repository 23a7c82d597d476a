import { readFileSync } from 'node:fs';
import { CgroupError, describeErrno } from './errors.js';
import type { CgroupLayout } from './types.js';

/** Every cgroup v1 controller the kernel has; anything else in a cgroup mount's options is a mount option. */
export const V1_CONTROLLERS: ReadonlySet<string> = new Set([
  'cpuset',
  'cpu',
  'cpuacct',
  'io',
  'blkio',
  'memory',
  'devices',
  'freezer',
  'net_cls',
  'perf_event',
  'net_prio',
  'hugetlb',
  'pids',
  'rdma',
  'misc',
  'debug',
]);

export interface MountinfoEntry {
  /** Field 4: the path inside the filesystem that is mounted (a cgroup path for cgroupfs). */
  root: string;
  mountPoint: string;
  fsType: string;
  superOptions: string[];
}

/** Parses /proc/<pid>/mountinfo (proc(5)); lines that do not have the documented shape are skipped. */
export function parseMountinfo(text: string): MountinfoEntry[] {
  const entries: MountinfoEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const separator = fields.indexOf('-', 6);
    if (separator < 0 || fields.length < separator + 4) continue;
    entries.push({
      root: unescapeMountField(fields[3] ?? ''),
      mountPoint: unescapeMountField(fields[4] ?? ''),
      fsType: fields[separator + 1] ?? '',
      superOptions: (fields[separator + 3] ?? '').split(','),
    });
  }
  return entries;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) =>
    String.fromCharCode(Number.parseInt(octal, 8)),
  );
}

/**
 * How cgroups are mounted according to a mountinfo text: every v1 hierarchy
 * by controller (co-mounted controllers share a mount point, named
 * hierarchies appear as "name=<name>") and the cgroup2 mount. The first
 * mount of a hierarchy wins, as the kernel lists the oldest first.
 */
export function detectLayoutFromMountinfo(mountinfo: string): CgroupLayout {
  const v1Mounts: Record<string, string> = {};
  const roots: Record<string, string> = {};
  let v2Mount: string | undefined;
  let v2Root = '/';
  let hasV1Controller = false;
  for (const entry of parseMountinfo(mountinfo)) {
    if (entry.fsType === 'cgroup2') {
      if (v2Mount === undefined) {
        v2Mount = entry.mountPoint;
        v2Root = entry.root;
      }
      continue;
    }
    if (entry.fsType !== 'cgroup') continue;
    for (const option of entry.superOptions) {
      const isController = V1_CONTROLLERS.has(option);
      if (!isController && !option.startsWith('name=')) continue;
      if (option in v1Mounts) continue;
      v1Mounts[option] = entry.mountPoint;
      roots[option] = entry.root;
      if (isController) hasV1Controller = true;
    }
  }
  if (hasV1Controller) {
    const layout: CgroupLayout = { mode: v2Mount === undefined ? 'legacy' : 'hybrid', v1Mounts };
    if (v2Mount !== undefined) {
      layout.v2Mount = v2Mount;
      roots[''] = v2Root;
    }
    layout.mountRoots = roots;
    return layout;
  }
  if (v2Mount !== undefined) {
    return { mode: 'unified', v1Mounts: {}, v2Mount, mountRoots: { '': v2Root } };
  }
  throw new CgroupError(
    'UNSUPPORTED',
    'no cgroup filesystem is mounted (neither a cgroup v1 controller hierarchy nor cgroup2 in /proc/self/mountinfo)',
  );
}

/** The cgroup layout of this host as this process sees it (/proc/self/mountinfo). */
export function detectLayout(): CgroupLayout {
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch (error) {
    throw new CgroupError('CGROUP_READ', `read /proc/self/mountinfo: ${describeErrno(error)}`, {
      cause: error,
      path: '/proc/self/mountinfo',
    });
  }
  return detectLayoutFromMountinfo(text);
}

/**
 * /proc/<pid>/cgroup (cgroups(7)): hierarchy path by controller, each
 * controller of a co-mounted hierarchy separately, named hierarchies as
 * "name=<name>", and the cgroup2 entry ("0::/path") under ''.
 */
export function parseProcCgroup(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const controllers = line.slice(first + 1, second);
    const path = line.slice(second + 1);
    if (controllers === '') {
      result[''] = path;
      continue;
    }
    for (const controller of controllers.split(',')) result[controller] = path;
  }
  return result;
}

export function readOwnCgroups(): Record<string, string> {
  try {
    return parseProcCgroup(readFileSync('/proc/self/cgroup', 'utf8'));
  } catch (error) {
    throw new CgroupError('CGROUP_READ', `read /proc/self/cgroup: ${describeErrno(error)}`, {
      cause: error,
      path: '/proc/self/cgroup',
    });
  }
}
