// The ENOSYS prologue (docs/seccomp.md, "Syscalls newer than the profile").
//
// A profile lists the syscalls its authors knew of. A syscall added to the
// kernel later (clone3, faccessat2, …) falls to the default action, usually
// EPERM, and libcs treat EPERM as a real refusal instead of falling back to
// the older call they would use on an older kernel. So, for each
// architecture, a syscall number above the highest one the profile names
// returns ENOSYS ("this kernel does not have it") instead.
//
// The prologue runs before libseccomp's program, which it falls through to
// unchanged (BPF jumps are relative and only go forward, so prepending is
// safe):
//
//   ld [arch]
//   jeq ARCH_1, arch_1 ; jeq ARCH_2, arch_2 ; …
//   ja end                          unknown arch: libseccomp decides
// arch_N:
//   ld [nr]
//   jgt MAX_N, enosys, end
// x86_64 (AUDIT_ARCH_X86_64 carries both x86_64 and x32):
//   ld [nr]
//   jset X32_SYSCALL_BIT, x32, x64
// x64:  jgt MAX_X86_64, enosys, end   (ja end if x86_64 is not in the filter)
// x32:  jgt MAX_X32, enosys, end      (ja end if x32 is not in the filter)
// s390, s390x: syscall 0 multiplexes big syscall numbers, so `jeq 0, enosys`
//   comes before the bound check.
// enosys:
//   ret ERRNO(ENOSYS)
// end:                              libseccomp's program

import { type AsmInsn, assemble, BPF, type Insn, SECCOMP_DATA } from './bpf.js';
import {
  AUDIT_ARCH_S390,
  AUDIT_ARCH_S390X,
  AUDIT_ARCH_X86_64,
  ENOSYS,
  SCMP_ARCH_X32,
  SECCOMP_RET,
  X32_SYSCALL_BIT,
} from './constants.js';

/** The highest syscall number the profile names on one architecture. */
export interface ArchLimit {
  /** libseccomp arch token (the AUDIT_ARCH_* value, or SCMP_ARCH_X32). */
  token: number;
  /** Highest syscall number, as the arch numbers them (x32: with X32_SYSCALL_BIT). */
  max: number;
}

/** The prologue's instructions; empty when no architecture has a limit. */
export function enosysPrologue(limits: readonly ArchLimit[]): Insn[] {
  if (limits.length === 0) return [];
  // One block per audit arch: x86_64 and x32 share one.
  const byAudit = new Map<number, { plain?: number; x32?: number }>();
  for (const { token, max } of limits) {
    const audit = token === SCMP_ARCH_X32 ? AUDIT_ARCH_X86_64 : token >>> 0;
    const entry = byAudit.get(audit) ?? {};
    if (token === SCMP_ARCH_X32) entry.x32 = max;
    else entry.plain = max;
    byAudit.set(audit, entry);
  }
  const audits = [...byAudit.keys()];
  const src: AsmInsn[] = [{ code: BPF.LD_W_ABS, k: SECCOMP_DATA.ARCH }];
  audits.forEach((audit, i) => {
    src.push({ code: BPF.JMP_JEQ_K, k: audit, jt: `arch${i}` });
  });
  src.push({ ja: 'end' });
  audits.forEach((audit, i) => {
    const { plain, x32 } = byAudit.get(audit)!;
    src.push({ label: `arch${i}` }, { code: BPF.LD_W_ABS, k: SECCOMP_DATA.NR });
    const bound = (max: number | undefined): AsmInsn =>
      max === undefined ? { ja: 'end' } : { code: BPF.JMP_JGT_K, k: max, jt: 'enosys', jf: 'end' };
    if (audit === AUDIT_ARCH_X86_64 && x32 !== undefined) {
      src.push(
        { code: BPF.JMP_JSET_K, k: X32_SYSCALL_BIT, jt: `x32_${i}` },
        bound(plain),
        { label: `x32_${i}` },
        bound(x32),
      );
      return;
    }
    if (audit === AUDIT_ARCH_X86_64) {
      // x86_64 without x32 in the filter: x32 numbers go to libseccomp,
      // which treats them as a bad architecture.
      src.push({ code: BPF.JMP_JSET_K, k: X32_SYSCALL_BIT, jt: 'end' });
    }
    if (audit === AUDIT_ARCH_S390 || audit === AUDIT_ARCH_S390X) {
      src.push({ code: BPF.JMP_JEQ_K, k: 0, jt: 'enosys' });
    }
    src.push(bound(plain));
  });
  src.push({ label: 'enosys' }, { code: BPF.RET_K, k: SECCOMP_RET.ERRNO | ENOSYS });
  return assemble(src);
}
