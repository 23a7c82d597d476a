// libseccomp through koffi (a native addon): the backend under Node.

import { createRequire } from 'node:module';
import { SeccompError } from './errors.js';
import type { RawLibseccomp } from './libseccomp-raw.js';

type Koffi = typeof import('koffi');

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

export function bindWithKoffi(path: string): RawLibseccomp {
  const koffi = requireKoffi();
  const lib = koffi.load(path);
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
  const negativeErrno = (r: number) => (r < 0 ? -koffi.errno() : r);
  return {
    version: () =>
      koffi.decode(f.version(), scmpVersion) as { major: number; minor: number; micro: number },
    init: (defaultAction) => {
      const ctx = f.init(defaultAction) as unknown;
      return ctx === null || ctx === 0n ? null : ctx;
    },
    release: (ctx) => f.release(ctx),
    archResolveName: (name) => f.archResolveName(name) as number,
    archNative: () => f.archNative() as number,
    archAdd: (ctx, token) => f.archAdd(ctx, token) as number,
    resolveName: (name) => f.resolveName(name) as number,
    resolveNameArch: (token, name) => f.resolveNameArch(token, name) as number,
    ruleAddArray: (ctx, action, syscall, conditions) => {
      const array = conditions.map((c) => ({
        arg: c.arg,
        op: c.op,
        datum_a: c.datumA,
        datum_b: c.datumB,
      }));
      return f.ruleAddArray(
        ctx,
        action,
        syscall,
        array.length,
        array.length > 0 ? array : null,
      ) as number;
    },
    exportBpf: (ctx, fd) => f.exportBpf(ctx, fd) as number,
    exportPfc: (ctx, fd) => f.exportPfc(ctx, fd) as number,
    memfdCreate: (name, flags) => negativeErrno(f.memfdCreate(name, flags) as number),
    syscall: (number, operation, flags, args) =>
      negativeErrno(
        Number(
          f.syscall(number, 'long', operation, 'long', flags, 'void *', args) as number | bigint,
        ),
      ),
  };
}
