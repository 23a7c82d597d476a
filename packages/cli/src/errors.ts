/** A command line that cannot be run as given (bad flag value, wrong argument count). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly code = 'USAGE';
  constructor(
    message: string,
    /** runc exits 3 for an unknown command and 1 for every other usage error. */
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** A failed `runc exec`: runc exits 255 for those, whatever the cause, and says `exec failed: `. */
export class ExecFailedError extends Error {
  override readonly name = 'ExecFailedError';
  readonly code: string;
  readonly exitCode = 255;
  constructor(cause: unknown) {
    super(`exec failed: ${messageOf(cause)}`, { cause });
    this.code = (cause as { code?: string }).code ?? 'EXEC';
  }
}

/**
 * Exit status for an error that reached the top level. runc exits 1 for every
 * failure except usage errors that its CLI library reports itself.
 */
export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError || error instanceof ExecFailedError) return error.exitCode;
  return 1;
}

/** The one-line message logged for an error. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
