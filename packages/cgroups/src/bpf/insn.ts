/**
 * A minimal eBPF instruction encoder: the handful of instructions a device
 * filter needs, each written as a named helper, with labels for forward jumps.
 * Layout of `struct bpf_insn` (8 bytes, little-endian): u8 code;
 * u8 dst_reg:4, src_reg:4; s16 off; s32 imm. Opcode values are from
 * Documentation/bpf/standardization/instruction-set.rst.
 */

export const INSN_SIZE = 8;

/** Instruction classes (code & 0x07). */
export const BPF_CLASS = {
  LDX: 0x01,
  ALU: 0x04,
  JMP: 0x05,
  JMP32: 0x06,
  ALU64: 0x07,
} as const;

/** Source operand (code & 0x08): the immediate, or the src register. */
export const BPF_K = 0x00;
export const BPF_X = 0x08;

/** Load size (code & 0x18) and mode (code & 0xe0) for LDX. */
export const BPF_SIZE_W = 0x00;
export const BPF_MODE_MEM = 0x60;

/** ALU operations (code & 0xf0). */
export const BPF_ALU_OP = {
  ADD: 0x00,
  SUB: 0x10,
  MUL: 0x20,
  DIV: 0x30,
  OR: 0x40,
  AND: 0x50,
  LSH: 0x60,
  RSH: 0x70,
  NEG: 0x80,
  MOD: 0x90,
  XOR: 0xa0,
  MOV: 0xb0,
  ARSH: 0xc0,
} as const;

/** Jump operations (code & 0xf0). */
export const BPF_JMP_OP = {
  JA: 0x00,
  JEQ: 0x10,
  JGT: 0x20,
  JGE: 0x30,
  JSET: 0x40,
  JNE: 0x50,
  JSGT: 0x60,
  JSGE: 0x70,
  CALL: 0x80,
  EXIT: 0x90,
  JLT: 0xa0,
  JLE: 0xb0,
  JSLT: 0xc0,
  JSLE: 0xd0,
} as const;

export type Register = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10;

export interface Insn {
  code: number;
  dst: Register;
  src: Register;
  off: number;
  imm: number;
}

/** A jump target, bound to an instruction index once its position is known. */
export interface Label {
  readonly name: string;
  position?: number;
}

interface PendingInsn extends Insn {
  target?: Label;
}

const INT32_MAX = 0x7fffffff;

export class ProgramBuilder {
  private readonly insns: PendingInsn[] = [];

  label(name: string): Label {
    return { name };
  }

  /** Binds `label` to the next instruction emitted. */
  bind(label: Label): void {
    if (label.position !== undefined) throw new Error(`label ${label.name} bound twice`);
    label.position = this.insns.length;
  }

  /** dst = *(u32 *)(src + off), zero-extended. */
  loadWord(dst: Register, src: Register, off: number): void {
    this.emit(BPF_CLASS.LDX | BPF_MODE_MEM | BPF_SIZE_W, dst, src, off, 0);
  }

  /** dst = imm (32-bit move: the upper half of dst becomes 0). */
  mov32Imm(dst: Register, imm: number): void {
    this.alu32Imm(BPF_ALU_OP.MOV, dst, imm);
  }

  /** dst = src (32-bit move). */
  mov32Reg(dst: Register, src: Register): void {
    this.emit(BPF_CLASS.ALU | BPF_X | BPF_ALU_OP.MOV, dst, src, 0, 0);
  }

  /** dst &= imm (32-bit). */
  and32Imm(dst: Register, imm: number): void {
    this.alu32Imm(BPF_ALU_OP.AND, dst, imm);
  }

  /** dst >>= imm (32-bit, logical). */
  rsh32Imm(dst: Register, imm: number): void {
    this.alu32Imm(BPF_ALU_OP.RSH, dst, imm);
  }

  /** if (dst != value) goto target; `value` is an unsigned 32-bit number. */
  jumpIfNotEqual(dst: Register, value: number, target: Label): void {
    this.compareImm(BPF_JMP_OP.JNE, dst, value, target);
  }

  /** if (dst & mask) goto target. */
  jumpIfAnySet(dst: Register, mask: number, target: Label): void {
    this.compareImm(BPF_JMP_OP.JSET, dst, mask, target);
  }

  /** goto target. */
  jump(target: Label): void {
    this.emit(BPF_CLASS.JMP | BPF_K | BPF_JMP_OP.JA, 0, 0, 0, 0, target);
  }

  /** return r0. */
  exit(): void {
    this.emit(BPF_CLASS.JMP | BPF_K | BPF_JMP_OP.EXIT, 0, 0, 0, 0);
  }

  /** r0 = value; return r0. */
  returnImm(value: number): void {
    this.mov32Imm(0, value);
    this.exit();
  }

  /** Resolves jump offsets and serializes the program. */
  build(): Buffer {
    const out = Buffer.alloc(this.insns.length * INSN_SIZE);
    this.insns.forEach((insn, index) => {
      let off = insn.off;
      if (insn.target) {
        const position = insn.target.position;
        if (position === undefined) throw new Error(`label ${insn.target.name} is never bound`);
        off = position - (index + 1);
        if (off < 0)
          throw new Error(`backward jump to ${insn.target.name}: a filter only jumps forward`);
        if (off > 0x7fff) throw new Error(`jump to ${insn.target.name} is out of range (${off})`);
      }
      encodeInsn({ ...insn, off }, out, index * INSN_SIZE);
    });
    return out;
  }

  private alu32Imm(op: number, dst: Register, imm: number): void {
    this.emit(BPF_CLASS.ALU | BPF_K | op, dst, 0, 0, imm);
  }

  /**
   * The registers compared here hold zero-extended u32 values. A 64-bit
   * compare sign-extends its immediate, so it is exact only up to INT32_MAX;
   * larger values use JMP32 (kernel >= 5.1), which compares the low 32 bits.
   * Real device numbers (12-bit major, 20-bit minor) never need it, which
   * keeps the program loadable on the oldest kernels with device filters.
   */
  private compareImm(op: number, dst: Register, value: number, target: Label): void {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
      throw new RangeError(`jump immediate ${value} is not an unsigned 32-bit integer`);
    }
    const cls = value > INT32_MAX ? BPF_CLASS.JMP32 : BPF_CLASS.JMP;
    this.emit(cls | BPF_K | op, dst, 0, 0, value | 0, target);
  }

  private emit(
    code: number,
    dst: Register,
    src: Register,
    off: number,
    imm: number,
    target?: Label,
  ): void {
    this.insns.push({ code, dst, src, off, imm: imm | 0, ...(target ? { target } : {}) });
  }
}

export function encodeInsn(insn: Insn, out: Buffer, offset: number): void {
  out.writeUInt8(insn.code, offset);
  out.writeUInt8((insn.src << 4) | insn.dst, offset + 1);
  out.writeInt16LE(insn.off, offset + 2);
  out.writeInt32LE(insn.imm, offset + 4);
}

export function decodeInsn(program: Buffer, index: number): Insn {
  const offset = index * INSN_SIZE;
  const regs = program.readUInt8(offset + 1);
  return {
    code: program.readUInt8(offset),
    dst: (regs & 0x0f) as Register,
    src: (regs >> 4) as Register,
    off: program.readInt16LE(offset + 2),
    imm: program.readInt32LE(offset + 4),
  };
}

export function instructionCount(program: Buffer): number {
  if (program.length === 0 || program.length % INSN_SIZE !== 0) {
    throw new RangeError(
      `a BPF program is a non-empty multiple of ${INSN_SIZE} bytes, got ${program.length}`,
    );
  }
  return program.length / INSN_SIZE;
}
