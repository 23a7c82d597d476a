import {
  BPF_ALU_OP,
  BPF_CLASS,
  BPF_JMP_OP,
  BPF_MODE_MEM,
  BPF_X,
  decodeInsn,
  type Insn,
  instructionCount,
} from './insn.js';

const ALU_SYMBOLS: Record<number, string> = {
  [BPF_ALU_OP.ADD]: '+=',
  [BPF_ALU_OP.SUB]: '-=',
  [BPF_ALU_OP.MUL]: '*=',
  [BPF_ALU_OP.DIV]: '/=',
  [BPF_ALU_OP.OR]: '|=',
  [BPF_ALU_OP.AND]: '&=',
  [BPF_ALU_OP.LSH]: '<<=',
  [BPF_ALU_OP.RSH]: '>>=',
  [BPF_ALU_OP.MOD]: '%=',
  [BPF_ALU_OP.XOR]: '^=',
  [BPF_ALU_OP.MOV]: '=',
  [BPF_ALU_OP.ARSH]: 's>>=',
};

const JMP_SYMBOLS: Record<number, string> = {
  [BPF_JMP_OP.JEQ]: '==',
  [BPF_JMP_OP.JGT]: '>',
  [BPF_JMP_OP.JGE]: '>=',
  [BPF_JMP_OP.JSET]: '&',
  [BPF_JMP_OP.JNE]: '!=',
  [BPF_JMP_OP.JSGT]: 's>',
  [BPF_JMP_OP.JSGE]: 's>=',
  [BPF_JMP_OP.JLT]: '<',
  [BPF_JMP_OP.JLE]: '<=',
  [BPF_JMP_OP.JSLT]: 's<',
  [BPF_JMP_OP.JSLE]: 's<=',
};

/**
 * A readable listing of a program, one instruction per line, in the notation
 * of the kernel verifier log: "w" registers are 32-bit operations.
 */
export function formatDeviceFilter(program: Buffer): string {
  const count = instructionCount(program);
  const width = String(count - 1).length;
  const lines: string[] = [];
  for (let index = 0; index < count; index++) {
    lines.push(
      `${String(index).padStart(width)}: ${formatInsn(decodeInsn(program, index), index)}`,
    );
  }
  return lines.join('\n');
}

function formatInsn(insn: Insn, index: number): string {
  const cls = insn.code & 0x07;
  const op = insn.code & 0xf0;
  const usesReg = (insn.code & BPF_X) !== 0;
  switch (cls) {
    case BPF_CLASS.LDX:
      if ((insn.code & 0xe0) === BPF_MODE_MEM) {
        const size = ['u32', 'u16', 'u8', 'u64'][(insn.code >> 3) & 0x03];
        return `r${insn.dst} = *(${size} *)(r${insn.src} ${signed(insn.off)})`;
      }
      break;
    case BPF_CLASS.ALU:
    case BPF_CLASS.ALU64: {
      const reg = cls === BPF_CLASS.ALU ? 'w' : 'r';
      if (op === BPF_ALU_OP.NEG) return `${reg}${insn.dst} = -${reg}${insn.dst}`;
      const symbol = ALU_SYMBOLS[op];
      if (symbol === undefined) break;
      const operand = usesReg
        ? `${reg}${insn.src}`
        : immediate(insn.imm, cls === BPF_CLASS.ALU, BITWISE_ALU_OPS.has(op));
      return `${reg}${insn.dst} ${symbol} ${operand}`;
    }
    case BPF_CLASS.JMP:
    case BPF_CLASS.JMP32: {
      const target = `pc${signed(insn.off)} <${index + 1 + insn.off}>`;
      if (cls === BPF_CLASS.JMP && op === BPF_JMP_OP.EXIT) return 'exit';
      if (cls === BPF_CLASS.JMP && op === BPF_JMP_OP.JA) return `goto ${target}`;
      const symbol = JMP_SYMBOLS[op];
      if (symbol === undefined) break;
      const reg = cls === BPF_CLASS.JMP32 ? 'w' : 'r';
      const operand = usesReg
        ? `${reg}${insn.src}`
        : immediate(insn.imm, cls === BPF_CLASS.JMP32, op === BPF_JMP_OP.JSET);
      return `if ${reg}${insn.dst} ${symbol} ${operand} goto ${target}`;
    }
  }
  return `.insn code=0x${insn.code.toString(16).padStart(2, '0')} dst=r${insn.dst} src=r${insn.src} off=${insn.off} imm=${insn.imm}`;
}

function signed(n: number): string {
  return n < 0 ? `${n}` : `+${n}`;
}

/** Bit masks in hex, numbers (device numbers, shifts) in decimal. */
const BITWISE_ALU_OPS: ReadonlySet<number> = new Set([
  BPF_ALU_OP.AND,
  BPF_ALU_OP.OR,
  BPF_ALU_OP.XOR,
]);

/** An immediate as the operation sees it: unsigned in 32-bit operations. */
function immediate(imm: number, unsigned32: boolean, mask: boolean): string {
  const value = unsigned32 ? imm >>> 0 : imm;
  if (!mask) return String(value);
  return value < 0 ? `-0x${(-value).toString(16)}` : `0x${value.toString(16)}`;
}
