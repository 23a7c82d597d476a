import type { LinuxDeviceCgroup } from '@runc-ts/spec';
import { DeviceFilterError } from './errors.js';

/** Access bits as the kernel passes them in bpf_cgroup_dev_ctx (BPF_DEVCG_ACC_*). */
export const DEVICE_ACCESS = { MKNOD: 1, READ: 2, WRITE: 4 } as const;
export const DEVICE_ACCESS_ALL = DEVICE_ACCESS.MKNOD | DEVICE_ACCESS.READ | DEVICE_ACCESS.WRITE;

/** Device types as the kernel passes them in bpf_cgroup_dev_ctx (BPF_DEVCG_DEV_*). */
export const DEVICE_TYPE = { BLOCK: 1, CHAR: 2 } as const;

/** One linux.resources.devices entry, validated, with defaults applied. */
export interface DeviceRule {
  allow: boolean;
  /** 'a': block and character devices. */
  type: 'a' | 'b' | 'c';
  /** undefined: any major. */
  major: number | undefined;
  /** undefined: any minor. */
  minor: number | undefined;
  /** DEVICE_ACCESS bits, never 0. */
  access: number;
}

const ACCESS_LETTERS: Record<string, number> = {
  r: DEVICE_ACCESS.READ,
  w: DEVICE_ACCESS.WRITE,
  m: DEVICE_ACCESS.MKNOD,
};

/**
 * Validates linux.resources.devices and applies the runtime-spec defaults:
 * no type or "a" = every type, no number or -1 = any number, no access = "rwm".
 */
export function parseDeviceRules(rules: readonly LinuxDeviceCgroup[]): DeviceRule[] {
  return rules.map((rule, index) => parseDeviceRule(rule, `linux.resources.devices[${index}]`));
}

function parseDeviceRule(rule: LinuxDeviceCgroup, field: string): DeviceRule {
  if (typeof rule.allow !== 'boolean') {
    throw invalid(`${field}.allow`, `must be true or false, got ${JSON.stringify(rule.allow)}`);
  }
  const type = rule.type ?? 'a';
  if (type !== 'a' && type !== 'b' && type !== 'c') {
    throw invalid(
      `${field}.type`,
      `${JSON.stringify(type)} is not a cgroup device type (a, b or c)`,
    );
  }
  return {
    allow: rule.allow,
    type,
    major: parseDeviceNumber(rule.major, `${field}.major`),
    minor: parseDeviceNumber(rule.minor, `${field}.minor`),
    access: parseAccess(rule.access, `${field}.access`),
  };
}

function parseDeviceNumber(value: number | undefined, field: string): number | undefined {
  if (value === undefined || value === -1) return undefined;
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw invalid(field, `${value} is not a device number (0 to 4294967295, or -1 for any)`);
  }
  return value;
}

function parseAccess(value: string | undefined, field: string): number {
  if (value === undefined) return DEVICE_ACCESS_ALL;
  // Absent means "rwm" (runc 1.1 rejects it instead). An empty string would
  // make a rule that matches nothing, almost certainly a mistake: rejected,
  // as runc does, rather than silently ignored.
  if (value === '') throw invalid(field, 'is empty; use a combination of "r", "w" and "m"');
  let access = 0;
  for (const letter of value) {
    const bit = ACCESS_LETTERS[letter];
    if (bit === undefined) {
      throw invalid(
        field,
        `${JSON.stringify(value)} has ${JSON.stringify(letter)}; only "r", "w" and "m" are allowed`,
      );
    }
    access |= bit;
  }
  return access;
}

function invalid(field: string, problem: string): DeviceFilterError {
  return new DeviceFilterError('DEVICE_RULE_INVALID', `${field}: ${problem}`);
}

export function formatAccess(access: number): string {
  return (
    (access & DEVICE_ACCESS.READ ? 'r' : '') +
    (access & DEVICE_ACCESS.WRITE ? 'w' : '') +
    (access & DEVICE_ACCESS.MKNOD ? 'm' : '')
  );
}

/** The rule in devices.list notation, e.g. "allow c 1:* rw". */
export function formatDeviceRule(rule: DeviceRule): string {
  const number = (n: number | undefined) => (n === undefined ? '*' : String(n));
  return `${rule.allow ? 'allow' : 'deny'} ${rule.type} ${number(rule.major)}:${number(rule.minor)} ${formatAccess(rule.access)}`;
}
