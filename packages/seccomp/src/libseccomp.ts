// The system libseccomp (libseccomp.so.2, 2.5 API), loaded on first use
// only: a container without linux.seccomp (and `runc --version`) must not
// pay for it. Two foreign-function backends call it: koffi under Node, and
// Bun's own bun:ffi in the compiled `runc` (a native addon cannot be loaded
// from inside a single executable, and bun:ffi costs no addon load).

import { closeSync, fstatSync, readSync } from 'node:fs';
import { constants } from 'node:os';
import { SeccompError } from './errors.js';
import { bindWithBunFfi } from './libseccomp-bun.js';
import { bindWithKoffi } from './libseccomp-koffi.js';
import {
  type ArgCompare,
  type RawLibseccomp,
  type RawLoader,
  RUNNING_ON_BUN,
} from './libseccomp-raw.js';
import { LIBSECCOMP_ENV, LIBSECCOMP_SONAME, locateLibseccomp } from './locate.js';

export type { ArgCompare } from './libseccomp-raw.js';

/** An open libseccomp filter context (scmp_filter_ctx). */
export interface FilterContext {
  /** seccomp_arch_add; true when added, false when it was there already. */
  addArch(token: number): boolean;
  /** seccomp_rule_add_array; returns the negative errno libseccomp gave, or 0. */
  addRule(action: number, syscall: number, conditions: readonly ArgCompare[]): number;
  exportBpf(): Buffer;
  exportPfc(): string;
}

export interface Libseccomp {
  /** X.Y.Z as the loaded library reports it (seccomp_version). */
  readonly version: string;
  /** Where it was loaded from (a path, or the soname for the linker's own search). */
  readonly path: string;
  /** seccomp_arch_resolve_name; 0 when unknown. */
  archToken(name: string): number;
  /** seccomp_arch_native. */
  nativeArch(): number;
  /**
   * seccomp_syscall_resolve_name_arch (token 0: the native arch). Negative
   * for a name this arch does not have (libseccomp's pseudo numbers), -1
   * (__NR_SCMP_ERROR) for a name libseccomp does not know at all.
   */
  syscallNumber(name: string, token?: number): number;
  /** Creates a filter with this default action, runs `fn`, releases it. */
  withFilter<T>(defaultAction: number, fn: (filter: FilterContext) => T): T;
  /** raw seccomp(2): the result, or -errno (for probing the kernel). */
  seccompSyscall(operation: number, flags: number, args: bigint | null): number;
}

/** __NR_SCMP_ERROR: seccomp_syscall_resolve_name's "unknown". */
export const NR_SCMP_ERROR = -1;

let cached: Libseccomp | undefined;

/** libseccomp, loaded once; throws SeccompError('LIBSECCOMP_MISSING'). */
export function loadLibseccomp(): Libseccomp {
  cached ??= bind();
  return cached;
}

function errnoName(negative: number): string {
  const value = -negative;
  for (const [name, n] of Object.entries(constants.errno)) if (n === value) return name;
  return `errno ${value}`;
}

/** "-EINVAL" style rendering of a libseccomp return code. */
export function describeLibseccompError(code: number): string {
  return code < 0 ? errnoName(code) : `code ${code}`;
}

function bind(): Libseccomp {
  const loader: RawLoader = RUNNING_ON_BUN ? bindWithBunFfi : bindWithKoffi;
  const located = locateLibseccomp();
  // Not found on the usual paths: the dynamic linker's own search (ld.so.cache).
  const path = located?.path ?? (process.env[LIBSECCOMP_ENV] || LIBSECCOMP_SONAME);
  let raw: RawLibseccomp;
  try {
    raw = loader(path);
  } catch (error) {
    if (error instanceof SeccompError) throw error;
    throw new SeccompError(
      'LIBSECCOMP_MISSING',
      '',
      `seccomp filters need libseccomp (${LIBSECCOMP_SONAME}, e.g. the libseccomp2 package), which cannot be loaded: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const v = raw.version();
  const version = `${v.major}.${v.minor}.${v.micro}`;

  const exportTo = (ctx: unknown, how: (ctx: unknown, fd: number) => number, what: string) => {
    const MFD_CLOEXEC = 1;
    const fd = raw.memfdCreate(`runc-ts-seccomp-${what}`, MFD_CLOEXEC);
    if (fd < 0) {
      throw new SeccompError('LIBSECCOMP_ERROR', '', `memfd_create: ${errnoName(fd)}`);
    }
    try {
      const r = how(ctx, fd);
      if (r < 0) {
        throw new SeccompError(
          'LIBSECCOMP_ERROR',
          '',
          `libseccomp could not export the filter (${what}): ${describeLibseccompError(r)}`,
        );
      }
      const size = fstatSync(fd).size;
      const out = Buffer.alloc(size);
      let done = 0;
      while (done < size) {
        const n = readSync(fd, out, done, size - done, done);
        if (n === 0) break;
        done += n;
      }
      return out.subarray(0, done);
    } finally {
      closeSync(fd);
    }
  };

  return {
    version,
    path,
    archToken: (name) => raw.archResolveName(name),
    nativeArch: () => raw.archNative(),
    syscallNumber: (name, token = 0) =>
      token === 0 ? raw.resolveName(name) : raw.resolveNameArch(token, name),
    withFilter(defaultAction, fn) {
      const ctx = raw.init(defaultAction >>> 0);
      if (ctx === null) {
        throw new SeccompError(
          'LIBSECCOMP_ERROR',
          'linux.seccomp.defaultAction',
          `libseccomp ${version} refused default action 0x${(defaultAction >>> 0).toString(16)}`,
        );
      }
      try {
        return fn({
          addArch(token) {
            const r = raw.archAdd(ctx, token >>> 0);
            if (r === -constants.errno.EEXIST) return false;
            if (r < 0) {
              throw new SeccompError(
                'LIBSECCOMP_ERROR',
                '',
                `seccomp_arch_add(0x${token.toString(16)}): ${describeLibseccompError(r)}`,
              );
            }
            return true;
          },
          addRule: (action, syscall, conditions) =>
            raw.ruleAddArray(ctx, action >>> 0, syscall, conditions),
          exportBpf: () => exportTo(ctx, raw.exportBpf, 'bpf'),
          exportPfc: () => exportTo(ctx, raw.exportPfc, 'pfc').toString('utf8'),
        });
      } finally {
        raw.release(ctx);
      }
    },
    seccompSyscall(operation, flags, args) {
      const SYS_seccomp = SECCOMP_SYSCALL_NUMBERS[process.arch];
      if (SYS_seccomp === undefined) return -constants.errno.ENOSYS;
      return raw.syscall(SYS_seccomp, operation, flags, args);
    },
  };
}

/** __NR_seccomp of the architectures Node runs on. */
const SECCOMP_SYSCALL_NUMBERS: Record<string, number> = {
  x64: 317,
  ia32: 354,
  arm64: 277,
  arm: 383,
  ppc64: 358,
  s390x: 348,
  riscv64: 277,
  loong64: 277,
};
