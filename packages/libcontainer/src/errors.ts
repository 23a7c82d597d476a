export type ContainerErrorCode =
  /** A bundle directory or file that cannot be used as asked. */
  | 'BUNDLE_INVALID'
  /** The file `runc spec` would write is already there. */
  | 'CONFIG_EXISTS';

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

/** `ENOENT` → "no such file or directory", as strerror would put it. */
export function describeSystemError(error: unknown): string {
  const err = error as NodeJS.ErrnoException;
  const reasons: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    EEXIST: 'file exists',
    ENOTDIR: 'not a directory',
    EISDIR: 'is a directory',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on device',
    EPERM: 'operation not permitted',
  };
  if (err?.code && reasons[err.code]) return `${reasons[err.code]} (${err.code})`;
  return err?.message ?? String(error);
}
