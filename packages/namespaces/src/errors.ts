/** Stable codes of the planner's errors; callers branch on these, not on messages. */
export type PlanErrorCode =
  /** linux.namespaces, uidMappings/gidMappings, timeOffsets are inconsistent. */
  | 'NAMESPACE_INVALID'
  /** A capability name the planner does not know. */
  | 'CAPABILITY_UNKNOWN'
  /** An unknown, duplicate or inconsistent process.rlimits entry. */
  | 'RLIMIT_INVALID'
  /** A linux.devices entry that cannot be created. */
  | 'DEVICE_INVALID'
  /** A mounts[] entry that cannot be planned. */
  | 'MOUNT_INVALID'
  /** A linux.sysctl key that is malformed or not namespaced. */
  | 'SYSCTL_INVALID'
  /** hostname/domainname without a UTS namespace. */
  | 'HOSTNAME_INVALID'
  /** process is missing or one of its fields is unusable. */
  | 'PROCESS_INVALID'
  /** process.user ids that cannot be used (unmapped, groups when rootless). */
  | 'USER_INVALID'
  /** linux.maskedPaths / linux.readonlyPaths entries that are not absolute. */
  | 'PATH_INVALID'
  /** linux.seccomp without its compiled filter, or a NOTIFY filter without listenerPath. */
  | 'SECCOMP_INVALID'
  /** linux.netDevices with a bad name, or that cannot be moved (no network namespace, rootless). */
  | 'NETDEV_INVALID'
  /** linux.memoryPolicy that set_mempolicy would refuse. */
  | 'MEMPOLICY_INVALID'
  /** linux.personality.flags naming a flag personality(2) does not have. */
  | 'PERSONALITY_INVALID'
  /** A string with a NUL byte where it would reach the executor. */
  | 'STRING_INVALID'
  /** A string, list or whole plan larger than the executor protocol carries. */
  | 'TOO_LARGE'
  /** A valid config feature this runtime does not implement yet. */
  | 'UNSUPPORTED';

/**
 * A config that cannot be turned into an executor plan. `path` is the JSON
 * path of the offending field (e.g. `linux.namespaces[2]`), and the message is
 * `<path>: <what is wrong>`.
 */
export class PlanError extends Error {
  override readonly name = 'PlanError';
  constructor(
    readonly code: PlanErrorCode,
    /** JSON path in display form, e.g. `process.capabilities.bounding[3]`. */
    readonly path: string,
    detail: string,
  ) {
    super(path === '' ? detail : `${path}: ${detail}`);
  }
}
