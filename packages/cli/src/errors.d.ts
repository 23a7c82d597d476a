/** A command line that cannot be run as given (bad flag value, wrong argument count). */
export declare class UsageError extends Error {
  /** runc exits 3 for an unknown command and 1 for every other usage error. */
  readonly exitCode: number;
  readonly name = 'UsageError';
  readonly code = 'USAGE';
  constructor(
    message: string,
    /** runc exits 3 for an unknown command and 1 for every other usage error. */
    exitCode?: number,
  );
}
/**
 * Exit status for an error that reached the top level. runc exits 1 for every
 * failure except usage errors that its CLI library reports itself.
 */
export declare function exitCodeFor(error: unknown): number;
/** The one-line message logged for an error. */
export declare function messageOf(error: unknown): string;
//# sourceMappingURL=errors.d.ts.map
