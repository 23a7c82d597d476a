// The libseccomp calls runc-ts makes, as each FFI backend provides them.

/** One condition of a rule: struct scmp_arg_cmp. */
export interface ArgCompare {
  arg: number;
  op: number;
  datumA: bigint;
  datumB: bigint;
}

/** Thin calls into libseccomp and libc; negative results are -errno. */
export interface RawLibseccomp {
  version(): { major: number; minor: number; micro: number };
  /** seccomp_init: an opaque filter context, or null. */
  init(defaultAction: number): unknown;
  release(ctx: unknown): void;
  archResolveName(name: string): number;
  archNative(): number;
  archAdd(ctx: unknown, token: number): number;
  resolveName(name: string): number;
  resolveNameArch(token: number, name: string): number;
  ruleAddArray(
    ctx: unknown,
    action: number,
    syscall: number,
    conditions: readonly ArgCompare[],
  ): number;
  exportBpf(ctx: unknown, fd: number): number;
  exportPfc(ctx: unknown, fd: number): number;
  /** memfd_create(2): the fd, or -errno. */
  memfdCreate(name: string, flags: number): number;
  /** seccomp(2) through libc's syscall(): the result, or -errno. */
  syscall(number: number, operation: number, flags: number, args: bigint | null): number;
}

/** Opens libseccomp at `path` (a path or a soname); throws when it cannot. */
export type RawLoader = (path: string) => RawLibseccomp;

/** The compiled `runc` runs on Bun; the packages run on Node too. */
export const RUNNING_ON_BUN = typeof process.versions.bun === 'string';
