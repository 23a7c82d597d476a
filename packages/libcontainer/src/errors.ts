import { constants } from 'node:os';

export type ContainerErrorCode =
  /** A bundle directory or file that cannot be used as asked. */
  | 'BUNDLE_INVALID'
  /** The file `runc spec` would write is already there. */
  | 'CONFIG_EXISTS'
  /** The container id does not match runc's rule. */
  | 'ID_INVALID'
  /** A container with this id already exists under --root. */
  | 'EXISTS'
  /** No container with this id under --root. */
  | 'NOT_FOUND'
  /** The container's status does not allow the operation. */
  | 'BAD_STATUS'
  /** A cgroup could not be created, joined, changed or removed. */
  | 'CGROUP'
  /** Another runc-ts process holds the container's lock for too long. */
  | 'LOCKED'
  /** The config asks for something this runtime cannot plan (see the message). */
  | 'PLAN'
  /** The executor (runc-ts-init) failed a step or died. */
  | 'EXECUTOR'
  /** A hook failed or timed out. */
  | 'HOOK'
  /** A signal name or number that Linux does not have. */
  | 'SIGNAL_INVALID'
  /** A command line option value that cannot be honoured. */
  | 'OPTION_INVALID'
  /** The state directory (--root, $XDG_RUNTIME_DIR/runc-ts) cannot be created or written. */
  | 'STATE_ROOT'
  /** A container's state.json cannot be read as one (not JSON, or fields missing). */
  | 'STATE_CORRUPT'
  /** This host does not let us create a user namespace (disabled by a sysctl or a policy). */
  | 'USERNS_DISABLED'
  /** The config cannot run without root as it is (no user namespace, an rlimit above ours, ...). */
  | 'ROOTLESS_CONFIG'
  /** newuidmap/newgidmap is needed for the config's mappings but not installed. */
  | 'ID_MAPPING_TOOL_MISSING'
  /** /etc/subuid or /etc/subgid does not grant the user the ranges the config maps. */
  | 'SUBID_MISSING'
  /** The uid/gid maps of the user namespace could not be written. */
  | 'ID_MAPPING'
  /** CRIU could not be run, or failed a checkpoint or restore (the message names its log). */
  | 'CRIU'
  /** linux.intelRdt cannot be applied (no resctrl, a missing CLOS, schemata refused). */
  | 'INTEL_RDT'
  /** config.json (or a process.json) is not a valid OCI config; the message names the field. */
  | 'CONFIG_INVALID'
  /** linux.seccomp cannot be compiled or loaded (the message names the rule). */
  | 'SECCOMP'
  /** The executor runc-ts-init was not found (pass `initPath`). */
  | 'EXECUTOR_NOT_FOUND'
  /** The caller's AbortSignal fired (or its timeout passed) while the operation waited. */
  | 'ABORTED'
  /** A system call failed outside the cases above; `cause` is Node's error (errno, syscall, path). */
  | 'SYSTEM';

/** Errors of @runc-ts/libcontainer; `code` is stable, the message is for people. */
export class ContainerError extends Error {
  override readonly name = 'ContainerError';
  constructor(
    readonly code: ContainerErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Errors of the lower layers as one family: @runc-ts/cgroups' CgroupError,
 * @runc-ts/seccomp's SeccompError, @runc-ts/spec's SpecError,
 * @runc-ts/namespaces' PlanError and Node's system errors become
 * ContainerErrors with the same message and the original as `cause`.
 * Matched by name, not by class: importing those packages here would load
 * them into every command. Anything else (a bug) passes through as it is.
 */
export function toContainerError(error: unknown): unknown {
  if (error instanceof ContainerError || !(error instanceof Error)) return error;
  const code = LOWER_LAYER_CODES[error.name];
  if (code) return new ContainerError(code, error.message, { cause: error });
  const errno = error as NodeJS.ErrnoException;
  if (typeof errno.code === 'string' && typeof errno.syscall === 'string') {
    return new ContainerError('SYSTEM', error.message, { cause: error });
  }
  return error;
}

const LOWER_LAYER_CODES: Record<string, ContainerErrorCode> = {
  CgroupError: 'CGROUP',
  SeccompError: 'SECCOMP',
  SpecError: 'CONFIG_INVALID',
  PlanError: 'PLAN',
};

const STRERROR: Record<string, string> = {
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or directory',
  ESRCH: 'no such process',
  EINTR: 'interrupted system call',
  EIO: 'input/output error',
  ENXIO: 'no such device or address',
  E2BIG: 'argument list too long',
  ENOEXEC: 'exec format error',
  EBADF: 'bad file descriptor',
  ECHILD: 'no child processes',
  EAGAIN: 'resource temporarily unavailable',
  ENOMEM: 'cannot allocate memory',
  EACCES: 'permission denied',
  EFAULT: 'bad address',
  EBUSY: 'device or resource busy',
  EEXIST: 'file exists',
  EXDEV: 'invalid cross-device link',
  ENODEV: 'no such device',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  EINVAL: 'invalid argument',
  EMFILE: 'too many open files',
  ENOTTY: 'inappropriate ioctl for device',
  ETXTBSY: 'text file busy',
  EFBIG: 'file too large',
  ENOSPC: 'no space left on device',
  EROFS: 'read-only file system',
  EMLINK: 'too many links',
  EPIPE: 'broken pipe',
  ERANGE: 'numerical result out of range',
  ENAMETOOLONG: 'file name too long',
  ENOSYS: 'function not implemented',
  ENOTEMPTY: 'directory not empty',
  ELOOP: 'too many levels of symbolic links',
  EOPNOTSUPP: 'operation not supported',
  ECONNREFUSED: 'connection refused',
  ETIMEDOUT: 'connection timed out',
  EUSERS: 'too many users',
  EOVERFLOW: 'value too large for defined data type',
  EPROTO: 'protocol error',
  ENOTSUP: 'operation not supported',
};

/** `ENOENT` → "no such file or directory (ENOENT)", as strerror would put it. */
export function describeSystemError(error: unknown): string {
  const err = error as NodeJS.ErrnoException;
  if (err?.code && STRERROR[err.code]) return `${STRERROR[err.code]} (${err.code})`;
  return err?.message ?? String(error);
}

/** errno number → "operation not permitted (EPERM)". */
export function describeErrno(errno: number): string {
  for (const [name, value] of Object.entries(osErrno())) {
    if (value === errno) return STRERROR[name] ? `${STRERROR[name]} (${name})` : name;
  }
  return `errno ${errno}`;
}

function osErrno(): Record<string, number> {
  return constants.errno as Record<string, number>;
}
