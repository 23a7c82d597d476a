// Classic BPF as seccomp uses it: `struct sock_filter` encoding, a tiny
// assembler with labels (for the ENOSYS prologue), and an interpreter that
// runs a program against one `struct seccomp_data` (tests, debugging).

/** One `struct sock_filter`: u16 code, u8 jt, u8 jf, u32 k. */
export interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

export const SOCK_FILTER_SIZE = 8;

export const BPF = {
  LD_W_ABS: 0x20,
  JMP_JA: 0x05,
  JMP_JEQ_K: 0x15,
  JMP_JGT_K: 0x25,
  JMP_JGE_K: 0x35,
  JMP_JSET_K: 0x45,
  RET_K: 0x06,
} as const;

/** Offsets in `struct seccomp_data`. */
export const SECCOMP_DATA = { NR: 0, ARCH: 4, IP: 8, ARGS: 16, SIZE: 64 } as const;

export function encodeProgram(insns: readonly Insn[]): Buffer {
  const out = Buffer.alloc(insns.length * SOCK_FILTER_SIZE);
  insns.forEach((insn, i) => {
    const o = i * SOCK_FILTER_SIZE;
    out.writeUInt16LE(insn.code, o);
    out.writeUInt8(insn.jt, o + 2);
    out.writeUInt8(insn.jf, o + 3);
    out.writeUInt32LE(insn.k >>> 0, o + 4);
  });
  return out;
}

export function decodeProgram(program: Uint8Array): Insn[] {
  const buf = Buffer.from(program.buffer, program.byteOffset, program.byteLength);
  if (buf.length % SOCK_FILTER_SIZE !== 0) {
    throw new Error(`a BPF program is a multiple of 8 bytes, got ${buf.length}`);
  }
  const insns: Insn[] = [];
  for (let o = 0; o < buf.length; o += SOCK_FILTER_SIZE) {
    insns.push({
      code: buf.readUInt16LE(o),
      jt: buf.readUInt8(o + 2),
      jf: buf.readUInt8(o + 3),
      k: buf.readUInt32LE(o + 4),
    });
  }
  return insns;
}

/** An instruction whose jump targets are labels, resolved by `assemble`. */
export type AsmInsn =
  | { label: string }
  | { code: number; k: number; jt?: string; jf?: string }
  | { ja: string };

/**
 * Resolves labels to relative offsets. A label may also name `end`: the
 * instruction right after the program (where the program it is prepended to
 * starts). Conditional jumps reach at most 255 instructions ahead; backward
 * jumps do not exist in BPF.
 */
export function assemble(source: readonly AsmInsn[]): Insn[] {
  const positions = new Map<string, number>();
  let count = 0;
  for (const item of source) {
    if ('label' in item) positions.set(item.label, count);
    else count++;
  }
  positions.set('end', count);
  const out: Insn[] = [];
  const offset = (label: string | undefined, at: number, max: number): number => {
    if (label === undefined) return 0;
    const target = positions.get(label);
    if (target === undefined) throw new Error(`BPF assembler: unknown label ${label}`);
    const delta = target - at - 1;
    if (delta < 0 || delta > max) {
      throw new Error(`BPF assembler: jump to ${label} out of range (${delta})`);
    }
    return delta;
  };
  for (const item of source) {
    if ('label' in item) continue;
    const at = out.length;
    if ('ja' in item) {
      out.push({ code: BPF.JMP_JA, jt: 0, jf: 0, k: offset(item.ja, at, 0xffff_ffff) });
    } else {
      out.push({
        code: item.code,
        jt: offset(item.jt, at, 255),
        jf: offset(item.jf, at, 255),
        k: item.k >>> 0,
      });
    }
  }
  return out;
}

/** The input of a seccomp filter. */
export interface SeccompData {
  nr: number;
  arch: number;
  instructionPointer?: bigint;
  args?: readonly (bigint | number)[];
}

export function encodeSeccompData(data: SeccompData): Buffer {
  const buf = Buffer.alloc(SECCOMP_DATA.SIZE);
  buf.writeInt32LE(data.nr | 0, SECCOMP_DATA.NR);
  buf.writeUInt32LE(data.arch >>> 0, SECCOMP_DATA.ARCH);
  buf.writeBigUInt64LE(data.instructionPointer ?? 0n, SECCOMP_DATA.IP);
  (data.args ?? []).forEach((arg, i) => {
    buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(arg)), SECCOMP_DATA.ARGS + 8 * i);
  });
  return buf;
}

/**
 * Runs a classic BPF program as the kernel's seccomp does (32-bit loads of
 * the little-endian seccomp_data, 16 scratch words) and returns the value of
 * the RET it reaches.
 */
export function runFilter(program: Uint8Array | readonly Insn[], data: SeccompData): number {
  const insns = program instanceof Uint8Array ? decodeProgram(program) : program;
  const input = encodeSeccompData(data);
  const mem = new Uint32Array(16);
  let a = 0;
  let x = 0;
  for (let pc = 0; pc < insns.length; pc++) {
    const { code, jt, jf, k } = insns[pc]!;
    const cls = code & 0x07;
    const src = code & 0x08 ? x : k;
    switch (cls) {
      case 0x00: // LD
      case 0x01: {
        // LDX
        const mode = code & 0xe0;
        let value: number;
        if (mode === 0x00) value = k;
        else if (mode === 0x20) {
          if ((code & 0x18) !== 0 || k + 4 > SECCOMP_DATA.SIZE || k % 4 !== 0) {
            throw new Error(`BPF: bad load at ${pc}`);
          }
          value = input.readUInt32LE(k);
        } else if (mode === 0x60) value = mem[k & 15]!;
        else if (mode === 0x80) value = SECCOMP_DATA.SIZE;
        else throw new Error(`BPF: unsupported load mode 0x${code.toString(16)} at ${pc}`);
        if (cls === 0x00) a = value >>> 0;
        else x = value >>> 0;
        break;
      }
      case 0x02: // ST
        mem[k & 15] = a;
        break;
      case 0x03: // STX
        mem[k & 15] = x;
        break;
      case 0x04: // ALU
        a = alu(code & 0xf0, a, src >>> 0, pc) >>> 0;
        break;
      case 0x05: {
        // JMP
        const op = code & 0xf0;
        if (op === 0x00) {
          pc += k;
          break;
        }
        const v = src >>> 0;
        const taken =
          op === 0x10 ? a === v : op === 0x20 ? a > v : op === 0x30 ? a >= v : (a & v) !== 0;
        if (op > 0x40) throw new Error(`BPF: unsupported jump 0x${code.toString(16)} at ${pc}`);
        pc += taken ? jt : jf;
        break;
      }
      case 0x06: // RET
        return (code & 0x18) === 0x10 ? a : k >>> 0;
      case 0x07: // MISC
        if ((code & 0xf8) === 0x00) x = a;
        else a = x;
        break;
    }
  }
  throw new Error('BPF: program ran past its end');
}

function alu(op: number, a: number, v: number, pc: number): number {
  switch (op) {
    case 0x00:
      return a + v;
    case 0x10:
      return a - v;
    case 0x20:
      return Math.imul(a, v);
    case 0x30:
      if (v === 0) throw new Error(`BPF: division by zero at ${pc}`);
      return Math.floor(a / v);
    case 0x40:
      return a | v;
    case 0x50:
      return a & v;
    case 0x60:
      return v >= 32 ? 0 : a << v;
    case 0x70:
      return v >= 32 ? 0 : a >>> v;
    case 0x80:
      return -a;
    case 0x90:
      if (v === 0) throw new Error(`BPF: modulo by zero at ${pc}`);
      return a % v;
    case 0xa0:
      return a ^ v;
    default:
      throw new Error(`BPF: unsupported ALU op 0x${op.toString(16)} at ${pc}`);
  }
}
