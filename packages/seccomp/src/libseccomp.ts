// koffi bindings to the system libseccomp (libseccomp.so.2, 2.5 API). Loaded
// on first use only: koffi is a native addon whose load costs ~15 ms, which
// a container without linux.seccomp (and `runc --version`) must not pay.

import { closeSync, fstatSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { SeccompError } from './errors.js';
import { LIBSECCOMP_ENV, LIBSECCOMP_SONAME, locateLibseccomp } from './locate.js';

type Koffi = typeof import('koffi');

/** One condition of a rule: struct scmp_arg_cmp. */
export interface ArgCompare {
  arg: number;
  op: number;
  datumA: bigint;
  datumB: bigint;
}

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

/** libseccomp through koffi, loaded once; throws SeccompError('LIBSECCOMP_MISSING'). */
export function loadLibseccomp(): Libseccomp {
  cached ??= bind();
  return cached;
}

function requireKoffi(): Koffi {
  // In the CLI's CommonJS bundle `require` is the bundle's own (koffi
  // resolves from packages/cli); in ESM (tests, dist) there is none.
  const load = typeof require === 'function' ? require : createRequire(import.meta.url);
  try {
    return load('koffi') as Koffi;
  } catch (error) {
    throw new SeccompError(
      'LIBSECCOMP_MISSING',
      '',
      `seccomp needs the koffi module to call libseccomp, and it cannot be loaded: ${(error as Error).message}`,
      { cause: error },
    );
  }
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
  const koffi = requireKoffi();
  const located = locateLibseccomp();
  // Not found on the usual paths: the dynamic linker's own search (ld.so.cache).
  const path = located?.path ?? (process.env[LIBSECCOMP_ENV] || LIBSECCOMP_SONAME);
  let lib: ReturnType<Koffi['load']>;
  try {
    lib = koffi.load(path);
  } catch (error) {
    throw new SeccompError(
      'LIBSECCOMP_MISSING',
      '',
      `seccomp filters need libseccomp (${LIBSECCOMP_SONAME}, e.g. the libseccomp2 package), which cannot be loaded: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const scmpVersion = koffi.struct('rts_scmp_version', {
    major: 'uint',
    minor: 'uint',
    micro: 'uint',
  });
  koffi.struct('rts_scmp_arg_cmp', {
    arg: 'uint',
    op: 'int',
    datum_a: 'uint64_t',
    datum_b: 'uint64_t',
  });
  koffi.opaque('rts_scmp_filter');
  const f = {
    version: lib.func('const rts_scmp_version *seccomp_version(void)'),
    init: lib.func('rts_scmp_filter *seccomp_init(uint32_t def_action)'),
    release: lib.func('void seccomp_release(rts_scmp_filter *ctx)'),
    archResolveName: lib.func('uint32_t seccomp_arch_resolve_name(const char *name)'),
    archNative: lib.func('uint32_t seccomp_arch_native(void)'),
    archAdd: lib.func('int seccomp_arch_add(rts_scmp_filter *ctx, uint32_t arch)'),
    resolveName: lib.func('int seccomp_syscall_resolve_name(const char *name)'),
    resolveNameArch: lib.func(
      'int seccomp_syscall_resolve_name_arch(uint32_t arch, const char *name)',
    ),
    ruleAddArray: lib.func(
      'int seccomp_rule_add_array(rts_scmp_filter *ctx, uint32_t action, int syscall, unsigned int count, const rts_scmp_arg_cmp *conditions)',
    ),
    exportBpf: lib.func('int seccomp_export_bpf(rts_scmp_filter *ctx, int fd)'),
    exportPfc: lib.func('int seccomp_export_pfc(rts_scmp_filter *ctx, int fd)'),
    // libc, found through libseccomp's own dependencies
    memfdCreate: lib.func('int memfd_create(const char *name, unsigned int flags)'),
    syscall: lib.func('long syscall(long number, ...)'),
  };
  const v = koffi.decode(f.version(), scmpVersion) as {
    major: number;
    minor: number;
    micro: number;
  };
  const version = `${v.major}.${v.minor}.${v.micro}`;

  const exportTo = (ctx: unknown, how: (ctx: unknown, fd: number) => number, what: string) => {
    const MFD_CLOEXEC = 1;
    const fd = f.memfdCreate(`runc-ts-seccomp-${what}`, MFD_CLOEXEC) as number;
    if (fd < 0) {
      throw new SeccompError('LIBSECCOMP_ERROR', '', `memfd_create: errno ${koffi.errno()}`);
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
    archToken: (name) => f.archResolveName(name) as number,
    nativeArch: () => f.archNative() as number,
    syscallNumber: (name, token = 0) =>
      (token === 0 ? f.resolveName(name) : f.resolveNameArch(token, name)) as number,
    withFilter(defaultAction, fn) {
      const ctx = f.init(defaultAction >>> 0);
      if (ctx === null || ctx === 0n) {
        throw new SeccompError(
          'LIBSECCOMP_ERROR',
          'linux.seccomp.defaultAction',
          `libseccomp ${version} refused default action 0x${(defaultAction >>> 0).toString(16)}`,
        );
      }
      try {
        return fn({
          addArch(token) {
            const r = f.archAdd(ctx, token >>> 0) as number;
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
          addRule(action, syscall, conditions) {
            const array = conditions.map((c) => ({
              arg: c.arg,
              op: c.op,
              datum_a: c.datumA,
              datum_b: c.datumB,
            }));
            return f.ruleAddArray(
              ctx,
              action >>> 0,
              syscall,
              array.length,
              array.length > 0 ? array : null,
            ) as number;
          },
          exportBpf: () => exportTo(ctx, f.exportBpf, 'bpf'),
          exportPfc: () => exportTo(ctx, f.exportPfc, 'pfc').toString('utf8'),
        });
      } finally {
        f.release(ctx);
      }
    },
    seccompSyscall(operation, flags, args) {
      const SYS_seccomp = SECCOMP_SYSCALL_NUMBERS[process.arch];
      if (SYS_seccomp === undefined) return -constants.errno.ENOSYS;
      const r = f.syscall(SYS_seccomp, 'long', operation, 'long', flags, 'void *', args) as
        | number
        | bigint;
      return Number(r) < 0 ? -koffi.errno() : Number(r);
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
