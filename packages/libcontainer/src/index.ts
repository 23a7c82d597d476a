// @runc-ts/libcontainer: the programmatic API behind the `runc` CLI.

export { type CgroupStats, formatStatsJson } from '@runc-ts/cgroups';
export type { CheckpointOptions, RestoreOptions } from './checkpoint.js';
export {
  type ContainerState,
  type ContainerStatus,
  type CreateOptions,
  type ExecOptions,
  type RunOptions,
  Runtime,
  type RuntimeOptions,
  type RuntimeWarning,
  type WaitingOptions,
} from './container.js';
export type {
  DryRunCgroup,
  DryRunHook,
  DryRunOptions,
  DryRunReport,
  DryRunSeccomp,
  JsonDbusValue,
} from './dry-run.js';
export {
  ContainerError,
  type ContainerErrorCode,
  describeErrno,
  describeSystemError,
  toContainerError,
} from './errors.js';
export type { ContainerEvent, EventsOptions } from './events.js';
export { renderExecutorError } from './executor.js';
export type { BuildInfo } from './features.js';
export { type HookPhase, runHooks, runHooksAsync } from './hooks.js';
export { isCgroup2UnifiedMode } from './host.js';
export { validateContainerId } from './id.js';
export { dryRunCreate, runtimeFeatures, starterSpec, writeStarterSpec } from './lazy-exports.js';
export {
  type CgroupDrivers,
  type LifecycleContext,
  runVerb,
  verbContext,
} from './lifecycle/context.js';
export { deleteContainer } from './lifecycle/delete.js';
export type { Host, OpenFifo, StatusHost } from './lifecycle/host.js';
export { killContainer } from './lifecycle/kill.js';
export { nodeHost } from './lifecycle/node-host.js';
export { pauseContainer, resumeContainer } from './lifecycle/pause.js';
export { startContainer } from './lifecycle/start.js';
export {
  isRootlessEuid,
  rootlessCgroupsAuto,
  runningInUserNamespace,
  shouldHonorXdgRuntimeDir,
  systemdOwnerUid,
} from './rootless.js';
export { parseSignal, signalName } from './signals.js';
export type { WriteSpecOptions } from './spec-file.js';
export { defaultStateRoot, isXdgStateRoot, prepareXdgStateRoot } from './state-root.js';
export { StateStore, type StoredState } from './state-store.js';
export { containerStatus, listContainerStates, readContainerState } from './status.js';
export type { Stdio, StdioTarget } from './stdio.js';
