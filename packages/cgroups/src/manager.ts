import { FsV1Manager } from './fs-v1.js';
import { FsV2Manager } from './fs-v2.js';
import { detectLayout, readOwnCgroups } from './layout.js';
import { storedDriver, storedV2Dir } from './load-stored.js';
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
  switch (storedDriver(state)) {
    case 'fs':
      return new FsV1Manager(state.paths, { rootless: state.rootless ?? false });
    case 'fs2':
      return new FsV2Manager(storedV2Dir(state), { rootless: state.rootless ?? false });
    case 'systemd':
      return SystemdManager.fromState(state, detectLayout(), options.systemd);
  }
}
