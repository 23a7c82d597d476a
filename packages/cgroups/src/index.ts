export { containerDeviceRules } from './devices.js';
export { CgroupError, type CgroupErrorCode } from './errors.js';
export { freezerStateOf } from './freezer-state.js';
export { FsV1Manager, type FsV1Options } from './fs-v1.js';
export { FsV2Manager, type FsV2Options } from './fs-v2.js';
export { type CgroupAction, recordCgroupActions } from './fsutil.js';
export { detectLayout, detectLayoutFromMountinfo, parseProcCgroup } from './layout.js';
export { type Libc, loadLibc } from './libc.js';
export { loadStoredManager } from './load-stored.js';
export { loadManager, type ManagerOptions, newFsManager, newManager } from './manager.js';
export { cleanCgroupsPath, v1CgroupPaths, v2CgroupDir } from './paths.js';
export { formatStatsJson } from './stats.js';
export {
  type PlannedUnit,
  SystemdManager,
  type SystemdManagerOptions,
  type UnitProperty,
} from './systemd/index.js';
export type {
  BlkioEntry,
  BlkioStats,
  CgroupConfig,
  CgroupDriverName,
  CgroupLayout,
  CgroupManager,
  CgroupMode,
  CgroupState,
  CgroupStats,
  CpusetStats,
  FreezerState,
  HugetlbEntry,
  MemoryEntry,
} from './types.js';
