// The container's cgroup as libcontainer uses it: which manager, which
// resources (the config's plus runc's default device rules), joining exec'd
// processes, and merging `runc update` changes.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type CgroupManager,
  type CgroupState,
  containerDeviceRules,
  detectLayout,
  loadManager,
  newManager,
  parseProcCgroup,
} from '@runc-ts/cgroups';
import type { LinuxResources, Spec } from '@runc-ts/spec';
import { ContainerError, describeSystemError } from './errors.js';

/** The runtime options that choose a container's cgroup driver (--systemd-cgroup, --rootless). */
export interface CgroupDriverOptions {
  systemdCgroup?: boolean;
  rootlessCgroups?: boolean;
}

/** The manager of a new container's cgroup (create, restore): nothing is made yet. */
export function createCgroupManager(
  id: string,
  spec: Spec,
  options: CgroupDriverOptions,
): CgroupManager {
  const systemd = options.systemdCgroup === true;
  // As runc's fs drivers: a cgroup the config names (cgroupsPath) must be
  // usable even when rootless; only the default place may be skipped.
  const rootless = options.rootlessCgroups === true && (systemd || !spec.linux?.cgroupsPath);
  return newManager({
    containerId: id,
    cgroupsPath: spec.linux?.cgroupsPath,
    systemd,
    rootless,
  });
}

/**
 * Puts a new container's first process in its cgroup and writes the
 * config's resources there (create: the init at its cgroup SYNC; restore:
 * CRIU, whose children the restored processes are). `applied` runs between
 * the two. Returns why rootless device rules were left out, if they were.
 */
export async function joinContainerCgroup(
  cgroup: CgroupManager,
  pid: number,
  spec: Spec,
  options: CgroupDriverOptions & { applied?: () => void },
): Promise<string | undefined> {
  await applyCgroup(cgroup, pid);
  options.applied?.();
  return setContainerResources(cgroup, effectiveResources(spec), options.rootlessCgroups === true);
}

/** Creates the container's cgroup and moves `pid` in, with runc's wording on failure. */
export async function applyCgroup(cgroup: CgroupManager, pid: number): Promise<void> {
  try {
    await cgroup.apply(pid);
  } catch (error) {
    const { code, path, errno } = error as { code?: string; path?: string; errno?: string };
    if (code !== 'CGROUP_CREATE' && code !== 'CGROUP_WRITE') throw error;
    const what =
      path && errno
        ? `${code === 'CGROUP_CREATE' ? 'create cgroup' : 'write'} ${path}: ${describeSystemError({ code: errno })}`
        : (error as Error).message;
    throw new ContainerError('CGROUP', `unable to apply cgroup configuration: ${what}`, {
      cause: error,
    });
  }
}

/**
 * The cgroup controller each set field of `resources` needs (devices
 * aside), as runc names them in "cannot set <controller> limit".
 */
export function resourceControllers(
  resources: LinuxResources,
): { field: string; controller: string }[] {
  const needs: { field: string; controller: string }[] = [];
  const isSet = (value: unknown) =>
    value !== undefined &&
    value !== null &&
    !(Array.isArray(value) && value.length === 0) &&
    !(typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0);
  const add = (field: string, controller: string, value: unknown) => {
    if (isSet(value)) needs.push({ field: `linux.resources.${field}`, controller });
  };
  const { cpu } = resources;
  if (cpu) {
    const { cpus, mems, ...rest } = cpu;
    add('cpu.cpus', 'cpuset', cpus || undefined);
    add('cpu.mems', 'cpuset', mems || undefined);
    for (const [key, value] of Object.entries(rest)) add(`cpu.${key}`, 'cpu', value);
  }
  add('memory', 'memory', resources.memory);
  add('pids', 'pids', resources.pids);
  add('blockIO', 'blkio', resources.blockIO);
  add('hugepageLimits', 'hugetlb', resources.hugepageLimits);
  add('network.classID', 'net_cls', resources.network?.classID);
  add('network.priorities', 'net_prio', resources.network?.priorities);
  add('rdma', 'rdma', resources.rdma);
  return needs;
}

/**
 * Rootless without a cgroup of its own (nothing delegated): a limit has no
 * cgroup to go to. runc fails with "cannot set <controller> limit: container
 * could not join or create cgroup"; so do we, saying what to do.
 */
function checkRootlessLimits(cgroup: CgroupManager, resources: LinuxResources): void {
  const state = cgroup.state();
  if (state.driver !== 'fs' && state.driver !== 'fs2') return;
  const has = (controller: string) =>
    state.driver === 'fs' ? state.paths[controller] !== undefined : cgroup.exists();
  for (const { field, controller } of resourceControllers(resources)) {
    if (has(controller)) continue;
    throw new ContainerError(
      'ROOTLESS_CONFIG',
      `cannot set ${controller} limit: container could not join or create cgroup (${field}: this user may not create cgroups here; delegate a cgroup to the user and point linux.cgroupsPath at it, or remove the limit)`,
    );
  }
}

export function cgroupManagerOf(state: CgroupState | undefined): CgroupManager | undefined {
  return state ? loadManager(state) : undefined;
}

/** What create writes: the config's resources with runc's default device rules. */
export function effectiveResources(spec: Spec): LinuxResources {
  const resources = structuredClone(spec.linux?.resources ?? {});
  resources.devices = containerDeviceRules(resources.devices);
  return resources;
}

/**
 * Writes a new container's resources. With rootless cgroups the device
 * rules are best effort, as in runc: an unprivileged user never gets a v1
 * devices cgroup of its own, and the user namespace already keeps it from
 * device nodes it could not open on the host. Any other limit that cannot be
 * written is an error. Returns why the device rules were left out, if so.
 */
export async function setContainerResources(
  cgroup: CgroupManager,
  resources: LinuxResources,
  rootless: boolean,
): Promise<string | undefined> {
  if (rootless && cgroup.state().rootless) checkRootlessLimits(cgroup, resources);
  if (!rootless || resources.devices === undefined) {
    await cgroup.set(resources);
    return undefined;
  }
  const { devices, ...others } = resources;
  await cgroup.set(others);
  try {
    await cgroup.set({ devices });
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * Moves an exec'd process into the container's cgroup, or into `sub`, a
 * sub-cgroup of it (`exec --cgroup`), through every hierarchy's cgroup.procs.
 */
export function joinCgroup(
  state: CgroupState,
  pid: number,
  sub?: Record<string, string>,
  initPid?: number,
): void {
  for (const [controller, dir] of Object.entries(state.paths)) {
    const relative = sub?.[controller] ?? sub?.[''];
    const target = relative ? join(dir, relative) : dir;
    try {
      writeFileSync(join(target, 'cgroup.procs'), String(pid));
    } catch (error) {
      if (state.rootless && isPermissionError(error)) continue;
      // cgroup v2: once the container enabled a domain controller for its
      // sub-cgroups, its own cgroup may hold no process (EBUSY); like runc,
      // join the cgroup its init moved to instead.
      const fallback =
        controller === '' && relative === undefined && initPid !== undefined
          ? unifiedCgroupOf(initPid)
          : undefined;
      if ((error as NodeJS.ErrnoException).code === 'EBUSY' && fallback && fallback !== dir) {
        try {
          writeFileSync(join(fallback, 'cgroup.procs'), String(pid));
          continue;
        } catch {
          // report the first error
        }
      }
      const file = join(target, 'cgroup.procs');
      throw new ContainerError(
        'CGROUP',
        `join cgroup: adding pid ${pid} to ${file}: ${describeSystemError(error)}`,
        { cause: error },
      );
    }
  }
}

function isPermissionError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'EACCES' || code === 'EPERM' || code === 'EROFS';
}

/** The cgroup2 directory (host path) of `pid`, if it can be read. */
function unifiedCgroupOf(pid: number): string | undefined {
  try {
    const path = parseProcCgroup(readFileSync(`/proc/${pid}/cgroup`, 'utf8'))[''];
    const layout = detectLayout();
    const root = layout.mountRoots?.[''] ?? '/';
    if (path === undefined || layout.v2Mount === undefined) return undefined;
    if (root !== '/' && !path.startsWith(`${root}/`) && path !== root) return undefined;
    return join(layout.v2Mount, root === '/' ? path : path.slice(root.length));
  } catch {
    return undefined;
  }
}

/**
 * `exec --cgroup`: `path` for every controller, or `controller[,controller]:path`
 * for some (repeatable), as runc accepts it. Paths are relative to the
 * container's cgroup and may not leave it.
 */
export function parseExecCgroups(values: string[], state: CgroupState): Record<string, string> {
  const v1 = Object.keys(state.paths).some((key) => key !== '');
  const result: Record<string, string> = {};
  for (const value of values) {
    const colon = value.indexOf(':');
    const given = colon < 0 ? value : value.slice(colon + 1);
    // "/" is the container's cgroup itself.
    const path = given.replace(/^\/+/, '');
    if (!given || path.split('/').includes('..')) {
      const why = path ? ` ${path} is not a sub cgroup path;` : '';
      throw new ContainerError(
        'OPTION_INVALID',
        `--cgroup ${JSON.stringify(value)}:${why} expected [controller[,controller]:]path inside the container's cgroup`,
      );
    }
    if (colon < 0) {
      for (const key of Object.keys(state.paths)) result[key] = path;
      continue;
    }
    if (!v1) {
      throw new ContainerError(
        'OPTION_INVALID',
        `--cgroup ${JSON.stringify(value)}: controller names only apply to cgroup v1 (this host uses a unified hierarchy)`,
      );
    }
    for (const controller of value.slice(0, colon).split(',')) {
      if (!controller || !(controller in state.paths)) {
        throw new ContainerError(
          'OPTION_INVALID',
          `--cgroup ${JSON.stringify(value)}: unknown controller ${JSON.stringify(controller)}`,
        );
      }
      result[controller] = path;
    }
  }
  return result;
}

/** `runc update`: the stored resources with the given changes laid over them. */
export function mergeResources(current: LinuxResources, update: LinuxResources): LinuxResources {
  const merged: LinuxResources = structuredClone(current);
  for (const [key, value] of Object.entries(update) as [keyof LinuxResources, unknown][]) {
    if (value === undefined) continue;
    const existing = merged[key];
    if (isPlainObject(value) && isPlainObject(existing)) {
      (merged as Record<string, unknown>)[key] = { ...existing, ...value };
    } else {
      (merged as Record<string, unknown>)[key] = structuredClone(value);
    }
  }
  // Lifting the memory limit lifts the memory+swap limit with it (as runc
  // does), unless the update sets that too: a swap limit below an unlimited
  // memory limit is invalid.
  if (
    update.memory?.limit === -1 &&
    update.memory.swap === undefined &&
    merged.memory?.swap !== undefined
  ) {
    merged.memory.swap = -1;
  }
  return merged;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
