// CRIU's RPC ("criu swrk"): one protobuf request on a SOCK_SEQPACKET socket,
// notifications answered while CRIU works, then one response. The message
// definitions are CRIU's images/rpc.proto (proto2), the fields runc-ts uses,
// by their wire numbers; protobufjs (light build) encodes them.
import type { ChildProcess } from 'node:child_process';
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { loadLibc } from '@runc-ts/cgroups';
import protobuf from 'protobufjs/light.js';
import { ContainerError, describeErrno } from './errors.js';
import { receiveWithFds } from './unix-fds.js';

const field = (id: number, type: string, rule?: 'repeated' | 'required') =>
  rule ? { id, type, rule } : { id, type };

const RPC = protobuf.Root.fromJSON({
  nested: {
    criu_page_server_info: {
      fields: {
        address: field(1, 'string'),
        port: field(2, 'int32'),
        pid: field(3, 'int32'),
        fd: field(4, 'int32'),
      },
    },
    ext_mount_map: {
      fields: { key: field(1, 'string', 'required'), val: field(2, 'string', 'required') },
    },
    inherit_fd: {
      fields: { key: field(1, 'string', 'required'), fd: field(2, 'int32', 'required') },
    },
    cgroup_root: {
      fields: { ctrl: field(1, 'string'), path: field(2, 'string', 'required') },
    },
    criu_opts: {
      fields: {
        images_dir_fd: field(1, 'int32', 'required'),
        pid: field(2, 'int32'),
        leave_running: field(3, 'bool'),
        ext_unix_sk: field(4, 'bool'),
        tcp_established: field(5, 'bool'),
        shell_job: field(7, 'bool'),
        file_locks: field(8, 'bool'),
        log_level: field(9, 'int32'),
        log_file: field(10, 'string'),
        ps: field(11, 'criu_page_server_info'),
        notify_scripts: field(12, 'bool'),
        root: field(13, 'string'),
        parent_img: field(14, 'string'),
        track_mem: field(15, 'bool'),
        auto_dedup: field(16, 'bool'),
        work_dir_fd: field(17, 'int32'),
        ext_mnt: field(23, 'ext_mount_map', 'repeated'),
        manage_cgroups: field(24, 'bool'),
        cg_root: field(25, 'cgroup_root', 'repeated'),
        rst_sibling: field(26, 'bool'),
        inherit_fd: field(27, 'inherit_fd', 'repeated'),
        manage_cgroups_mode: field(34, 'uint32'),
        external: field(37, 'string', 'repeated'),
        empty_ns: field(38, 'uint32'),
        lazy_pages: field(48, 'bool'),
        status_fd: field(49, 'int32'),
        orphan_pts_master: field(50, 'bool'),
        config_file: field(51, 'string'),
        lsm_profile: field(53, 'string'),
        lsm_mount_context: field(63, 'string'),
      },
    },
    criu_features: {
      fields: {
        mem_track: field(1, 'bool'),
        lazy_pages: field(2, 'bool'),
        pidfd_store: field(3, 'bool'),
      },
    },
    criu_dump_resp: { fields: { restored: field(1, 'bool') } },
    criu_restore_resp: { fields: { pid: field(1, 'int32', 'required') } },
    criu_notify: { fields: { script: field(1, 'string'), pid: field(2, 'int32') } },
    criu_version: {
      fields: {
        major_number: field(1, 'int32', 'required'),
        minor_number: field(2, 'int32', 'required'),
        gitid: field(3, 'string'),
        sublevel: field(4, 'int32'),
      },
    },
    criu_req: {
      fields: {
        type: field(1, 'uint32', 'required'),
        opts: field(2, 'criu_opts'),
        notify_success: field(3, 'bool'),
        features: field(5, 'criu_features'),
      },
    },
    criu_resp: {
      fields: {
        type: field(1, 'uint32', 'required'),
        success: field(2, 'bool', 'required'),
        dump: field(3, 'criu_dump_resp'),
        restore: field(4, 'criu_restore_resp'),
        notify: field(5, 'criu_notify'),
        cr_errno: field(7, 'int32'),
        features: field(8, 'criu_features'),
        cr_errmsg: field(9, 'string'),
        version: field(10, 'criu_version'),
      },
    },
  },
});

const RequestType = RPC.lookupType('criu_req');
const ResponseType = RPC.lookupType('criu_resp');

/** criu_req_type. */
export const CriuRequest = {
  DUMP: 1,
  RESTORE: 2,
  PRE_DUMP: 4,
  NOTIFY: 6,
  FEATURE_CHECK: 9,
  VERSION: 10,
} as const;

const REQUEST_NAMES: Record<number, string> = {
  1: 'DUMP',
  2: 'RESTORE',
  4: 'PRE_DUMP',
  6: 'NOTIFY',
  9: 'FEATURE_CHECK',
  10: 'VERSION',
};

/** criu_cg_mode, by the names runc's --manage-cgroups-mode takes. */
export const CGROUP_MODES: Record<string, number> = { soft: 3, full: 4, strict: 5, ignore: 0 };

export interface CriuOptions {
  images_dir_fd: number;
  pid?: number;
  leave_running?: boolean;
  ext_unix_sk?: boolean;
  tcp_established?: boolean;
  shell_job?: boolean;
  file_locks?: boolean;
  log_level?: number;
  log_file?: string;
  ps?: { address?: string; port?: number };
  notify_scripts?: boolean;
  root?: string;
  parent_img?: string;
  track_mem?: boolean;
  auto_dedup?: boolean;
  work_dir_fd?: number;
  ext_mnt?: { key: string; val: string }[];
  manage_cgroups?: boolean;
  cg_root?: { ctrl?: string; path: string }[];
  rst_sibling?: boolean;
  inherit_fd?: { key: string; fd: number }[];
  manage_cgroups_mode?: number;
  external?: string[];
  empty_ns?: number;
  lazy_pages?: boolean;
  status_fd?: number;
  orphan_pts_master?: boolean;
  config_file?: string;
  lsm_profile?: string;
  lsm_mount_context?: string;
}

export interface CriuResponse {
  type: number;
  success: boolean;
  dump?: { restored?: boolean };
  restore?: { pid: number };
  notify?: { script?: string; pid?: number };
  cr_errno?: number;
  cr_errmsg?: string;
  features?: CriuFeatures;
  version?: { major_number: number; minor_number: number; sublevel?: number };
}

export interface CriuFeatures {
  mem_track?: boolean;
  lazy_pages?: boolean;
  pidfd_store?: boolean;
}

export function encodeRequest(request: {
  type: number;
  opts?: CriuOptions;
  notify_success?: boolean;
  features?: CriuFeatures;
}): Uint8Array {
  const problem = RequestType.verify(request);
  if (problem) throw new ContainerError('CRIU', `bad CRIU request: ${problem}`);
  return RequestType.encode(RequestType.fromObject(request)).finish();
}

export function decodeResponse(bytes: Uint8Array): CriuResponse {
  try {
    return ResponseType.toObject(ResponseType.decode(bytes), { defaults: false }) as CriuResponse;
  } catch (error) {
    throw new ContainerError('CRIU', `malformed message from CRIU: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

const AF_UNIX = 1;
const SOCK_SEQPACKET = 5;
const SOCK_CLOEXEC = 0o2000000;
// CRIU's own limit for an RPC message is far below this.
const MAX_MESSAGE = 1 << 20;

export interface CriuCall {
  /** The criu binary (runc's --criu). */
  criuPath: string;
  request: { type: number; opts?: CriuOptions; features?: CriuFeatures };
  /**
   * CRIU's stdio: inherit_fd names these. images_dir_fd, work_dir_fd and
   * status_fd are fds of this process: CRIU opens them through
   * /proc/<its peer's pid>/fd.
   */
  stdio: readonly (number | 'ignore' | 'inherit' | 'pipe')[];
  /** Called with CRIU's process once spawned (to connect its 'pipe' stdio). */
  onSpawn?(child: ChildProcess): void;
  /** Fds of this process CRIU gets as its 4, 5... (after its socket): inherit_fd may name them. */
  extraFds?: number[];
  /** Where CRIU's log is, for the error message. */
  logPath: string;
  /**
   * Answers a notification ("post-restore" with the restored pid,
   * "orphan-pts-master" with the pty master in `fds`). Fds not taken over
   * (set to -1 in the array) are closed afterwards.
   */
  onNotify?(script: string, pid: number, fds: number[]): void | Promise<void>;
  /** Called with CRIU's pid once it runs (restore puts it in the container's cgroup). */
  onStart?(pid: number): void | Promise<void>;
}

/** The last `count` `Error (file:line): ...` lines of a CRIU log (its last 64 KiB), without timestamps. */
export function lastLogErrors(logPath: string, count: number): string[] {
  let text: string;
  try {
    const fd = openSync(logPath, 'r');
    try {
      const size = fstatSync(fd).size;
      const length = Math.min(size, 64 * 1024);
      const buffer = Buffer.alloc(length);
      readSync(fd, buffer, 0, length, size - length);
      text = buffer.toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => /^\([\d.]+\) Error \(/.test(line))
    .slice(-count)
    .map((line) => line.replace(/^\([\d.]+\) /, ''));
}

/**
 * Runs `criu swrk 3`, sends the request, serves the notifications and
 * returns the final response. A failed request throws ContainerError('CRIU')
 * naming the request, CRIU's errno and message, and its log file.
 */
export async function callCriu(call: CriuCall): Promise<CriuResponse> {
  const libc = loadLibc();
  const pair = Buffer.alloc(8);
  const made = libc.socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair);
  if (made < 0) {
    throw new ContainerError('CRIU', `socketpair: ${describeErrno(-made)}`);
  }
  const ours = pair.readInt32LE(0);
  const theirs = pair.readInt32LE(4);
  // The child's fds are dup2()ed from these in order: a low source fd that
  // is also an earlier target would be overwritten first; copies above
  // every target cannot be.
  const F_DUPFD_CLOEXEC = 1030;
  const sources = [theirs, ...(call.extraFds ?? [])].map((fd) => {
    const copy = libc.fcntl(fd, F_DUPFD_CLOEXEC, 100);
    if (copy < 0) {
      throw new ContainerError('CRIU', `cannot duplicate fd ${fd}: ${describeErrno(-copy)}`);
    }
    return copy;
  });
  closeSync(theirs);
  const childProcess = process.getBuiltinModule('node:child_process');
  let child: ReturnType<typeof childProcess.spawn>;
  const exited = new Promise<string>((resolve) => {
    child = childProcess.spawn(call.criuPath, ['swrk', '3'], {
      stdio: [...call.stdio, ...sources],
    });
    call.onSpawn?.(child);
    child.once('error', (error) => resolve(`cannot run ${call.criuPath}: ${error.message}`));
    child.once('exit', (code, signal) =>
      resolve(signal ? `criu was killed by ${signal}` : `criu exited with status ${code}`),
    );
  });
  for (const copy of sources) closeSync(copy);
  const name = REQUEST_NAMES[call.request.type] ?? String(call.request.type);
  try {
    if (child!.pid === undefined) throw new ContainerError('CRIU', await exited);
    await call.onStart?.(child!.pid);
    const send = async (message: Uint8Array) => {
      try {
        writeSync(ours, message);
      } catch (error) {
        // EPIPE: CRIU is gone; what it died of says more.
        throw new ContainerError(
          'CRIU',
          `criu failed: ${await exited} before answering ${name}\nlog file: ${call.logPath}`,
          { cause: error },
        );
      }
    };
    await send(encodeRequest(call.request));
    const buffer = Buffer.alloc(MAX_MESSAGE);
    for (;;) {
      const { length, fds } = receiveWithFds(ours, buffer);
      if (length === 0) {
        throw new ContainerError(
          'CRIU',
          `criu failed: ${await exited} before answering ${name}\nlog file: ${call.logPath}`,
        );
      }
      const response = decodeResponse(buffer.subarray(0, length));
      if (response.type !== CriuRequest.NOTIFY) for (const fd of fds) closeSync(fd);
      if (response.type === CriuRequest.NOTIFY && response.notify) {
        const script = response.notify.script ?? '';
        try {
          await call.onNotify?.(script, response.notify.pid ?? 0, fds);
        } finally {
          for (const fd of fds) if (fd >= 0) closeSync(fd);
        }
        await send(encodeRequest({ type: CriuRequest.NOTIFY, notify_success: true }));
        continue;
      }
      if (!response.success || response.type !== call.request.type) {
        const errno = response.cr_errno ?? 0;
        const detail = response.cr_errmsg ? `: ${response.cr_errmsg}` : '';
        // CRIU reports its first error, often a harmless one; what failed is last.
        const last = lastLogErrors(call.logPath, 3).filter(
          (line) => !(response.cr_errmsg ?? '').includes(line),
        );
        const lastLine = last.length > 0 ? `\nlast errors in the log:\n  ${last.join('\n  ')}` : '';
        throw new ContainerError(
          'CRIU',
          `criu failed: type ${REQUEST_NAMES[response.type] ?? response.type} errno ${errno}${detail}${lastLine}\nlog file: ${call.logPath}`,
        );
      }
      return response;
    }
  } finally {
    closeSync(ours);
    if (child!.exitCode === null && child!.signalCode === null) await exited;
  }
}

/**
 * The features among `wanted` that this CRIU and kernel lack (CRIU's
 * FEATURE_CHECK), named as runc-ts's messages name them.
 */
export async function missingCriuFeatures(
  criuPath: string,
  wanted: CriuFeatures,
): Promise<string[]> {
  const response = await callCriu({
    criuPath,
    request: { type: CriuRequest.FEATURE_CHECK, features: wanted },
    stdio: ['ignore', 'inherit', 'inherit'],
    logPath: '(none: a feature check writes no log)',
  });
  const names: Record<keyof CriuFeatures, string> = {
    mem_track: 'memory tracking (soft-dirty pages), which --pre-dump needs',
    lazy_pages: 'lazy pages (userfaultfd), which --lazy-pages needs',
    pidfd_store: 'a pidfd store',
  };
  return (Object.keys(wanted) as (keyof CriuFeatures)[])
    .filter((feature) => wanted[feature] && response.features?.[feature] !== true)
    .map((feature) => names[feature]);
}
