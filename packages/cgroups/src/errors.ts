export type CgroupErrorCode =
  /** A cgroup file could not be written (the kernel refused the value, or the file is missing). */
  | 'CGROUP_WRITE'
  /** A cgroup file could not be read or parsed. */
  | 'CGROUP_READ'
  /** A cgroup directory could not be created or a process could not be moved into it. */
  | 'CGROUP_CREATE'
  /** A cgroup directory could not be removed. */
  | 'CGROUP_REMOVE'
  /** The host cannot do what is asked (controller not mounted, no cgroup2, driver missing). */
  | 'UNSUPPORTED'
  /** A resource value in the config is out of range or inconsistent; the message names its JSON path. */
  | 'INVALID'
  /** The cgroup stayed busy (processes left in it, freezing did not finish) past the retry time. */
  | 'BUSY';

/** Errors of @runc-ts/cgroups; `code` is stable, the message is for people. */
export class CgroupError extends Error {
  override readonly name = 'CgroupError';
  /** The file or directory concerned, when there is one. */
  readonly path: string | undefined;
  /** errno name (EBUSY, ENOENT...) when a system call failed. */
  readonly errno: string | undefined;
  constructor(
    readonly code: CgroupErrorCode,
    message: string,
    options?: { cause?: unknown; path?: string; errno?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.path = options?.path;
    this.errno = options?.errno;
  }
}

// glibc's strerror wording, which runc's messages (and people) know.
const STRERROR: Record<string, string> = {
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  ESRCH: 'No such process',
  EINTR: 'Interrupted system call',
  EIO: 'Input/output error',
  EBADF: 'Bad file descriptor',
  EAGAIN: 'Resource temporarily unavailable',
  ENOMEM: 'Cannot allocate memory',
  EACCES: 'Permission denied',
  EBUSY: 'Device or resource busy',
  EEXIST: 'File exists',
  ENODEV: 'No such device',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  EINVAL: 'Invalid argument',
  ENOSPC: 'No space left on device',
  EROFS: 'Read-only file system',
  ERANGE: 'Numerical result out of range',
  ENOTEMPTY: 'Directory not empty',
  EOPNOTSUPP: 'Operation not supported',
  ENOTSUP: 'Operation not supported',
  ENOTSUPP: 'Operation not supported',
  ENXIO: 'No such device or address',
  E2BIG: 'Argument list too long',
  EMFILE: 'Too many open files',
};

export function errnoOf(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** "Device or resource busy" for an EBUSY error; the error's own message otherwise. */
export function describeErrno(error: unknown): string {
  const code = errnoOf(error);
  if (code && STRERROR[code]) return STRERROR[code];
  // Node reports the kernel's ENOTSUPP (524), which libuv does not know, as UNKNOWN.
  if ((error as NodeJS.ErrnoException | undefined)?.errno === -524)
    return 'Operation not supported';
  return error instanceof Error ? error.message : String(error);
}

export function isPermissionError(error: unknown): boolean {
  const code = errnoOf(error);
  return code === 'EACCES' || code === 'EPERM' || code === 'EROFS';
}
