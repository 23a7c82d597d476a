/** Stable codes of @runc-ts/seccomp's errors; callers branch on these, not on messages. */
export type SeccompErrorCode =
  /** A linux.seccomp field that cannot be compiled (bad action/errno/arg/flag combination). */
  | 'SECCOMP_INVALID'
  /** An architecture the installed libseccomp does not know. */
  | 'ARCH_UNKNOWN'
  /** libseccomp refused a rule or the filter (its errno is in the message). */
  | 'LIBSECCOMP_ERROR'
  /** libseccomp.so.2 (or koffi, the FFI that loads it) is not installed or too old. */
  | 'LIBSECCOMP_MISSING'
  /** The compiled program is larger than the kernel accepts (BPF_MAXINSNS). */
  | 'PROGRAM_TOO_LARGE';

/**
 * A seccomp profile that cannot be turned into a filter. `path` is the JSON
 * path of the offending field (`linux.seccomp.syscalls[3].args[0].op`), empty
 * when the problem is not one field's; the message is `<path>: <what is wrong>`.
 */
export class SeccompError extends Error {
  override readonly name = 'SeccompError';
  constructor(
    readonly code: SeccompErrorCode,
    readonly path: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(path === '' ? detail : `${path}: ${detail}`, options);
  }
}
