// Capability names (capabilities(7)) -> bit numbers and masks.

import { PlanError } from './errors.js';

/** Every capability this runtime knows, by number (CAP_CHOWN = 0 …). */
export const KNOWN_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
];

/** Capability name -> number. */
export const CAPABILITIES: ReadonlyMap<string, number> = new Map(
  KNOWN_CAPABILITIES.map((name, index) => [name, index]),
);

/**
 * The bit mask (bit n = capability n) of a list of names. `path` is the JSON
 * path of the list, e.g. `process.capabilities.bounding`. An unknown name,
 * or one whose number is above `lastCap` (the kernel's last capability), is
 * added to `unknown` and left out when that set is given (a config written
 * for a newer kernel), and is otherwise a PlanError naming its element.
 */
export function capabilityMask(
  names: readonly string[] | undefined,
  path: string,
  unknown?: Set<string>,
  lastCap?: number,
): bigint {
  let mask = 0n;
  (names ?? []).forEach((name, i) => {
    const bitNumber = CAPABILITIES.get(name);
    if (bitNumber === undefined || (lastCap !== undefined && bitNumber > lastCap)) {
      if (unknown) {
        unknown.add(name);
        return;
      }
      const what = bitNumber === undefined ? 'unknown' : 'unavailable (not in this kernel)';
      throw new PlanError('CAPABILITY_UNKNOWN', `${path}[${i}]`, `${what} capability "${name}"`);
    }
    mask |= 1n << BigInt(bitNumber);
  });
  return mask;
}
