// The few libc calls the cgroup drivers make that Node has no API for:
// eventfd(2) for OOM notification (v1), bpf(2) for the v2 device filter, and
// flock(2) for libcontainer's per-container locks (released by the kernel
// when their holder dies).
// Two foreign-function backends, loaded on first use only: koffi (a native
// addon) under Node, and Bun's own bun:ffi in the compiled `runc`, which
// cannot load koffi's addon from inside its single executable.
import { createRequire } from 'node:module';

export interface Libc {
  /** eventfd(2): the fd, or -errno. */
  eventfd(initval: number, flags: number): number;
  /** syscall(number, int, void *, unsigned int) (bpf(2)'s shape): the result, or -errno. */
  syscallWithBuffer(number: number, command: number, buffer: Buffer, size: number): number;
  /** flock(2): 0, or -errno. */
  flock(fd: number, operation: number): number;
  /** strerror(3). */
  strerror(errno: number): string;
  /** The address of a buffer's first byte, for pointers inside another buffer. */
  address(buffer: Buffer): bigint;
}

let loaded: Libc | undefined;

/** libc through the runtime's FFI, loaded once; throws when it cannot be. */
export function loadLibc(): Libc {
  loaded ??= typeof process.versions.bun === 'string' ? bindWithBunFfi() : bindWithKoffi();
  return loaded;
}

type Koffi = typeof import('koffi');

function bindWithKoffi(): Libc {
  // The CLI's Node bundle is CommonJS and has `require`; as an ES module
  // this package has only import.meta.url.
  const load = typeof require === 'function' ? require : createRequire(import.meta.url);
  const koffi = load('koffi') as Koffi;
  const libc = koffi.load('libc.so.6');
  const eventfd = libc.func('int eventfd(unsigned int initval, int flags)');
  const syscall = libc.func('long syscall(long number, ...)');
  const strerror = libc.func('const char *strerror(int errnum)');
  const flock = libc.func('int flock(int fd, int operation)');
  const negativeErrno = (result: number) => (result < 0 ? -koffi.errno() : result);
  return {
    eventfd: (initval, flags) => negativeErrno(eventfd(initval, flags) as number),
    syscallWithBuffer: (number, command, buffer, size) =>
      negativeErrno(
        Number(syscall(number, 'int', command, 'void *', buffer, 'unsigned int', size)),
      ),
    flock: (fd, operation) => negativeErrno(flock(fd, operation) as number),
    strerror: (errno) => strerror(errno) as string,
    address: (buffer) => BigInt(koffi.address(buffer) as number | bigint),
  };
}

/** The part of bun:ffi used here (Bun's types are not a dependency). */
interface BunFfi {
  dlopen(
    path: string,
    symbols: Record<string, { args: string[]; returns: string }>,
  ): { symbols: Record<string, (...args: unknown[]) => unknown> };
  ptr(view: ArrayBufferView): number;
  read: { i32(pointer: number, offset: number): number };
}

function bindWithBunFfi(): Libc {
  const bunRequire = (import.meta as unknown as { require?: (id: string) => unknown }).require;
  if (!bunRequire) throw new Error('bun:ffi is only available under Bun');
  const ffi = bunRequire('bun:ffi') as BunFfi;
  const { symbols: libc } = ffi.dlopen('libc.so.6', {
    eventfd: { args: ['u32', 'i32'], returns: 'i32' },
    // Variadic in C; its x86_64/arm64 code reads the registers fixed arguments use.
    syscall: { args: ['i64', 'i32', 'ptr', 'u32'], returns: 'i64' },
    strerror: { args: ['i32'], returns: 'cstring' },
    flock: { args: ['i32', 'i32'], returns: 'i32' },
    __errno_location: { args: [], returns: 'ptr' },
  });
  const errno = () => ffi.read.i32(libc.__errno_location!() as number, 0);
  const negativeErrno = (result: number) => (result < 0 ? -errno() : result);
  return {
    eventfd: (initval, flags) => negativeErrno(libc.eventfd!(initval, flags) as number),
    syscallWithBuffer: (number, command, buffer, size) =>
      negativeErrno(Number(libc.syscall!(number, command, buffer, size))),
    flock: (fd, operation) => negativeErrno(libc.flock!(fd, operation) as number),
    strerror: (value) => String(libc.strerror!(value)),
    address: (buffer) => BigInt(ffi.ptr(buffer)),
  };
}
