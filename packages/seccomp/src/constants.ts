// Kernel and libseccomp constants the compiler needs (linux/seccomp.h,
// linux/audit.h, seccomp.h of libseccomp 2.5).

import {
  SECCOMP_ARCHITECTURES,
  type SeccompAction,
  type SeccompArch,
  type SeccompFlag,
  type SeccompOperator,
} from '@runc-ts/spec';

/** SECCOMP_RET_* action values (the top 16 bits of a filter's return value). */
export const SECCOMP_RET = {
  KILL_PROCESS: 0x8000_0000,
  KILL_THREAD: 0x0000_0000,
  TRAP: 0x0003_0000,
  ERRNO: 0x0005_0000,
  USER_NOTIF: 0x7fc0_0000,
  TRACE: 0x7ff0_0000,
  LOG: 0x7ffc_0000,
  ALLOW: 0x7fff_0000,
} as const;

export const SECCOMP_RET_ACTION_FULL = 0xffff_0000;
export const SECCOMP_RET_DATA = 0x0000_ffff;

/** SECCOMP_FILTER_FLAG_* of seccomp(2). */
export const SECCOMP_FILTER_FLAG = {
  TSYNC: 1,
  LOG: 2,
  SPEC_ALLOW: 4,
  NEW_LISTENER: 8,
  TSYNC_ESRCH: 16,
  WAIT_KILLABLE_RECV: 32,
} as const;

export const EPERM = 1;
export const ENOSYS = 38;

/** What the kernel returns for each OCI action (runc's mapping: KILL is KILL_THREAD). */
export const ACTION_VALUES: Record<SeccompAction, number> = {
  SCMP_ACT_KILL: SECCOMP_RET.KILL_THREAD,
  SCMP_ACT_KILL_THREAD: SECCOMP_RET.KILL_THREAD,
  SCMP_ACT_KILL_PROCESS: SECCOMP_RET.KILL_PROCESS,
  SCMP_ACT_TRAP: SECCOMP_RET.TRAP,
  SCMP_ACT_ERRNO: SECCOMP_RET.ERRNO,
  SCMP_ACT_TRACE: SECCOMP_RET.TRACE,
  SCMP_ACT_ALLOW: SECCOMP_RET.ALLOW,
  SCMP_ACT_LOG: SECCOMP_RET.LOG,
  SCMP_ACT_NOTIFY: SECCOMP_RET.USER_NOTIF,
};

/** Actions that carry a 16-bit value (errnoRet): the errno, or the tracer's message. */
export const ACTIONS_WITH_DATA: ReadonlySet<SeccompAction> = new Set([
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE',
]);

/** enum scmp_compare of libseccomp. */
export const OPERATOR_VALUES: Record<SeccompOperator, number> = {
  SCMP_CMP_NE: 1,
  SCMP_CMP_LT: 2,
  SCMP_CMP_LE: 3,
  SCMP_CMP_EQ: 4,
  SCMP_CMP_GE: 5,
  SCMP_CMP_GT: 6,
  SCMP_CMP_MASKED_EQ: 7,
};

/** Kernel flag of each OCI flag; TSYNC has none (see docs/seccomp.md). */
export const FLAG_VALUES: Record<SeccompFlag, number> = {
  SECCOMP_FILTER_FLAG_TSYNC: 0,
  SECCOMP_FILTER_FLAG_LOG: SECCOMP_FILTER_FLAG.LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: SECCOMP_FILTER_FLAG.SPEC_ALLOW,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: SECCOMP_FILTER_FLAG.WAIT_KILLABLE_RECV,
};

/** Every architecture the runtime-spec names. */
export const OCI_ARCHS: readonly SeccompArch[] = SECCOMP_ARCHITECTURES;

/** libseccomp's name of an OCI architecture (seccomp_arch_resolve_name). */
export function libseccompArchName(arch: SeccompArch): string {
  return arch.slice('SCMP_ARCH_'.length).toLowerCase();
}

/** AUDIT_ARCH_X86_64: x86_64 and x32 processes both report it. */
export const AUDIT_ARCH_X86_64 = 0xc000_003e;
/** libseccomp's pseudo token for x32 (EM_X86_64 without __AUDIT_ARCH_64BIT). */
export const SCMP_ARCH_X32 = 0x4000_003e;
/** x32 syscall numbers have this bit set. */
export const X32_SYSCALL_BIT = 0x4000_0000;
export const AUDIT_ARCH_S390 = 0x0000_0016;
export const AUDIT_ARCH_S390X = 0x8000_0016;

/** The kernel's limit on a classic BPF program. */
export const BPF_MAXINSNS = 4096;
