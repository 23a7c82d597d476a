export type DeviceFilterErrorCode =
  /** A linux.resources.devices entry cannot be expressed (bad type, number or access). */
  | 'DEVICE_RULE_INVALID'
  /** The buffer handed to attach is not a sequence of 8-byte instructions. */
  | 'BPF_PROGRAM_INVALID'
  /** libc could not be called (no foreign-function interface for it). */
  | 'BPF_UNAVAILABLE'
  /** The cgroup directory could not be opened. */
  | 'BPF_CGROUP_OPEN'
  | 'BPF_LOAD'
  | 'BPF_ATTACH'
  | 'BPF_DETACH'
  | 'BPF_QUERY'
  | 'BPF_GET_FD_BY_ID';

export interface DeviceFilterErrorDetails {
  /** The errno name, e.g. "EPERM". */
  errno?: string;
  /** The cgroup directory the operation was for. */
  path?: string;
  /** The kernel verifier's output when BPF_PROG_LOAD failed. */
  verifierLog?: string;
  cause?: unknown;
}

export class DeviceFilterError extends Error {
  override readonly name = 'DeviceFilterError';
  readonly code: DeviceFilterErrorCode;
  readonly errno: string | undefined;
  readonly path: string | undefined;
  readonly verifierLog: string | undefined;

  constructor(
    code: DeviceFilterErrorCode,
    message: string,
    details: DeviceFilterErrorDetails = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.errno = details.errno;
    this.path = details.path;
    this.verifierLog = details.verifierLog;
  }
}
