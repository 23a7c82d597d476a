import { z } from 'zod';
import { SECCOMP_ARCHITECTURES } from '../seccomp-architectures.js';
import {
  fileMode,
  int32,
  int64,
  integer,
  positiveInteger,
  stringArray,
  stringMap,
  uint16,
  uint32,
  uint64,
} from './primitives.js';

// Every object is loose: the spec says runtimes must ignore unknown
// properties, and keeping them lets `runc-ts` round-trip a config untouched.

export const IdMappingSchema = z.looseObject({
  containerID: uint32,
  hostID: uint32,
  size: uint32,
});

export const HookSchema = z.looseObject({
  path: z.string(),
  args: stringArray.optional(),
  env: stringArray.optional(),
  timeout: positiveInteger.optional(),
});

export const HooksSchema = z.looseObject({
  prestart: z.array(HookSchema).optional(),
  createRuntime: z.array(HookSchema).optional(),
  createContainer: z.array(HookSchema).optional(),
  startContainer: z.array(HookSchema).optional(),
  poststart: z.array(HookSchema).optional(),
  poststop: z.array(HookSchema).optional(),
});

export const MountSchema = z.looseObject({
  destination: z.string(),
  source: z.string().optional(),
  type: z.string().optional(),
  options: stringArray.optional(),
  uidMappings: z.array(IdMappingSchema).optional(),
  gidMappings: z.array(IdMappingSchema).optional(),
});

export const RootSchema = z.looseObject({
  path: z.string(),
  readonly: z.boolean().optional(),
});

export const UserSchema = z.looseObject({
  uid: uint32.optional(),
  gid: uint32.optional(),
  umask: uint32.optional(),
  additionalGids: z.array(uint32).optional(),
  username: z.string().optional(),
});

export const CapabilitiesSchema = z.looseObject({
  bounding: stringArray.optional(),
  effective: stringArray.optional(),
  inheritable: stringArray.optional(),
  permitted: stringArray.optional(),
  ambient: stringArray.optional(),
});

export const RlimitSchema = z.looseObject({
  type: z.string().regex(/^RLIMIT_[A-Z]+$/),
  soft: uint64,
  hard: uint64,
});

export const IoPrioritySchema = z.looseObject({
  class: z.enum(['IOPRIO_CLASS_RT', 'IOPRIO_CLASS_BE', 'IOPRIO_CLASS_IDLE']),
  priority: int32.optional(),
});

export const SchedulerPolicySchema = z.enum([
  'SCHED_OTHER',
  'SCHED_FIFO',
  'SCHED_RR',
  'SCHED_BATCH',
  'SCHED_ISO',
  'SCHED_IDLE',
  'SCHED_DEADLINE',
]);

export const SchedulerFlagSchema = z.enum([
  'SCHED_FLAG_RESET_ON_FORK',
  'SCHED_FLAG_RECLAIM',
  'SCHED_FLAG_DL_OVERRUN',
  'SCHED_FLAG_KEEP_POLICY',
  'SCHED_FLAG_KEEP_PARAMS',
  'SCHED_FLAG_UTIL_CLAMP_MIN',
  'SCHED_FLAG_UTIL_CLAMP_MAX',
]);

export const SchedulerSchema = z.looseObject({
  policy: SchedulerPolicySchema,
  nice: int32.optional(),
  priority: int32.optional(),
  flags: z.array(SchedulerFlagSchema).optional(),
  runtime: uint64.optional(),
  deadline: uint64.optional(),
  period: uint64.optional(),
});

const cpuList = z.string().regex(/^[0-9, -]*$/);

export const ExecCpuAffinitySchema = z.looseObject({
  initial: cpuList.optional(),
  final: cpuList.optional(),
});

export const ConsoleSizeSchema = z.looseObject({
  height: uint64,
  width: uint64,
});

/** `process` of config.json, and the whole of `runc exec --process FILE`. */
export const ProcessSchema = z.looseObject({
  terminal: z.boolean().optional(),
  consoleSize: ConsoleSizeSchema.optional(),
  user: UserSchema.optional(),
  args: stringArray.optional(),
  commandLine: z.string().optional(),
  env: stringArray.optional(),
  cwd: z.string(),
  capabilities: CapabilitiesSchema.optional(),
  rlimits: z.array(RlimitSchema).optional(),
  noNewPrivileges: z.boolean().optional(),
  apparmorProfile: z.string().optional(),
  oomScoreAdj: integer.optional(),
  scheduler: SchedulerSchema.optional(),
  selinuxLabel: z.string().optional(),
  ioPriority: IoPrioritySchema.optional(),
  execCPUAffinity: ExecCpuAffinitySchema.optional(),
});

export const NamespaceTypeSchema = z.enum([
  'mount',
  'pid',
  'network',
  'uts',
  'ipc',
  'user',
  'cgroup',
  'time',
]);

export const NamespaceSchema = z.looseObject({
  type: NamespaceTypeSchema,
  path: z.string().optional(),
});

export const DeviceSchema = z.looseObject({
  type: z.string().regex(/^[cbup]$/),
  path: z.string(),
  major: int64.optional(),
  minor: int64.optional(),
  fileMode: fileMode.optional(),
  uid: uint32.optional(),
  gid: uint32.optional(),
});

export const DeviceCgroupSchema = z.looseObject({
  allow: z.boolean(),
  type: z.string().optional(),
  major: int64.optional(),
  minor: int64.optional(),
  access: z.string().optional(),
});

export const MemorySchema = z.looseObject({
  limit: int64.optional(),
  reservation: int64.optional(),
  swap: int64.optional(),
  kernel: int64.optional(),
  kernelTCP: int64.optional(),
  swappiness: uint64.optional(),
  disableOOMKiller: z.boolean().optional(),
  useHierarchy: z.boolean().optional(),
  checkBeforeUpdate: z.boolean().optional(),
});

export const CpuSchema = z.looseObject({
  shares: uint64.optional(),
  quota: int64.optional(),
  burst: uint64.optional(),
  period: uint64.optional(),
  realtimeRuntime: int64.optional(),
  realtimePeriod: uint64.optional(),
  cpus: z.string().optional(),
  mems: z.string().optional(),
  idle: int64.optional(),
});

export const PidsSchema = z.looseObject({
  limit: int64,
});

const blockIoDevice = {
  major: int64,
  minor: int64,
};

export const WeightDeviceSchema = z.looseObject({
  ...blockIoDevice,
  weight: uint16.optional(),
  leafWeight: uint16.optional(),
});

export const ThrottleDeviceSchema = z.looseObject({
  ...blockIoDevice,
  rate: uint64.optional(),
});

export const BlockIoSchema = z.looseObject({
  weight: uint16.optional(),
  leafWeight: uint16.optional(),
  weightDevice: z.array(WeightDeviceSchema).optional(),
  throttleReadBpsDevice: z.array(ThrottleDeviceSchema).optional(),
  throttleWriteBpsDevice: z.array(ThrottleDeviceSchema).optional(),
  throttleReadIOPSDevice: z.array(ThrottleDeviceSchema).optional(),
  throttleWriteIOPSDevice: z.array(ThrottleDeviceSchema).optional(),
});

export const HugepageLimitSchema = z.looseObject({
  pageSize: z.string().regex(/^[1-9][0-9]*[KMG]B$/),
  limit: uint64,
});

export const NetworkSchema = z.looseObject({
  classID: uint32.optional(),
  priorities: z
    .array(
      z.looseObject({
        name: z.string(),
        priority: uint32,
      }),
    )
    .optional(),
});

export const RdmaSchema = z.looseObject({
  hcaHandles: uint32.optional(),
  hcaObjects: uint32.optional(),
});

export const ResourcesSchema = z.looseObject({
  devices: z.array(DeviceCgroupSchema).optional(),
  memory: MemorySchema.optional(),
  cpu: CpuSchema.optional(),
  pids: PidsSchema.optional(),
  blockIO: BlockIoSchema.optional(),
  hugepageLimits: z.array(HugepageLimitSchema).optional(),
  network: NetworkSchema.optional(),
  rdma: z.record(z.string(), RdmaSchema).optional(),
  unified: stringMap.optional(),
});

export const SeccompActionSchema = z.enum([
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_TRAP',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_LOG',
  'SCMP_ACT_NOTIFY',
]);

export const SeccompArchSchema = z.enum(SECCOMP_ARCHITECTURES);

export const SeccompFlagSchema = z.enum([
  'SECCOMP_FILTER_FLAG_TSYNC',
  'SECCOMP_FILTER_FLAG_LOG',
  'SECCOMP_FILTER_FLAG_SPEC_ALLOW',
  'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV',
]);

export const SeccompOperatorSchema = z.enum([
  'SCMP_CMP_NE',
  'SCMP_CMP_LT',
  'SCMP_CMP_LE',
  'SCMP_CMP_EQ',
  'SCMP_CMP_GE',
  'SCMP_CMP_GT',
  'SCMP_CMP_MASKED_EQ',
]);

export const SyscallArgSchema = z.looseObject({
  index: uint32,
  value: uint64,
  valueTwo: uint64.optional(),
  op: SeccompOperatorSchema,
});

export const SyscallSchema = z.looseObject({
  names: z.array(z.string()).min(1),
  action: SeccompActionSchema,
  errnoRet: uint32.optional(),
  args: z.array(SyscallArgSchema).optional(),
});

export const SeccompSchema = z.looseObject({
  defaultAction: SeccompActionSchema,
  defaultErrnoRet: uint32.optional(),
  architectures: z.array(SeccompArchSchema).optional(),
  flags: z.array(SeccompFlagSchema).optional(),
  listenerPath: z.string().optional(),
  listenerMetadata: z.string().optional(),
  syscalls: z.array(SyscallSchema).optional(),
});

export const IntelRdtSchema = z.looseObject({
  closID: z.string().optional(),
  schemata: stringArray.optional(),
  l3CacheSchema: z.string().optional(),
  memBwSchema: z
    .string()
    .regex(/^MB:[^\n]*$/)
    .optional(),
  enableMonitoring: z.boolean().optional(),
});

export const PersonalitySchema = z.looseObject({
  domain: z.enum(['LINUX', 'LINUX32']).optional(),
  flags: stringArray.optional(),
});

export const MemoryPolicySchema = z.looseObject({
  mode: z
    .enum([
      'MPOL_DEFAULT',
      'MPOL_BIND',
      'MPOL_INTERLEAVE',
      'MPOL_WEIGHTED_INTERLEAVE',
      'MPOL_PREFERRED',
      'MPOL_PREFERRED_MANY',
      'MPOL_LOCAL',
    ])
    .optional(),
  nodes: z.string().optional(),
  flags: z
    .array(z.enum(['MPOL_F_NUMA_BALANCING', 'MPOL_F_RELATIVE_NODES', 'MPOL_F_STATIC_NODES']))
    .optional(),
});

export const TimeOffsetSchema = z.looseObject({
  secs: int64.optional(),
  nanosecs: uint32.optional(),
});

export const NetDeviceSchema = z.looseObject({
  name: z.string().optional(),
});

export const LinuxSchema = z.looseObject({
  namespaces: z.array(NamespaceSchema).optional(),
  uidMappings: z.array(IdMappingSchema).optional(),
  gidMappings: z.array(IdMappingSchema).optional(),
  timeOffsets: z
    .looseObject({
      boottime: TimeOffsetSchema.optional(),
      monotonic: TimeOffsetSchema.optional(),
    })
    .optional(),
  devices: z.array(DeviceSchema).optional(),
  netDevices: z.record(z.string(), NetDeviceSchema).optional(),
  cgroupsPath: z.string().optional(),
  resources: ResourcesSchema.optional(),
  // the spec's four values, and runc's recursive forms of them
  rootfsPropagation: z
    .enum([
      'private',
      'rprivate',
      'shared',
      'rshared',
      'slave',
      'rslave',
      'unbindable',
      'runbindable',
    ])
    .optional(),
  seccomp: SeccompSchema.optional(),
  sysctl: stringMap.optional(),
  maskedPaths: stringArray.optional(),
  readonlyPaths: stringArray.optional(),
  mountLabel: z.string().optional(),
  intelRdt: IntelRdtSchema.optional(),
  personality: PersonalitySchema.optional(),
  memoryPolicy: MemoryPolicySchema.optional(),
});

/**
 * config.json for Linux. `root` is required here although the generic schema
 * makes it optional: the spec requires it on every platform but Windows.
 */
export const ConfigSchema = z.looseObject({
  ociVersion: z.string(),
  root: RootSchema,
  mounts: z.array(MountSchema).optional(),
  process: ProcessSchema.optional(),
  hostname: z.string().optional(),
  domainname: z.string().optional(),
  hooks: HooksSchema.optional(),
  annotations: stringMap.optional(),
  linux: LinuxSchema.optional(),
});
