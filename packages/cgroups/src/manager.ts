import { CgroupError } from './errors.js';
import { FsV1Manager } from './fs-v1.js';
import { FsV2Manager } from './fs-v2.js';
import { detectLayout, readOwnCgroups } from './layout.js';
import { v1CgroupPaths, v2CgroupDir } from './paths.js';
import { SystemdManager, type SystemdManagerOptions } from './systemd/index.js';
import type { CgroupConfig, CgroupLayout, CgroupManager, CgroupState } from './types.js';

/**
 * The fs driver for a new container: v1 directories per hierarchy (plus the
 * cgroup2 one on a hybrid host) or one cgroup2 directory, placed by
 * linux.cgroupsPath as runc does. `ownCgroups` (this process' cgroups, by
 * /proc/self/cgroup key) anchors relative paths; read from /proc when absent.
 */
export function newFsManager(
  config: CgroupConfig,
  layout: CgroupLayout,
  ownCgroups?: Record<string, string>,
): CgroupManager {
  const cleanedNeedsOwn = !(config.cgroupsPath ?? '').startsWith('/');
  const own = ownCgroups ?? (cleanedNeedsOwn ? readOwnCgroups() : {});
  const options = { rootless: config.rootless ?? false };
  if (layout.mode === 'unified') {
    return new FsV2Manager(v2CgroupDir(config, layout, own), {
      ...options,
      mountPoint: layout.v2Mount,
    });
  }
  return new FsV1Manager(v1CgroupPaths(config, layout, own), options);
}

/** What only some drivers use. */
export interface ManagerOptions {
  /** For --systemd-cgroup: the container's annotations (unit properties), warnings, timeouts. */
  systemd?: SystemdManagerOptions;
}

/** The manager for a new container: systemd when `config.systemd` (runc --systemd-cgroup), fs otherwise. */
export function newManager(
  config: CgroupConfig,
  layout: CgroupLayout = detectLayout(),
  options: ManagerOptions = {},
): CgroupManager {
  if (config.systemd) return new SystemdManager(config, layout, options.systemd);
  return newFsManager(config, layout);
}

/** The manager of an existing container, from what state() returned when it was created. */
export function loadManager(state: CgroupState, options: ManagerOptions = {}): CgroupManager {
  const rootless = { rootless: state.rootless ?? false };
  switch (state.driver) {
    case 'fs':
      return new FsV1Manager(state.paths, rootless);
    case 'fs2': {
      const dir = state.paths[''];
      if (dir === undefined) {
        throw new CgroupError('INVALID', 'cgroup state of driver fs2 has no directory (paths[""])');
      }
      return new FsV2Manager(dir, rootless);
    }
    case 'systemd':
      return SystemdManager.fromState(state, detectLayout(), options.systemd);
    default:
      throw new CgroupError(
        'INVALID',
        `cgroup state names an unknown driver ${JSON.stringify(state.driver)}`,
      );
  }
}
