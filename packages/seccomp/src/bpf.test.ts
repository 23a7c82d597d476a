import { describe, expect, it } from 'vitest';
import { assemble, BPF, decodeProgram, encodeProgram, runFilter, SECCOMP_DATA } from './bpf.js';
import {
  AUDIT_ARCH_S390X,
  AUDIT_ARCH_X86_64,
  ENOSYS,
  SCMP_ARCH_X32,
  SECCOMP_RET,
} from './constants.js';
import { enosysPrologue } from './enosys.js';

const ALLOW = { code: BPF.RET_K, jt: 0, jf: 0, k: SECCOMP_RET.ALLOW };

describe('BPF encoding and assembler', () => {
  it('round-trips struct sock_filter', () => {
    const insns = [
      { code: BPF.LD_W_ABS, jt: 0, jf: 0, k: 4 },
      { code: BPF.JMP_JEQ_K, jt: 1, jf: 0, k: 0xc000003e },
      ALLOW,
    ];
    const bytes = encodeProgram(insns);
    expect(bytes.toString('hex')).toBe(
      '2000000004000000150001003e0000c006000000 0000ff7f'.replace(' ', ''),
    );
    expect(decodeProgram(bytes)).toEqual(insns);
    expect(() => decodeProgram(new Uint8Array(7))).toThrow(/multiple of 8/);
  });

  it('resolves labels to forward offsets and refuses what BPF cannot encode', () => {
    expect(
      assemble([
        { code: BPF.JMP_JEQ_K, k: 1, jt: 'a', jf: 'end' },
        { ja: 'end' },
        { label: 'a' },
        { code: BPF.RET_K, k: 0 },
      ]),
    ).toEqual([
      { code: BPF.JMP_JEQ_K, jt: 1, jf: 2, k: 1 },
      { code: BPF.JMP_JA, jt: 0, jf: 0, k: 1 },
      { code: BPF.RET_K, jt: 0, jf: 0, k: 0 },
    ]);
    expect(() => assemble([{ label: 'back' }, { ja: 'back' }])).toThrow(/out of range/);
    expect(() => assemble([{ ja: 'nowhere' }])).toThrow(/unknown label/);
    const far = [
      { code: BPF.JMP_JEQ_K, k: 1, jt: 'x' },
      ...Array(256).fill({ code: BPF.RET_K, k: 0 }),
      { label: 'x' },
    ];
    expect(() => assemble(far)).toThrow(/out of range \(256\)/);
  });
});

describe('runFilter', () => {
  it('loads seccomp_data words, compares, uses scratch memory and the X register', () => {
    // A = args[1] low word; mem[0] = A; X = 5; A = A + X; ret A
    const prog = [
      { code: 0x20, jt: 0, jf: 0, k: SECCOMP_DATA.ARGS + 8 },
      { code: 0x02, jt: 0, jf: 0, k: 0 },
      { code: 0x01, jt: 0, jf: 0, k: 5 },
      { code: 0x0c, jt: 0, jf: 0, k: 0 },
      { code: 0x16, jt: 0, jf: 0, k: 0 },
    ];
    expect(runFilter(prog, { nr: 0, arch: 0, args: [0, 37] })).toBe(42);
    // high word of args[0]
    expect(
      runFilter(
        [
          { code: 0x20, jt: 0, jf: 0, k: SECCOMP_DATA.ARGS + 4 },
          { code: 0x16, jt: 0, jf: 0, k: 0 },
        ],
        {
          nr: 0,
          arch: 0,
          args: [0x7_0000_0001n],
        },
      ),
    ).toBe(7);
    expect(() => runFilter([{ code: 0x20, jt: 0, jf: 0, k: 62 }], { nr: 0, arch: 0 })).toThrow(
      /bad load/,
    );
    expect(() => runFilter([{ code: 0x04, jt: 0, jf: 0, k: 1 }], { nr: 0, arch: 0 })).toThrow(
      /past its end/,
    );
  });
});

describe('enosysPrologue', () => {
  const program = (limits: Parameters<typeof enosysPrologue>[0]) => [
    ...enosysPrologue(limits),
    ALLOW,
  ];
  const ENOSYS_RET = SECCOMP_RET.ERRNO | ENOSYS;

  it('is empty without limits', () => {
    expect(enosysPrologue([])).toEqual([]);
  });

  it('returns ENOSYS above the limit of the matching arch, falls through otherwise', () => {
    const p = program([
      { token: 0x40000003, max: 100 },
      { token: AUDIT_ARCH_X86_64, max: 200 },
    ]);
    expect(runFilter(p, { nr: 100, arch: 0x40000003 })).toBe(SECCOMP_RET.ALLOW);
    expect(runFilter(p, { nr: 101, arch: 0x40000003 })).toBe(ENOSYS_RET);
    expect(runFilter(p, { nr: 150, arch: AUDIT_ARCH_X86_64 })).toBe(SECCOMP_RET.ALLOW);
    expect(runFilter(p, { nr: 201, arch: AUDIT_ARCH_X86_64 })).toBe(ENOSYS_RET);
    expect(runFilter(p, { nr: 999, arch: 0x1234 })).toBe(SECCOMP_RET.ALLOW);
    // x32 numbers are left to the filter when x32 has no limit
    expect(runFilter(p, { nr: 0x40000000 + 999, arch: AUDIT_ARCH_X86_64 })).toBe(SECCOMP_RET.ALLOW);
  });

  it('keeps x86_64 and x32 limits apart on their shared audit arch', () => {
    const p = program([
      { token: AUDIT_ARCH_X86_64, max: 300 },
      { token: SCMP_ARCH_X32, max: 0x40000000 + 500 },
    ]);
    expect(runFilter(p, { nr: 301, arch: AUDIT_ARCH_X86_64 })).toBe(ENOSYS_RET);
    expect(runFilter(p, { nr: 0x40000000 + 400, arch: AUDIT_ARCH_X86_64 })).toBe(SECCOMP_RET.ALLOW);
    expect(runFilter(p, { nr: 0x40000000 + 501, arch: AUDIT_ARCH_X86_64 })).toBe(ENOSYS_RET);
    const x32only = program([{ token: SCMP_ARCH_X32, max: 0x40000000 + 500 }]);
    expect(runFilter(x32only, { nr: 999, arch: AUDIT_ARCH_X86_64 })).toBe(SECCOMP_RET.ALLOW);
    expect(runFilter(x32only, { nr: 0x40000000 + 501, arch: AUDIT_ARCH_X86_64 })).toBe(ENOSYS_RET);
  });

  it('s390x: the syscall 0 multiplexer gets ENOSYS too', () => {
    const p = program([{ token: AUDIT_ARCH_S390X, max: 400 }]);
    expect(runFilter(p, { nr: 0, arch: AUDIT_ARCH_S390X })).toBe(ENOSYS_RET);
    expect(runFilter(p, { nr: 1, arch: AUDIT_ARCH_S390X })).toBe(SECCOMP_RET.ALLOW);
    expect(runFilter(p, { nr: 401, arch: AUDIT_ARCH_S390X })).toBe(ENOSYS_RET);
  });
});
