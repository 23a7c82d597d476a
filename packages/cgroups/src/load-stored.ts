// The manager of an existing container's cgroup, importing only the driver
// its state names: delete and kill --all need one driver, never all three
// (manager.ts's loadManager has them all, for create and the Runtime).

import { CgroupError } from './errors.js';
import { detectLayout } from './layout.js';
import type { ManagerOptions } from './manager.js';
import type { CgroupManager, CgroupState } from './types.js';

/**
 * loadManager importing only the driver `state` names (the others, and the
 * systemd driver's unit properties, are not loaded): for the commands that
 * only find, signal or remove an existing cgroup.
 */
export async function loadStoredManager(
  state: CgroupState,
  options: ManagerOptions = {},
): Promise<CgroupManager> {
  switch (storedDriver(state)) {
    case 'fs': {
      const { FsV1Manager } = await import('./fs-v1.js');
      return new FsV1Manager(state.paths, { rootless: state.rootless ?? false });
    }
    case 'fs2': {
      const { FsV2Manager } = await import('./fs-v2.js');
      return new FsV2Manager(storedV2Dir(state), { rootless: state.rootless ?? false });
    }
    case 'systemd': {
      const { SystemdManager } = await import('./systemd/index.js');
      return SystemdManager.fromState(state, detectLayout(), options.systemd);
    }
  }
}

export function storedDriver(state: CgroupState): 'fs' | 'fs2' | 'systemd' {
  if (state.driver === 'fs' || state.driver === 'fs2' || state.driver === 'systemd') {
    return state.driver;
  }
  throw new CgroupError(
    'INVALID',
    `cgroup state names an unknown driver ${JSON.stringify(state.driver)}`,
  );
}

export function storedV2Dir(state: CgroupState): string {
  const dir = state.paths[''];
  if (dir === undefined) {
    throw new CgroupError('INVALID', 'cgroup state of driver fs2 has no directory (paths[""])');
  }
  return dir;
}
