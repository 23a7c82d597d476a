/**
 * Loading and attaching device filters with the bpf(2) syscall, called
 * through libc (../libc.ts: koffi or bun:ffi, loaded on first use, which
 * start-up must not pay for).
 */
import { closeSync, constants as fsConstants, openSync, statfsSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { type Libc, loadLibc } from '../libc.js';
import { DeviceFilterError, type DeviceFilterErrorCode } from './errors.js';
import { instructionCount } from './insn.js';

/** bpf(2) commands (enum bpf_cmd). */
const BPF_PROG_LOAD = 5;
const BPF_PROG_ATTACH = 8;
const BPF_PROG_DETACH = 9;
const BPF_PROG_GET_FD_BY_ID = 13;
const BPF_PROG_QUERY = 16;

const COMMAND_NAMES: Record<number, string> = {
  [BPF_PROG_LOAD]: 'BPF_PROG_LOAD',
  [BPF_PROG_ATTACH]: 'BPF_PROG_ATTACH',
  [BPF_PROG_DETACH]: 'BPF_PROG_DETACH',
  [BPF_PROG_GET_FD_BY_ID]: 'BPF_PROG_GET_FD_BY_ID',
  [BPF_PROG_QUERY]: 'BPF_PROG_QUERY',
};

const BPF_PROG_TYPE_CGROUP_DEVICE = 15;
const BPF_CGROUP_DEVICE = 6;
const BPF_F_ALLOW_MULTI = 1 << 1;
/** The kernel's limit of programs per attach point (BPF_CGROUP_MAX_PROGS). */
const MAX_PROGS_PER_CGROUP = 64;

const CGROUP2_SUPER_MAGIC = 0x63677270;

/** System call numbers of bpf(2) by Node's process.arch. */
const SYS_BPF: Partial<Record<string, number>> = {
  x64: 321,
  arm64: 280,
  riscv64: 280,
  loong64: 280,
  ia32: 357,
  arm: 386,
  ppc64: 361,
  s390x: 351,
};

/**
 * union bpf_attr is passed zero-filled at this size: larger than every
 * member used here, and the kernel accepts a size smaller than its own union
 * (the rest reads as zero) or larger (when the extra bytes are zero).
 */
const ATTR_SIZE = 128;

/** No GPL-only helper is called, so any license string loads. */
const LICENSE = Buffer.from('Apache-2.0\0');
/** Shown by `bpftool prog`; at most 15 characters of [A-Za-z0-9_.]. */
const PROGRAM_NAME = 'runc_ts_devices';
const VERIFIER_LOG_SIZE = 256 * 1024;
/** The verifier log is kept whole in the error; the message shows its end. */
const VERIFIER_LOG_IN_MESSAGE = 4000;

interface Bindings {
  /** bpf(cmd, attr, ATTR_SIZE): the result, or -errno. */
  bpf(cmd: number, attr: Buffer): number;
  strerror(errno: number): string;
  address(buffer: Buffer): bigint;
}

let bindings: Bindings | undefined;

function loadBindings(): Bindings {
  if (bindings) return bindings;
  const sysBpf = SYS_BPF[process.arch];
  if (sysBpf === undefined) {
    throw new DeviceFilterError(
      'BPF_UNAVAILABLE',
      `bpf(2): no system call number known for architecture ${process.arch}`,
    );
  }
  let libc: Libc;
  try {
    libc = loadLibc();
  } catch (error) {
    throw new DeviceFilterError(
      'BPF_UNAVAILABLE',
      `bpf(2): cannot call libc.so.6 to make it: ${(error as Error).message}`,
      { cause: error },
    );
  }
  bindings = {
    bpf: (cmd, attr) => libc.syscallWithBuffer(sysBpf, cmd, attr, ATTR_SIZE),
    strerror: (errno) => libc.strerror(errno),
    address: (buffer) => libc.address(buffer),
  };
  return bindings;
}

let errnoNames: Map<number, string> | undefined;

function errnoName(errno: number): string {
  if (!errnoNames) {
    errnoNames = new Map();
    // First name wins for aliases (EAGAIN before EWOULDBLOCK).
    for (const [name, value] of Object.entries(osConstants.errno)) {
      if (!errnoNames.has(value)) errnoNames.set(value, name);
    }
  }
  return errnoNames.get(errno) ?? `errno ${errno}`;
}

function bpfError(
  lib: Bindings,
  code: DeviceFilterErrorCode,
  cmd: number,
  cgroupDir: string,
  errno: number,
  extra: { hint?: string; verifierLog?: string } = {},
): DeviceFilterError {
  const name = errnoName(errno);
  let message = `bpf(${COMMAND_NAMES[cmd]}) for ${cgroupDir}: ${lib.strerror(errno)} (${name})`;
  if (extra.hint) message += `; ${extra.hint}`;
  if (extra.verifierLog) {
    const log = extra.verifierLog.trimEnd();
    const shown =
      log.length > VERIFIER_LOG_IN_MESSAGE ? `...${log.slice(-VERIFIER_LOG_IN_MESSAGE)}` : log;
    message += `\nverifier log:\n${shown}`;
  }
  return new DeviceFilterError(code, message, {
    errno: name,
    path: cgroupDir,
    ...(extra.verifierLog ? { verifierLog: extra.verifierLog } : {}),
  });
}

function newAttr(): Buffer {
  return Buffer.alloc(ATTR_SIZE);
}

function putPointer(lib: Bindings, attr: Buffer, offset: number, target: Buffer): void {
  attr.writeBigUInt64LE(lib.address(target), offset);
}

/** Opens a cgroup v2 directory; the caller closes the fd. */
function openCgroup(cgroupDir: string): number {
  let magic: number;
  try {
    magic = statfsSync(cgroupDir).type;
  } catch (error) {
    throw new DeviceFilterError(
      'BPF_CGROUP_OPEN',
      `cannot attach a device filter to ${cgroupDir}: ${(error as Error).message}`,
      { path: cgroupDir, errno: (error as NodeJS.ErrnoException).code, cause: error },
    );
  }
  if (magic !== CGROUP2_SUPER_MAGIC) {
    throw new DeviceFilterError(
      'BPF_CGROUP_OPEN',
      `cannot attach a device filter to ${cgroupDir}: not a cgroup v2 directory (device filters are a cgroup v2 feature)`,
      { path: cgroupDir },
    );
  }
  try {
    return openSync(cgroupDir, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY);
  } catch (error) {
    throw new DeviceFilterError(
      'BPF_CGROUP_OPEN',
      `cannot open ${cgroupDir}: ${(error as Error).message}`,
      { path: cgroupDir, errno: (error as NodeJS.ErrnoException).code, cause: error },
    );
  }
}

function loadProgram(lib: Bindings, program: Buffer, cgroupDir: string): number {
  // A private copy: the kernel reads it through its address, so it must not
  // be a view the caller could change, and must stay referenced here.
  const insns = Buffer.alloc(program.length);
  program.copy(insns);
  const attempt = (logBuffer: Buffer | undefined): number => {
    const attr = newAttr();
    attr.writeUInt32LE(BPF_PROG_TYPE_CGROUP_DEVICE, 0); // prog_type
    attr.writeUInt32LE(insns.length / 8, 4); // insn_cnt
    putPointer(lib, attr, 8, insns); // insns
    putPointer(lib, attr, 16, LICENSE); // license
    if (logBuffer) {
      attr.writeUInt32LE(1, 24); // log_level
      attr.writeUInt32LE(logBuffer.length, 28); // log_size
      putPointer(lib, attr, 32, logBuffer); // log_buf
    }
    attr.write(PROGRAM_NAME, 48, 'latin1'); // prog_name[16], NUL-terminated by the zero fill
    // libbpf's practice: the verifier can fail transiently with EAGAIN.
    for (let tries = 1; ; tries++) {
      const result = lib.bpf(BPF_PROG_LOAD, attr);
      if (result !== -osConstants.errno.EAGAIN || tries === 5) return result;
    }
  };
  const fd = attempt(undefined);
  if (fd >= 0) return fd;
  // Loaded again with the verifier log on, only to say why it failed.
  const log = Buffer.alloc(VERIFIER_LOG_SIZE);
  const retried = attempt(log);
  if (retried >= 0) return retried;
  const end = log.indexOf(0);
  const verifierLog = log.toString('utf8', 0, end === -1 ? log.length : end);
  const errno = -retried;
  const hint =
    errno === osConstants.errno.EPERM
      ? 'loading a device filter needs CAP_SYS_ADMIN (or CAP_BPF and CAP_NET_ADMIN), and before Linux 5.11 enough RLIMIT_MEMLOCK'
      : undefined;
  throw bpfError(lib, 'BPF_LOAD', BPF_PROG_LOAD, cgroupDir, errno, {
    ...(hint ? { hint } : {}),
    ...(verifierLog ? { verifierLog } : {}),
  });
}

interface AttachedPrograms {
  ids: number[];
  /** The attach mode of the cgroup: 0, BPF_F_ALLOW_OVERRIDE or BPF_F_ALLOW_MULTI. */
  flags: number;
}

/** The device programs attached to this cgroup itself (not inherited ones). */
function queryPrograms(lib: Bindings, cgroupFd: number, cgroupDir: string): AttachedPrograms {
  let capacity = MAX_PROGS_PER_CGROUP;
  for (;;) {
    const ids = Buffer.alloc(capacity * 4);
    const attr = newAttr();
    attr.writeUInt32LE(cgroupFd, 0); // target_fd
    attr.writeUInt32LE(BPF_CGROUP_DEVICE, 4); // attach_type
    putPointer(lib, attr, 16, ids); // prog_ids
    attr.writeUInt32LE(capacity, 24); // prog_cnt: capacity in, count out
    const result = lib.bpf(BPF_PROG_QUERY, attr);
    const count = attr.readUInt32LE(24);
    if (result === -osConstants.errno.ENOSPC && count > capacity) {
      capacity = count;
      continue;
    }
    if (result < 0) throw bpfError(lib, 'BPF_QUERY', BPF_PROG_QUERY, cgroupDir, -result);
    const found: number[] = [];
    for (let i = 0; i < count; i++) found.push(ids.readUInt32LE(i * 4));
    return { ids: found, flags: attr.readUInt32LE(12) };
  }
}

function attachProgram(
  lib: Bindings,
  cgroupFd: number,
  programFd: number,
  flags: number,
  cgroupDir: string,
): void {
  const attr = newAttr();
  attr.writeUInt32LE(cgroupFd, 0); // target_fd
  attr.writeUInt32LE(programFd, 4); // attach_bpf_fd
  attr.writeUInt32LE(BPF_CGROUP_DEVICE, 8); // attach_type
  attr.writeUInt32LE(flags, 12); // attach_flags
  const result = lib.bpf(BPF_PROG_ATTACH, attr);
  if (result < 0) {
    const errno = -result;
    throw bpfError(lib, 'BPF_ATTACH', BPF_PROG_ATTACH, cgroupDir, errno, {
      ...(errno === osConstants.errno.EPERM
        ? {
            hint: 'an ancestor cgroup may hold a device program attached without BPF_F_ALLOW_MULTI, which forbids programs below it',
          }
        : {}),
    });
  }
}

/**
 * Detaches one program by id. Returns false when it is already gone (someone
 * else detached it, or it was unloaded in between).
 */
function detachProgramById(
  lib: Bindings,
  cgroupFd: number,
  id: number,
  cgroupDir: string,
): boolean {
  const getAttr = newAttr();
  getAttr.writeUInt32LE(id, 0); // prog_id
  const programFd = lib.bpf(BPF_PROG_GET_FD_BY_ID, getAttr);
  if (programFd === -osConstants.errno.ENOENT) return false;
  if (programFd < 0) {
    throw bpfError(lib, 'BPF_GET_FD_BY_ID', BPF_PROG_GET_FD_BY_ID, cgroupDir, -programFd);
  }
  try {
    const attr = newAttr();
    attr.writeUInt32LE(cgroupFd, 0); // target_fd
    attr.writeUInt32LE(programFd, 4); // attach_bpf_fd
    attr.writeUInt32LE(BPF_CGROUP_DEVICE, 8); // attach_type
    const result = lib.bpf(BPF_PROG_DETACH, attr);
    if (result === -osConstants.errno.ENOENT) return false;
    if (result < 0) throw bpfError(lib, 'BPF_DETACH', BPF_PROG_DETACH, cgroupDir, -result);
    return true;
  } finally {
    closeSync(programFd);
  }
}

function checkProgram(program: Buffer): void {
  try {
    instructionCount(program);
  } catch (error) {
    throw new DeviceFilterError('BPF_PROGRAM_INVALID', (error as Error).message, { cause: error });
  }
}

function withCgroup<T>(cgroupDir: string, body: (lib: Bindings, cgroupFd: number) => T): T {
  const lib = loadBindings();
  const cgroupFd = openCgroup(cgroupDir);
  try {
    return body(lib, cgroupFd);
  } finally {
    closeSync(cgroupFd);
  }
}

/**
 * Loads `program` (from compileDeviceFilter) and makes it the device filter of
 * the cgroup v2 directory `cgroupDir`, replacing the ones attached before.
 * The new program is attached before the old ones are detached, so there is
 * never a moment without a filter (while both are attached, a request must
 * pass both). Throws DeviceFilterError (BPF_LOAD, BPF_ATTACH, ...).
 */
export function attachDeviceFilter(cgroupDir: string, program: Buffer): void {
  checkProgram(program);
  withCgroup(cgroupDir, (lib, cgroupFd) => {
    const before = queryPrograms(lib, cgroupFd, cgroupDir);
    const programFd = loadProgram(lib, program, cgroupDir);
    try {
      if (before.ids.length > 0 && (before.flags & BPF_F_ALLOW_MULTI) === 0) {
        // Attached by another manager in single-program mode: attaching in the
        // same mode replaces that program atomically (the kernel refuses to
        // mix modes on one cgroup).
        attachProgram(lib, cgroupFd, programFd, before.flags, cgroupDir);
        return;
      }
      attachProgram(lib, cgroupFd, programFd, BPF_F_ALLOW_MULTI, cgroupDir);
      for (const id of before.ids) detachProgramById(lib, cgroupFd, id, cgroupDir);
    } finally {
      closeSync(programFd);
    }
  });
}

/**
 * Attaches `program` next to (or, in single-program mode, over) what is
 * there, with the given attach flags (0 = single program). Not part of the
 * package API: tests use it to play a manager that attaches in another mode.
 */
export function attachDeviceFilterWithFlags(
  cgroupDir: string,
  program: Buffer,
  flags: number,
): void {
  checkProgram(program);
  withCgroup(cgroupDir, (lib, cgroupFd) => {
    const programFd = loadProgram(lib, program, cgroupDir);
    try {
      attachProgram(lib, cgroupFd, programFd, flags, cgroupDir);
    } finally {
      closeSync(programFd);
    }
  });
}

/** Detaches every device program attached to `cgroupDir`; returns how many. */
export function detachDeviceFilters(cgroupDir: string): number {
  return withCgroup(cgroupDir, (lib, cgroupFd) => {
    let detached = 0;
    for (const id of queryPrograms(lib, cgroupFd, cgroupDir).ids) {
      if (detachProgramById(lib, cgroupFd, id, cgroupDir)) detached++;
    }
    return detached;
  });
}

/** Ids of the device programs attached to `cgroupDir` itself (`bpftool prog show id N`). */
export function listDeviceFilters(cgroupDir: string): number[] {
  return withCgroup(cgroupDir, (lib, cgroupFd) => queryPrograms(lib, cgroupFd, cgroupDir).ids);
}
