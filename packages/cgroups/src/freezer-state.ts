// The freezer state of a container's cgroup, read from its saved state
// alone. `state`, `list`, `start` and `kill` need it only to tell paused
// from running: one file read, without initialising the cgroup drivers
// (their writers, the device-filter compiler, systemd's unit properties).
// The drivers' freezerState() read through the same functions.
import { CgroupError } from './errors.js';
import { parseKeyValues, readOptionalFile } from './fsutil.js';
import { detectLayout } from './layout.js';
import type { CgroupState, FreezerState } from './types.js';

/** A v1 freezer hierarchy's freezer.state; no hierarchy or no file is 'undefined'. */
export function v1FreezerState(dir: string | undefined): FreezerState {
  const state = dir === undefined ? undefined : readOptionalFile(dir, 'freezer.state');
  switch (state?.trim()) {
    case 'THAWED':
      return 'thawed';
    case 'FROZEN':
      return 'frozen';
    case 'FREEZING':
      return 'freezing';
    default:
      return 'undefined';
  }
}

/** A cgroup v2 directory's cgroup.freeze, and cgroup.events for whether it is done. */
export function v2FreezerState(dir: string): FreezerState {
  const freeze = readOptionalFile(dir, 'cgroup.freeze');
  if (freeze === undefined) return 'undefined';
  if (freeze.trim() === '0') return 'thawed';
  const events = parseKeyValues(readOptionalFile(dir, 'cgroup.events') ?? '');
  return events.frozen === 1 ? 'frozen' : 'freezing';
}

function v2DirOf(state: CgroupState, what: string): string {
  const dir = state.paths[''];
  if (dir === undefined) {
    throw new CgroupError('INVALID', `cgroup state of ${what} has no directory (paths[""])`);
  }
  return dir;
}

/**
 * What `loadManager(state).freezerState()` returns, with the same errors
 * for a state no driver accepts.
 */
export function freezerStateOf(state: CgroupState): FreezerState {
  switch (state.driver) {
    case 'fs':
      return v1FreezerState(state.paths.freezer);
    case 'fs2':
      return v2FreezerState(v2DirOf(state, 'driver fs2'));
    case 'systemd': {
      const unified = detectLayout().mode === 'unified';
      if (!state.unit || !state.slice) {
        throw new CgroupError('INVALID', 'cgroup state of driver systemd has no unit or slice');
      }
      // A rootless unit whose directory was never known has no paths.
      if (Object.keys(state.paths).length === 0) return 'undefined';
      return unified
        ? v2FreezerState(v2DirOf(state, 'driver systemd on cgroup v2'))
        : v1FreezerState(state.paths.freezer);
    }
    default:
      throw new CgroupError(
        'INVALID',
        `cgroup state names an unknown driver ${JSON.stringify(state.driver)}`,
      );
  }
}
