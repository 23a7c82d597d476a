// The container's cgroup as libcontainer uses it: which manager, which
// resources (the config's plus runc's default device rules), joining exec'd
// processes, and merging `runc update` changes.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type CgroupManager,
  type CgroupState,
  containerDeviceRules,
  loadManager,
  newManager,
} from '@runc-ts/cgroups';
import type { LinuxResources, Spec } from '@runc-ts/spec';
import { ContainerError, describeSystemError } from './errors.js';

export function createCgroupManager(
  id: string,
  spec: Spec,
  options: { systemd: boolean; rootless: boolean },
): CgroupManager {
  return newManager({ containerId: id, cgroupsPath: spec.linux?.cgroupsPath, ...options });
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
 * Moves an exec'd process into the container's cgroup, or into `sub`, a
 * sub-cgroup of it (`exec --cgroup`), through every hierarchy's cgroup.procs.
 */
export function joinCgroup(state: CgroupState, pid: number, sub?: Record<string, string>): void {
  for (const [controller, dir] of Object.entries(state.paths)) {
    const relative = sub?.[controller] ?? sub?.[''];
    const target = relative ? join(dir, relative) : dir;
    try {
      writeFileSync(join(target, 'cgroup.procs'), String(pid));
    } catch (error) {
      if (state.rootless && isPermissionError(error)) continue;
      throw new ContainerError('CGROUP', `join cgroup ${target}: ${describeSystemError(error)}`, {
        cause: error,
      });
    }
  }
}

function isPermissionError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'EACCES' || code === 'EPERM' || code === 'EROFS';
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
    const path = (colon < 0 ? value : value.slice(colon + 1)).replace(/^\/+/, '');
    if (!path || path.split('/').includes('..')) {
      throw new ContainerError(
        'OPTION_INVALID',
        `--cgroup ${JSON.stringify(value)}: expected [controller[,controller]:]path inside the container's cgroup`,
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
          `--cgroup ${JSON.stringify(value)}: no such cgroup controller ${JSON.stringify(controller)}`,
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
  return merged;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
