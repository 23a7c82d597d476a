// @runc-ts/spec: the OCI runtime-spec v1.3 for Linux.
//
// - zod schemas (ConfigSchema, ProcessSchema, StateSchema, FeaturesSchema, and
//   every sub-schema) for library users who want zod;
// - parse*/validate* functions that check documents without loading zod (a
//   build-time JSON-schema copy of the same schemas), with errors that name
//   file:line:column and the JSON path;
// - the `runc spec` template.

export { type DocumentIssue, formatIssue, SpecError, type SpecErrorCode } from './errors.js';
export {
  type ConfigParseOptions,
  type ParseOptions,
  parseConfig,
  parseFeatures,
  parseJson,
  parseProcess,
  parseResources,
  parseState,
  validateConfig,
} from './parse.js';
// The zod schemas, named one by one from their modules (not `export *`):
// Bun's bundler cannot tree-shake through a star re-export in lazily loaded
// code, and the compiled runc would initialise zod for every command.
export {
  BlockIoSchema,
  CapabilitiesSchema,
  ConfigSchema,
  ConsoleSizeSchema,
  CpuSchema,
  DeviceCgroupSchema,
  DeviceSchema,
  ExecCpuAffinitySchema,
  HookSchema,
  HooksSchema,
  HugepageLimitSchema,
  IdMappingSchema,
  IntelRdtSchema,
  IoPrioritySchema,
  LinuxSchema,
  MemoryPolicySchema,
  MemorySchema,
  MountSchema,
  NamespaceSchema,
  NamespaceTypeSchema,
  NetDeviceSchema,
  NetworkSchema,
  PersonalitySchema,
  PidsSchema,
  ProcessSchema,
  RdmaSchema,
  ResourcesSchema,
  RlimitSchema,
  RootSchema,
  SchedulerFlagSchema,
  SchedulerPolicySchema,
  SchedulerSchema,
  SeccompActionSchema,
  SeccompArchSchema,
  SeccompFlagSchema,
  SeccompOperatorSchema,
  SeccompSchema,
  SyscallArgSchema,
  SyscallSchema,
  ThrottleDeviceSchema,
  TimeOffsetSchema,
  UserSchema,
  WeightDeviceSchema,
} from './schema/config.js';
export {
  FeaturesSchema,
  LinuxFeaturesSchema,
} from './schema/features.js';
export {
  StateSchema,
  StatusSchema,
} from './schema/state.js';
export { SECCOMP_ARCHITECTURES } from './seccomp-architectures.js';
export {
  type ExampleSpecOptions,
  exampleSpec,
  OCI_VERSION,
  type RootlessIds,
  renderSpec,
  toRootless,
} from './template.js';
export type * from './types.js';
