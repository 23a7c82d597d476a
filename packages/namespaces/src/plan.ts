// The executor plan: a list of operations for native/ (runc-ts-init) and its
// wire format. native/PROTOCOL.md is the reference; keep them in step. The
// tables here (messages, sync kinds, value kinds, OPS) are the single source
// of the protocol's constants: native/src/protocol.gen.{h,c} are generated
// from them (`pnpm --filter @runc-ts/namespaces golden`), and plan.test.ts
// fails when those files drift.

export const PROTOCOL_MAGIC = 0x31535452; // "RTS1" little-endian

export const MessageType = {
  PLAN: 1,
  CONTINUE: 2,
  ABORT: 3,
  SYNC: 16,
  PID: 17,
  READY: 18,
  ERROR: 19,
} as const;

export const SyncKind = { USERNS: 1, HOOKS: 2, CGROUP: 3, STATE: 4, SECCOMP: 5 } as const;

export type SyncKindName = keyof typeof SyncKind;

const SYNC_KIND_NAMES = new Map<number, SyncKindName>(
  (Object.entries(SyncKind) as [SyncKindName, number][]).map(([name, kind]) => [kind, name]),
);

/** The name of a SYNC kind, or undefined for a number the protocol does not define. */
export function syncKindName(kind: number): SyncKindName | undefined {
  return SYNC_KIND_NAMES.get(kind);
}

export type ValueKind = 'u64' | 'str' | 'strlist' | 'bytes' | 'u64list';
/** Wire code of each value kind (PROTOCOL.md, "Values"). */
export const KIND_CODE: Record<ValueKind, number> = {
  u64: 1,
  str: 2,
  strlist: 3,
  bytes: 4,
  u64list: 5,
};

/** Opcode and value signature of every operation (PROTOCOL.md, "Operations"). */
export const OPS = {
  UNSHARE: [1, ['u64']],
  SETNS: [2, ['u64', 'str']],
  SYNC: [3, ['u64']],
  FORK: [4, ['u64']],
  ROOTFS: [5, ['str', 'u64']],
  MOUNT: [6, ['str', 'str', 'str', 'u64', 'str', 'u64']],
  REMOUNT: [7, ['str', 'u64']],
  PROPAGATE: [8, ['str', 'u64']],
  SETATTR: [9, ['str', 'u64', 'u64', 'u64']],
  MKNOD: [10, ['str', 'u64', 'u64', 'u64', 'u64', 'u64']],
  BIND_DEVICE: [11, ['str', 'str']],
  SYMLINK: [12, ['str', 'str']],
  PIVOT_ROOT: [13, []],
  MOVE_ROOT: [14, []],
  MASK: [15, ['str']],
  READONLY: [16, ['str']],
  SYSCTL: [17, ['str', 'str']],
  HOSTNAME: [18, ['str']],
  DOMAINNAME: [19, ['str']],
  RLIMIT: [20, ['u64', 'u64', 'u64']],
  OOM_SCORE_ADJ: [21, ['str']],
  UMASK: [22, ['u64']],
  SETSID: [23, []],
  KEEPCAPS: [24, ['u64']],
  SETGROUPS: [25, ['u64list']],
  SETGID: [26, ['u64']],
  SETUID: [27, ['u64']],
  CAPS: [28, ['u64', 'u64', 'u64', 'u64', 'u64']],
  NO_NEW_PRIVS: [29, []],
  SECCOMP: [30, ['bytes', 'u64']],
  CHDIR: [31, ['str']],
  RESOLVE_EXEC: [32, ['str', 'str']],
  OPEN_FIFO: [33, ['str']],
  READY: [34, []],
  WAIT_FIFO: [35, []],
  CLOSE_FDS: [36, ['u64']],
  EXEC: [37, ['strlist', 'strlist']],
  PERSONALITY: [38, ['u64']],
  IOPRIO: [39, ['u64']],
  SCHED: [40, ['u64', 'u64', 'u64', 'u64', 'u64', 'u64', 'u64']],
  SETGROUPS_DENY: [41, []],
  KEYRING: [42, ['str']],
  CONSOLE: [43, ['str']],
  APPARMOR: [44, ['str']],
  SELINUX_LABEL: [45, ['str']],
  WINSIZE: [46, ['u64', 'u64']],
  HOOK: [47, ['str', 'str', 'strlist', 'strlist', 'u64']],
  SECCOMP_NOTIFY: [48, ['bytes', 'u64', 'str']],
  TIMENS_OFFSETS: [49, ['str']],
  PIDFD_SOCKET: [50, ['str', 'str']],
  MOUNT_IDMAPPED: [51, ['str', 'str', 'u64', 'str', 'str', 'str', 'u64']],
  OPEN_MOUNT_SOURCE: [52, ['str']],
  SET_DUMPABLE: [53, []],
  DEFAULT_HOME: [54, ['u64']],
  TTY_OWNER: [55, ['u64']],
  MOUNT_CONSOLE: [56, []],
  SETNS_PID: [57, ['u64', 'u64', 'str']],
  SCHED_AFFINITY: [58, ['str', 'bytes']],
  MEMPOLICY: [59, ['str', 'u64', 'bytes']],
  NETDEV_MOVE: [60, ['str', 'str', 'u64']],
  MOUNT_TMPFS: [61, ['str', 'str', 'u64', 'str', 'u64']],
  BIND_REMOUNT: [62, ['str', 'u64', 'u64']],
  JOIN_NAMESPACES: [63, ['u64list', 'strlist']],
  CHROOT: [64, []],
} as const satisfies Record<string, readonly [number, readonly ValueKind[]]>;

export type OpName = keyof typeof OPS;

type ValueOf<K> = K extends 'u64'
  ? bigint | number
  : K extends 'str'
    ? string
    : K extends 'strlist'
      ? readonly string[]
      : K extends 'bytes'
        ? Uint8Array
        : K extends 'u64list'
          ? readonly (bigint | number)[]
          : never;

type ArgsOf<S extends readonly ValueKind[]> = { [I in keyof S]: ValueOf<S[I]> };

/** One operation: its name and values, typed by the signature in OPS. */
export type Op = {
  [N in OpName]: { op: N; args: ArgsOf<(typeof OPS)[N][1]> };
}[OpName];

export function op<N extends OpName>(name: N, ...args: ArgsOf<(typeof OPS)[N][1]>): Op {
  return { op: name, args } as Op;
}

const OP_NAMES = new Map<number, OpName>(
  Object.entries(OPS).map(([name, [code]]) => [code, name as OpName]),
);

export function opName(code: number): string {
  return OP_NAMES.get(code) ?? `op ${code}`;
}

class Writer {
  private chunks: Buffer[] = [];
  length = 0;

  push(buf: Buffer): void {
    this.chunks.push(buf);
    this.length += buf.length;
  }

  u8(v: number): void {
    this.push(Buffer.from([v]));
  }

  u16(v: number): void {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(v);
    this.push(b);
  }

  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.push(b);
  }

  u64(v: bigint | number): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v)));
    this.push(b);
  }

  str(v: string): void {
    if (v.includes('\0')) throw new Error(`string contains a NUL byte: ${JSON.stringify(v)}`);
    const bytes = Buffer.from(v, 'utf8');
    this.u32(bytes.length);
    this.push(bytes);
  }

  result(): Buffer {
    return Buffer.concat(this.chunks, this.length);
  }
}

/** Encodes the plan body (op count + ops). */
export function encodePlan(ops: readonly Op[]): Buffer {
  const w = new Writer();
  w.u32(ops.length);
  for (const { op: name, args } of ops) {
    const [code, kinds] = OPS[name];
    w.u16(code);
    w.u16(kinds.length);
    kinds.forEach((kind, i) => {
      const value = (args as readonly unknown[])[i];
      w.u8(KIND_CODE[kind]);
      switch (kind) {
        case 'u64':
          w.u64(value as bigint | number);
          break;
        case 'str':
          w.str(value as string);
          break;
        case 'strlist':
          w.u32((value as string[]).length);
          for (const s of value as string[]) w.str(s);
          break;
        case 'bytes':
          w.u32((value as Uint8Array).length);
          w.push(Buffer.from(value as Uint8Array));
          break;
        case 'u64list':
          w.u32((value as number[]).length);
          for (const n of value as (bigint | number)[]) w.u64(n);
          break;
      }
    });
  }
  return w.result();
}

/** A whole message frame. */
export function encodeFrame(type: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt32LE(PROTOCOL_MAGIC, 0);
  header.writeUInt16LE(type, 4);
  header.writeUInt16LE(0, 6);
  header.writeUInt32LE(payload.length, 8);
  return Buffer.concat([header, payload]);
}

/** The canonical text dump of PROTOCOL.md ("Golden vectors"). */
export function dumpPlan(ops: readonly Op[]): string {
  const render = (kind: ValueKind, value: unknown): string => {
    switch (kind) {
      case 'u64':
        return BigInt.asUintN(64, BigInt(value as number)).toString();
      case 'str':
        return JSON.stringify(value);
      case 'strlist':
        return `[${(value as string[]).map((s) => JSON.stringify(s)).join(',')}]`;
      case 'bytes':
        return `hex:${Buffer.from(value as Uint8Array).toString('hex')}`;
      case 'u64list':
        return `[${(value as number[]).map((n) => BigInt.asUintN(64, BigInt(n)).toString()).join(',')}]`;
    }
  };
  return ops
    .map(({ op: name, args }) => {
      const kinds = OPS[name][1] as readonly ValueKind[];
      return [name, ...kinds.map((kind, i) => render(kind, (args as readonly unknown[])[i]))].join(
        ' ',
      );
    })
    .map((line) => `${line}\n`)
    .join('');
}
