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
export {
  BlockIoSchema,
  CapabilitiesSchema,
  ConfigSchema,
  ConsoleSizeSchema,
  CpuSchema,
  DeviceCgroupSchema,
  DeviceSchema,
  ExecCpuAffinitySchema,
  FeaturesSchema,
  HookSchema,
  HooksSchema,
  HugepageLimitSchema,
  IdMappingSchema,
  IntelRdtSchema,
  IoPrioritySchema,
  LinuxFeaturesSchema,
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
  StateSchema,
  StatusSchema,
  SyscallArgSchema,
  SyscallSchema,
  ThrottleDeviceSchema,
  TimeOffsetSchema,
  UserSchema,
  WeightDeviceSchema,
} from './schema/index.js';
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
