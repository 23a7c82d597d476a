// @runc-ts/libcontainer: the programmatic API behind the `runc` CLI.

export { type CgroupStats, formatStatsJson } from '@runc-ts/cgroups';
export {
  type ContainerState,
  type ContainerStatus,
  type CreateOptions,
  type ExecOptions,
  type RunOptions,
  Runtime,
  type RuntimeOptions,
} from './container.js';
export {
  ContainerError,
  type ContainerErrorCode,
  describeErrno,
  describeSystemError,
} from './errors.js';
export { renderExecutorError } from './executor.js';
export { type BuildInfo, runtimeFeatures } from './features.js';
export { type HookPhase, runHooks } from './hooks.js';
export { validateContainerId } from './id.js';
export {
  isRootlessEuid,
  rootlessCgroupsAuto,
  runningInUserNamespace,
  shouldHonorXdgRuntimeDir,
  systemdOwnerUid,
} from './rootless.js';
export {
  type ContainerSeccompOptions,
  containerSeccomp,
  defaultSeccompCacheDir,
  libseccompVersion,
  seccompAgentState,
} from './seccomp.js';
export { parseSignal, signalName } from './signals.js';
export {
  isCgroup2UnifiedMode,
  starterSpec,
  type WriteSpecOptions,
  writeStarterSpec,
} from './spec-file.js';
export { defaultStateRoot, isXdgStateRoot, prepareXdgStateRoot } from './state-root.js';
export { StateStore, type StoredState } from './state-store.js';
