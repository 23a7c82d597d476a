// @runc-ts/namespaces: pure planning from a validated config to the
// executor plan (native/PROTOCOL.md). No I/O.

export { CAPABILITIES, capabilityMask, KNOWN_CAPABILITIES } from './capabilities.js';
export {
  cleanPath,
  DEFAULT_DEV_SYMLINKS,
  DEFAULT_DEVICES,
  type DeviceNode,
  type DeviceOpsOptions,
  deviceOps,
  KCORE_SYMLINK,
  mergeDevices,
  PTMX_SYMLINK,
  S_IFBLK,
  S_IFCHR,
  S_IFIFO,
} from './devices.js';
export { PlanError, type PlanErrorCode } from './errors.js';
export * from './mount-options.js';
export {
  CLONE_NEWCGROUP,
  CLONE_NEWIPC,
  CLONE_NEWNET,
  CLONE_NEWNS,
  CLONE_NEWPID,
  CLONE_NEWTIME,
  CLONE_NEWUSER,
  CLONE_NEWUTS,
  type JoinedNamespace,
  NAMESPACE_FLAGS,
  type NamespacePlan,
  planNamespaces,
} from './namespaces.js';
export {
  dumpPlan,
  encodeFrame,
  encodePlan,
  MessageType,
  OPS,
  type Op,
  type OpName,
  op,
  opName,
  PROTOCOL_MAGIC,
  SyncKind,
} from './plan.js';
export {
  DEFAULT_PATH,
  DEFAULT_UMASK,
  type PlanContext,
  planCreate,
  type SeccompPlan,
  seccompOps,
} from './plan-create.js';
export { type ExecPlanContext, planExec } from './plan-exec.js';
export {
  type PlannedRlimit,
  planRlimits,
  RLIM_INFINITY,
  RLIMITS,
  rlimitValue,
} from './rlimits.js';
