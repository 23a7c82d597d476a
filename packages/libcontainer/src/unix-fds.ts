// File descriptors over unix sockets (SCM_RIGHTS), which Node cannot pass:
// through the libc seam. Used by restore: CRIU hands back the master of a
// restored terminal on its RPC socket, and runc-ts sends it on to the
// caller's --console-socket, as the executor does at create.
import { closeSync } from 'node:fs';
import { type Libc, loadLibc } from '@runc-ts/cgroups';
import { ContainerError, describeErrno } from './errors.js';

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
const MSG_CMSG_CLOEXEC = 0x40000000;
const MSG_NOSIGNAL = 0x4000;
// x86_64 / arm64 LP64 layouts.
const MSGHDR_SIZE = 56;
const IOVEC_SIZE = 16;
const CMSG_HEADER = 16;
const MAX_FDS = 8;

/** struct msghdr with one iovec over `data` and a control buffer of `control`. */
function messageHeader(
  libc: Libc,
  data: Buffer,
  control: Buffer,
): { header: Buffer; keep: Buffer[] } {
  const iov = Buffer.alloc(IOVEC_SIZE);
  iov.writeBigUInt64LE(libc.address(data), 0);
  iov.writeBigUInt64LE(BigInt(data.length), 8);
  const header = Buffer.alloc(MSGHDR_SIZE);
  header.writeBigUInt64LE(libc.address(iov), 16); // msg_iov
  header.writeBigUInt64LE(1n, 24); // msg_iovlen
  if (control.length > 0) {
    header.writeBigUInt64LE(libc.address(control), 32); // msg_control
    header.writeBigUInt64LE(BigInt(control.length), 40); // msg_controllen
  }
  // The iovec must stay alive (referenced) while the call runs.
  return { header, keep: [iov] };
}

/**
 * One message from a SOCK_SEQPACKET/stream socket into `data`, with the fds
 * sent along (close-on-exec). Throws on errors; length 0 is end-of-file.
 */
export function receiveWithFds(socket: number, data: Buffer): { length: number; fds: number[] } {
  const libc = loadLibc();
  const control = Buffer.alloc(CMSG_HEADER + 4 * MAX_FDS);
  const { header, keep } = messageHeader(libc, data, control);
  let length: number;
  do length = libc.recvmsg(socket, header, MSG_CMSG_CLOEXEC);
  while (length === -4); // EINTR
  keep.length = 0;
  if (length < 0) throw new ContainerError('CRIU', `recvmsg: ${describeErrno(-length)}`);
  const fds: number[] = [];
  const controlLength = Number(header.readBigUInt64LE(40));
  for (let offset = 0; offset + CMSG_HEADER <= controlLength; ) {
    const cmsgLength = Number(control.readBigUInt64LE(offset));
    if (cmsgLength < CMSG_HEADER) break;
    const level = control.readInt32LE(offset + 8);
    const type = control.readInt32LE(offset + 12);
    if (level === SOL_SOCKET && type === SCM_RIGHTS) {
      for (let at = offset + CMSG_HEADER; at + 4 <= offset + cmsgLength; at += 4) {
        fds.push(control.readInt32LE(at));
      }
    }
    offset += (cmsgLength + 7) & ~7;
  }
  return { length, fds };
}

/**
 * Connects to the unix socket `path` and sends `fd` with `SCM_RIGHTS` and
 * `name` as the message (what runc's console-socket receivers read).
 */
export function sendFdToSocket(path: string, fd: number, name: string): void {
  const libc = loadLibc();
  const address = Buffer.alloc(110);
  address.writeUInt16LE(AF_UNIX, 0);
  const pathBytes = Buffer.from(path);
  if (pathBytes.length >= 108) {
    throw new ContainerError('OPTION_INVALID', `--console-socket ${path}: the path is too long`);
  }
  pathBytes.copy(address, 2);
  const socket = libc.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (socket < 0) throw new ContainerError('CRIU', `socket: ${describeErrno(-socket)}`);
  try {
    const connected = libc.connect(socket, address, 2 + pathBytes.length + 1);
    if (connected < 0) {
      throw new ContainerError(
        'OPTION_INVALID',
        `--console-socket ${path}: connect: ${describeErrno(-connected)}`,
      );
    }
    const data = Buffer.from(name);
    const control = Buffer.alloc(CMSG_HEADER + 8);
    control.writeBigUInt64LE(BigInt(CMSG_HEADER + 4), 0);
    control.writeInt32LE(SOL_SOCKET, 8);
    control.writeInt32LE(SCM_RIGHTS, 12);
    control.writeInt32LE(fd, 16);
    const { header, keep } = messageHeader(libc, data, control);
    let sent: number;
    do sent = libc.sendmsg(socket, header, MSG_NOSIGNAL);
    while (sent === -4);
    keep.length = 0;
    if (sent < 0) {
      throw new ContainerError(
        'OPTION_INVALID',
        `--console-socket ${path}: sendmsg: ${describeErrno(-sent)}`,
      );
    }
  } finally {
    closeSync(socket);
  }
}
