// What `runc features` reports under linux.seccomp: what this host's kernel
// and libseccomp let us compile and load, not a fixed list.

import { readFileSync } from 'node:fs';
import type { SeccompAction, SeccompArch, SeccompFlag, SeccompOperator } from '@runc-ts/spec';
import {
  ACTION_VALUES,
  FLAG_VALUES,
  libseccompArchName,
  OCI_ARCHS,
  OPERATOR_VALUES,
  SECCOMP_FILTER_FLAG,
} from './constants.js';
import { loadLibseccomp } from './libseccomp.js';

export interface SeccompFeatures {
  enabled: boolean;
  actions?: SeccompAction[];
  operators?: SeccompOperator[];
  archs?: SeccompArch[];
  knownFlags?: SeccompFlag[];
  supportedFlags?: SeccompFlag[];
  /** The libseccomp in use (runc's io.github.seccomp.libseccomp.version annotation). */
  libseccompVersion?: string;
}

/** /proc/sys/kernel/seccomp/actions_avail names of the OCI actions. */
const KERNEL_ACTION: Record<SeccompAction, string> = {
  SCMP_ACT_KILL: 'kill_thread',
  SCMP_ACT_KILL_THREAD: 'kill_thread',
  SCMP_ACT_KILL_PROCESS: 'kill_process',
  SCMP_ACT_TRAP: 'trap',
  SCMP_ACT_ERRNO: 'errno',
  SCMP_ACT_TRACE: 'trace',
  SCMP_ACT_ALLOW: 'allow',
  SCMP_ACT_LOG: 'log',
  SCMP_ACT_NOTIFY: 'user_notif',
};

const SECCOMP_SET_MODE_FILTER = 1;
const EFAULT = 14;

export interface SeccompFeaturesOptions {
  /** Content of /proc/sys/kernel/seccomp/actions_avail (tests). */
  actionsAvail?: string;
}

/**
 * Seccomp support on this host. Loads libseccomp (through the FFI): only for
 * `runc features`, never on a container's path. `enabled: false` when
 * libseccomp or seccomp itself is missing.
 */
export function seccompFeatures(options: SeccompFeaturesOptions = {}): SeccompFeatures {
  let avail: Set<string>;
  try {
    avail = new Set(
      (options.actionsAvail ?? readFileSync('/proc/sys/kernel/seccomp/actions_avail', 'utf8'))
        .trim()
        .split(/\s+/),
    );
  } catch {
    return { enabled: false }; // a kernel without seccomp filters
  }
  let lib: ReturnType<typeof loadLibseccomp>;
  try {
    lib = loadLibseccomp();
  } catch {
    return { enabled: false };
  }
  const sorted = <T extends string>(values: T[]) => [...values].sort();
  const knownFlags = sorted(Object.keys(FLAG_VALUES) as SeccompFlag[]);
  // The kernel checks the flags before it reads the (here NULL) program:
  // EFAULT means it knows them. WAIT_KILLABLE_RECV needs NEW_LISTENER.
  const supportedFlags = knownFlags.filter((flag) => {
    const value = FLAG_VALUES[flag];
    if (value === 0) return true; // TSYNC: accepted without a kernel flag
    const probe =
      flag === 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'
        ? value | SECCOMP_FILTER_FLAG.NEW_LISTENER
        : value;
    return lib.seccompSyscall(SECCOMP_SET_MODE_FILTER, probe, null) === -EFAULT;
  });
  return {
    enabled: true,
    actions: sorted(
      (Object.keys(ACTION_VALUES) as SeccompAction[]).filter((a) => avail.has(KERNEL_ACTION[a])),
    ),
    operators: sorted(Object.keys(OPERATOR_VALUES) as SeccompOperator[]),
    archs: sorted(OCI_ARCHS.filter((a) => lib.archToken(libseccompArchName(a)) !== 0)),
    knownFlags,
    supportedFlags,
    libseccompVersion: lib.version,
  };
}
