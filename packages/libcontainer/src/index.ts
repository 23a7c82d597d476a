// @runc-ts/libcontainer: the programmatic API behind the `runc` CLI.

export { ContainerError, type ContainerErrorCode, describeSystemError } from './errors.js';
export { type BuildInfo, runtimeFeatures } from './features.js';
export {
  isCgroup2UnifiedMode,
  starterSpec,
  type WriteSpecOptions,
  writeStarterSpec,
} from './spec-file.js';
export { defaultStateRoot } from './state-root.js';
