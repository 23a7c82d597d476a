/**
 * Test helper: executes a BPF_PROG_TYPE_CGROUP_DEVICE program against a
 * bpf_cgroup_dev_ctx the way the kernel would, and checks the rules the
 * verifier enforces on such a program. It decodes the raw bytes on its own
 * (opcode numbers from the kernel's instruction-set document), independently
 * of the encoder, so that an encoding mistake shows up as a wrong decision.
 */

export interface DeviceContext {
  /** (access << 16) | device type, as the kernel fills it. */
  accessType: number;
  major: number;
  minor: number;
}

const U64 = (1n << 64n) - 1n;
const U32 = (1n << 32n) - 1n;
const CTX_SIZE = 12;

function toU64(n: bigint): bigint {
  return n & U64;
}

function signExtend32(imm: number): bigint {
  return toU64(BigInt(imm | 0));
}

function asSigned(value: bigint, bits: 32 | 64): bigint {
  return BigInt.asIntN(bits, value);
}

interface Decoded {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

function decode(program: Buffer, pc: number): Decoded {
  const at = pc * 8;
  return {
    code: program[at]!,
    dst: program[at + 1]! & 0x0f,
    src: program[at + 1]! >> 4,
    off: program.readInt16LE(at + 2),
    imm: program.readInt32LE(at + 4),
  };
}

function fail(pc: number, message: string): never {
  throw new Error(`insn ${pc}: ${message}`);
}

/** Returns the program's verdict: 1 allow, 0 deny. */
export function runDeviceProgram(program: Buffer, ctx: DeviceContext): number {
  if (program.length === 0 || program.length % 8 !== 0) throw new Error('not a BPF program');
  const count = program.length / 8;
  const ctxBytes = Buffer.alloc(CTX_SIZE);
  ctxBytes.writeUInt32LE(ctx.accessType >>> 0, 0);
  ctxBytes.writeUInt32LE(ctx.major >>> 0, 4);
  ctxBytes.writeUInt32LE(ctx.minor >>> 0, 8);

  // undefined = not initialized (reading it is a verifier error); 'ctx' = the context pointer.
  const regs: (bigint | 'ctx' | undefined)[] = new Array(11).fill(undefined);
  regs[1] = 'ctx';
  const scalar = (pc: number, r: number): bigint => {
    const value = regs[r];
    if (value === undefined) fail(pc, `r${r} is read before it is written`);
    if (value === 'ctx') fail(pc, `r${r} holds the context pointer, not a number`);
    return value;
  };

  let pc = 0;
  for (let steps = 0; ; steps++) {
    if (steps > 100_000) fail(pc, 'does not terminate');
    if (pc < 0 || pc >= count) fail(pc, 'jumped or fell off the end of the program');
    const insn = decode(program, pc);
    const cls = insn.code & 0x07;
    const op = insn.code & 0xf0;
    const fromReg = (insn.code & 0x08) !== 0;
    if (insn.dst > 10 || insn.src > 10) fail(pc, 'invalid register');
    switch (cls) {
      case 0x01: {
        // LDX: only word loads from the context, as a device program may do.
        if ((insn.code & 0xe0) !== 0x60) fail(pc, 'LDX mode is not MEM');
        if ((insn.code & 0x18) !== 0x00) fail(pc, 'device context fields are read as words');
        if (regs[insn.src] !== 'ctx') fail(pc, `r${insn.src} is not the context pointer`);
        if (insn.off < 0 || insn.off + 4 > CTX_SIZE || insn.off % 4 !== 0) {
          fail(pc, `invalid context access at offset ${insn.off}`);
        }
        if (insn.dst === 10) fail(pc, 'r10 is read-only');
        regs[insn.dst] = BigInt(ctxBytes.readUInt32LE(insn.off));
        pc++;
        break;
      }
      case 0x04:
      case 0x07: {
        const is32 = cls === 0x04;
        if (insn.dst === 10) fail(pc, 'r10 is read-only');
        const operand = fromReg
          ? scalar(pc, insn.src)
          : is32
            ? BigInt(insn.imm >>> 0)
            : signExtend32(insn.imm);
        const bits = is32 ? 32 : 64;
        const mask = is32 ? U32 : U64;
        const a = op === 0xb0 ? 0n : scalar(pc, insn.dst) & mask;
        const b = operand & mask;
        let result: bigint;
        switch (op) {
          case 0x00:
            result = a + b;
            break;
          case 0x10:
            result = a - b;
            break;
          case 0x40:
            result = a | b;
            break;
          case 0x50:
            result = a & b;
            break;
          case 0x60:
            result = a << (b & BigInt(bits - 1));
            break;
          case 0x70:
            result = a >> (b & BigInt(bits - 1));
            break;
          case 0xa0:
            result = a ^ b;
            break;
          case 0xb0:
            result = b;
            break;
          default:
            fail(pc, `ALU operation 0x${op.toString(16)} is not supported by this interpreter`);
        }
        // A 32-bit operation zero-extends its result into the 64-bit register.
        regs[insn.dst] = result & mask;
        pc++;
        break;
      }
      case 0x05:
      case 0x06: {
        const is32 = cls === 0x06;
        if (op === 0x90 && !is32) {
          const r0 = scalar(pc, 0);
          if (r0 !== 0n && r0 !== 1n) fail(pc, `device programs return 0 or 1, not ${r0}`);
          return Number(r0);
        }
        if (op === 0x00 && !is32) {
          pc = jumpTarget(pc, insn.off, count);
          break;
        }
        if (op === 0x80 || op === 0x90 || op === 0x00) fail(pc, 'unsupported jump');
        const mask = is32 ? U32 : U64;
        const a = scalar(pc, insn.dst) & mask;
        const b = (fromReg ? scalar(pc, insn.src) : signExtend32(insn.imm)) & mask;
        const bits = is32 ? 32 : 64;
        let taken: boolean;
        switch (op) {
          case 0x10:
            taken = a === b;
            break;
          case 0x20:
            taken = a > b;
            break;
          case 0x30:
            taken = a >= b;
            break;
          case 0x40:
            taken = (a & b) !== 0n;
            break;
          case 0x50:
            taken = a !== b;
            break;
          case 0x60:
            taken = asSigned(a, bits) > asSigned(b, bits);
            break;
          case 0x70:
            taken = asSigned(a, bits) >= asSigned(b, bits);
            break;
          case 0xa0:
            taken = a < b;
            break;
          case 0xb0:
            taken = a <= b;
            break;
          case 0xc0:
            taken = asSigned(a, bits) < asSigned(b, bits);
            break;
          case 0xd0:
            taken = asSigned(a, bits) <= asSigned(b, bits);
            break;
          default:
            fail(pc, `jump operation 0x${op.toString(16)} is not supported`);
        }
        pc = taken ? jumpTarget(pc, insn.off, count) : pc + 1;
        break;
      }
      default:
        fail(pc, `instruction class ${cls} is not valid in a device program here`);
    }
  }
}

function jumpTarget(pc: number, off: number, count: number): number {
  // Filters only jump forward: no loop, so the verifier needs no bound.
  if (off < 0) fail(pc, 'backward jump');
  const target = pc + 1 + off;
  if (target >= count) fail(pc, `jump to ${target} is past the end`);
  return target;
}

/**
 * The verifier rejects a program with an instruction no path reaches, or
 * whose last instruction falls through; this checks the same on the control
 * flow graph.
 */
export function assertWellFormed(program: Buffer): void {
  const count = program.length / 8;
  const reached = new Array<boolean>(count).fill(false);
  const pending = [0];
  while (pending.length > 0) {
    const pc = pending.pop()!;
    if (pc >= count) throw new Error(`control flows past the end (from ${pc - 1})`);
    if (reached[pc]) continue;
    reached[pc] = true;
    const insn = decode(program, pc);
    const cls = insn.code & 0x07;
    const op = insn.code & 0xf0;
    if (cls === 0x05 && op === 0x90) continue;
    if (cls === 0x05 && op === 0x00) {
      pending.push(pc + 1 + insn.off);
    } else if (cls === 0x05 || cls === 0x06) {
      pending.push(pc + 1 + insn.off, pc + 1);
    } else {
      pending.push(pc + 1);
    }
  }
  const unreachable = reached.flatMap((r, pc) => (r ? [] : [pc]));
  if (unreachable.length > 0)
    throw new Error(`unreachable instructions: ${unreachable.join(', ')}`);
}
