// libseccomp through Bun's own FFI (bun:ffi): the backend of the compiled
// `runc`, which is a Bun single executable and cannot load koffi's addon.

import type { RawLibseccomp } from './libseccomp-raw.js';

/** The part of bun:ffi used here (Bun's types are not a dependency). */
interface BunFfi {
  dlopen(
    path: string,
    symbols: Record<string, { args: string[]; returns: string }>,
  ): { symbols: Record<string, (...args: unknown[]) => unknown> };
  read: {
    u32(pointer: number, offset: number): number;
    i32(pointer: number, offset: number): number;
  };
}

function requireBunFfi(): BunFfi {
  // Bun's synchronous require of its built-in module; only ever called under Bun.
  const bunRequire = (import.meta as unknown as { require?: (id: string) => unknown }).require;
  if (!bunRequire) throw new Error('bun:ffi is only available under Bun');
  return bunRequire('bun:ffi') as BunFfi;
}

const SCMP_ARG_CMP_SIZE = 24; // struct scmp_arg_cmp: u32 arg, i32 op, u64 datum_a, u64 datum_b

/** A NUL-terminated copy for a `const char *` argument. */
const cString = (text: string) => Buffer.from(`${text}\0`, 'utf8');

export function bindWithBunFfi(path: string): RawLibseccomp {
  const ffi = requireBunFfi();
  const { symbols: s } = ffi.dlopen(path, {
    seccomp_version: { args: [], returns: 'ptr' },
    seccomp_init: { args: ['u32'], returns: 'ptr' },
    seccomp_release: { args: ['ptr'], returns: 'void' },
    seccomp_arch_resolve_name: { args: ['ptr'], returns: 'u32' },
    seccomp_arch_native: { args: [], returns: 'u32' },
    seccomp_arch_add: { args: ['ptr', 'u32'], returns: 'i32' },
    seccomp_syscall_resolve_name: { args: ['ptr'], returns: 'i32' },
    seccomp_syscall_resolve_name_arch: { args: ['u32', 'ptr'], returns: 'i32' },
    seccomp_rule_add_array: { args: ['ptr', 'u32', 'i32', 'u32', 'ptr'], returns: 'i32' },
    seccomp_export_bpf: { args: ['ptr', 'i32'], returns: 'i32' },
    seccomp_export_pfc: { args: ['ptr', 'i32'], returns: 'i32' },
  });
  // libc (already loaded with libseccomp): memfd_create, syscall and errno.
  // syscall() is variadic; its x86_64/arm64 implementations read the
  // arguments from the registers fixed arguments use.
  const { symbols: libc } = ffi.dlopen('libc.so.6', {
    memfd_create: { args: ['ptr', 'u32'], returns: 'i32' },
    syscall: { args: ['i64', 'i64', 'i64', 'ptr'], returns: 'i64' },
    __errno_location: { args: [], returns: 'ptr' },
  });
  const errno = () => ffi.read.i32(libc.__errno_location!() as number, 0);
  const negativeErrno = (r: number) => (r < 0 ? -errno() : r);
  return {
    version: () => {
      const p = s.seccomp_version!() as number;
      return { major: ffi.read.u32(p, 0), minor: ffi.read.u32(p, 4), micro: ffi.read.u32(p, 8) };
    },
    init: (defaultAction) => (s.seccomp_init!(defaultAction) as number | null) || null,
    release: (ctx) => {
      s.seccomp_release!(ctx);
    },
    archResolveName: (name) => s.seccomp_arch_resolve_name!(cString(name)) as number,
    archNative: () => s.seccomp_arch_native!() as number,
    archAdd: (ctx, token) => s.seccomp_arch_add!(ctx, token) as number,
    resolveName: (name) => s.seccomp_syscall_resolve_name!(cString(name)) as number,
    resolveNameArch: (token, name) =>
      s.seccomp_syscall_resolve_name_arch!(token, cString(name)) as number,
    ruleAddArray: (ctx, action, syscall, conditions) => {
      let array: Buffer | null = null;
      if (conditions.length > 0) {
        array = Buffer.alloc(conditions.length * SCMP_ARG_CMP_SIZE);
        conditions.forEach((c, i) => {
          const at = i * SCMP_ARG_CMP_SIZE;
          array!.writeUInt32LE(c.arg, at);
          array!.writeInt32LE(c.op, at + 4);
          array!.writeBigUInt64LE(BigInt.asUintN(64, c.datumA), at + 8);
          array!.writeBigUInt64LE(BigInt.asUintN(64, c.datumB), at + 16);
        });
      }
      return s.seccomp_rule_add_array!(ctx, action, syscall, conditions.length, array) as number;
    },
    exportBpf: (ctx, fd) => s.seccomp_export_bpf!(ctx, fd) as number,
    exportPfc: (ctx, fd) => s.seccomp_export_pfc!(ctx, fd) as number,
    memfdCreate: (name, flags) => negativeErrno(libc.memfd_create!(cString(name), flags) as number),
    syscall: (number, operation, flags, args) =>
      negativeErrno(
        Number(libc.syscall!(number, operation, flags, args === null ? null : Number(args))),
      ),
  };
}
