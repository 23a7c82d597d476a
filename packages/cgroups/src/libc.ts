// The few libc calls runc-ts makes that Node has no API for: eventfd(2)
// for OOM notification (v1), bpf(2) for the v2 device filter, flock(2) for
// libcontainer's per-container locks (released by the kernel when their
// holder dies), and for checkpoint/restore a SOCK_SEQPACKET socketpair(2)
// to talk to CRIU, SCM_RIGHTS messages and waitid(2) to reap the restored
// init, which CRIU, not Node, made our child.
// Two foreign-function backends, loaded on first use only: koffi (a native
// addon) under Node, and Bun's own bun:ffi in the compiled `runc`, which
// cannot load koffi's addon from inside its single executable.
import { createRequire } from 'node:module';
import { bunFfi } from './bun-ffi.js';

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
  /** socketpair(2) into `fds` (two int32): 0, or -errno. */
  socketpair(domain: number, type: number, protocol: number, fds: Buffer): number;
  /** waitid(2) with `info` a siginfo_t (128 bytes) and no rusage: 0, or -errno. */
  waitid(idtype: number, id: number, info: Buffer, options: number): number;
  /** mount(2) without data: 0, or -errno. */
  mount(source: string, target: string, fstype: string, flags: number): number;
  /** umount2(2): 0, or -errno. */
  umount2(target: string, flags: number): number;
  /** prctl(2) with one argument: the result, or -errno. */
  prctl(option: number, arg: number): number;
  /** fcntl(2) with an int argument (F_DUPFD_CLOEXEC...): the result, or -errno. */
  fcntl(fd: number, command: number, arg: number): number;
  /** socket(2): the fd, or -errno. */
  socket(domain: number, type: number, protocol: number): number;
  /** connect(2) with `address` a sockaddr: 0, or -errno. */
  connect(fd: number, address: Buffer, length: number): number;
  /** recvmsg(2) with `message` a struct msghdr (pointers from address()): bytes, or -errno. */
  recvmsg(fd: number, message: Buffer, flags: number): number;
  /** sendmsg(2), likewise: bytes, or -errno. */
  sendmsg(fd: number, message: Buffer, flags: number): number;
}

/** A C string argument for bun:ffi (koffi converts JS strings itself). */
const cString = (text: string) => Buffer.from(`${text}\0`);

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
  const socketpair = libc.func('int socketpair(int domain, int type, int protocol, void *sv)');
  const waitid = libc.func('int waitid(int idtype, int id, void *infop, int options)');
  const mount = libc.func(
    'int mount(const char *source, const char *target, const char *fstype, unsigned long flags, void *data)',
  );
  const umount2 = libc.func('int umount2(const char *target, int flags)');
  const prctl = libc.func('int prctl(int option, unsigned long arg2)');
  const fcntl = libc.func('int fcntl(int fd, int cmd, int arg)');
  const socket = libc.func('int socket(int domain, int type, int protocol)');
  const connect = libc.func('int connect(int fd, void *addr, unsigned int len)');
  const recvmsg = libc.func('long recvmsg(int fd, void *msg, int flags)');
  const sendmsg = libc.func('long sendmsg(int fd, void *msg, int flags)');
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
    socketpair: (domain, type, protocol, fds) =>
      negativeErrno(socketpair(domain, type, protocol, fds) as number),
    waitid: (idtype, id, info, options) =>
      negativeErrno(waitid(idtype, id, info, options) as number),
    mount: (source, target, fstype, flags) =>
      negativeErrno(mount(source, target, fstype, flags, null) as number),
    umount2: (target, flags) => negativeErrno(umount2(target, flags) as number),
    prctl: (option, arg) => negativeErrno(prctl(option, arg) as number),
    fcntl: (fd, command, arg) => negativeErrno(fcntl(fd, command, arg) as number),
    socket: (domain, type, protocol) => negativeErrno(socket(domain, type, protocol) as number),
    connect: (fd, address, length) => negativeErrno(connect(fd, address, length) as number),
    recvmsg: (fd, message, flags) => negativeErrno(Number(recvmsg(fd, message, flags))),
    sendmsg: (fd, message, flags) => negativeErrno(Number(sendmsg(fd, message, flags))),
  };
}

function bindWithBunFfi(): Libc {
  const ffi = bunFfi();
  const signatures: Record<string, { args: string[]; returns: string }> = {
    eventfd: { args: ['u32', 'i32'], returns: 'i32' },
    // Variadic in C; its x86_64/arm64 code reads the registers fixed arguments use.
    syscall: { args: ['i64', 'i32', 'ptr', 'u32'], returns: 'i64' },
    strerror: { args: ['i32'], returns: 'cstring' },
    flock: { args: ['i32', 'i32'], returns: 'i32' },
    __errno_location: { args: [], returns: 'ptr' },
    socketpair: { args: ['i32', 'i32', 'i32', 'ptr'], returns: 'i32' },
    waitid: { args: ['i32', 'i32', 'ptr', 'i32'], returns: 'i32' },
    mount: { args: ['ptr', 'ptr', 'ptr', 'u64', 'ptr'], returns: 'i32' },
    umount2: { args: ['ptr', 'i32'], returns: 'i32' },
    prctl: { args: ['i32', 'u64'], returns: 'i32' },
    // Variadic in C; an int third argument travels in the same register.
    fcntl: { args: ['i32', 'i32', 'i32'], returns: 'i32' },
    socket: { args: ['i32', 'i32', 'i32'], returns: 'i32' },
    connect: { args: ['i32', 'ptr', 'u32'], returns: 'i32' },
    recvmsg: { args: ['i32', 'ptr', 'i32'], returns: 'i64' },
    sendmsg: { args: ['i32', 'ptr', 'i32'], returns: 'i64' },
  };
  // bun:ffi compiles a trampoline for every symbol it binds (~0.9 ms for
  // all of these): each is bound on first use, so a command pays only for
  // the calls it makes (start and delete: flock).
  const opened: unknown[] = [];
  const cache: Record<string, (...args: unknown[]) => unknown> = {};
  const libc = new Proxy(cache, {
    get(bound, name: string) {
      if (!bound[name]) {
        const signature = signatures[name];
        if (!signature) throw new Error(`libc.ts: no signature for ${name}`);
        const library = ffi.dlopen('libc.so.6', { [name]: signature });
        opened.push(library);
        bound[name] = library.symbols[name]!;
      }
      return bound[name];
    },
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
    socketpair: (domain, type, protocol, fds) =>
      negativeErrno(libc.socketpair!(domain, type, protocol, fds) as number),
    waitid: (idtype, id, info, options) =>
      negativeErrno(libc.waitid!(idtype, id, info, options) as number),
    mount: (source, target, fstype, flags) =>
      negativeErrno(
        libc.mount!(cString(source), cString(target), cString(fstype), flags, null) as number,
      ),
    umount2: (target, flags) => negativeErrno(libc.umount2!(cString(target), flags) as number),
    prctl: (option, arg) => negativeErrno(libc.prctl!(option, arg) as number),
    fcntl: (fd, command, arg) => negativeErrno(libc.fcntl!(fd, command, arg) as number),
    socket: (domain, type, protocol) =>
      negativeErrno(libc.socket!(domain, type, protocol) as number),
    connect: (fd, address, length) => negativeErrno(libc.connect!(fd, address, length) as number),
    recvmsg: (fd, message, flags) => negativeErrno(Number(libc.recvmsg!(fd, message, flags))),
    sendmsg: (fd, message, flags) => negativeErrno(Number(libc.sendmsg!(fd, message, flags))),
  };
}
