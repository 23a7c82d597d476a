import type { LinuxDeviceCgroup } from '@runc-ts/spec';
import { CgroupError } from './errors.js';
import { type RootlessSkips, readCgroupFile, writeCgroupFile } from './fsutil.js';

/**
 * What every runc container may use whatever its config says, appended after
 * the config's rules (so they win): mknod of any device, the memory devices
 * null/zero/full/random/urandom, /dev/tty, /dev/ptmx and the pts, and tun.
 * Checked against runc 1.1.5's devices.list. runc grants nothing for
 * linux.devices entries: they are created in /dev, access stays governed by
 * linux.resources.devices.
 */
const DEFAULT_ALLOWED: readonly LinuxDeviceCgroup[] = [
  { allow: true, type: 'c', major: -1, minor: -1, access: 'm' },
  { allow: true, type: 'b', major: -1, minor: -1, access: 'm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },
  { allow: true, type: 'c', major: 136, minor: -1, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' },
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' },
];

/**
 * The device rules a container gets: the config's linux.resources.devices
 * followed by runc's default allowed devices. They are read in order,
 * starting from "nothing allowed", the last matching rule deciding; this is
 * what FsV1Manager/FsV2Manager.set expect in `resources.devices`.
 */
export function containerDeviceRules(
  resourcesDevices: LinuxDeviceCgroup[] | undefined,
): LinuxDeviceCgroup[] {
  return [
    ...(resourcesDevices ?? []).map((rule) => ({ ...rule })),
    ...DEFAULT_ALLOWED.map((rule) => ({ ...rule })),
  ];
}

/** A rule with defaults filled in: type 'a'|'b'|'c', -1 for a wildcard number, access a subset of "rwm". */
export interface NormalizedDeviceRule {
  allow: boolean;
  type: 'a' | 'b' | 'c';
  major: number;
  minor: number;
  access: string;
}

export function normalizeDeviceRule(rule: LinuxDeviceCgroup, field: string): NormalizedDeviceRule {
  const type = rule.type === undefined || rule.type === '' ? 'a' : rule.type;
  if (type !== 'a' && type !== 'b' && type !== 'c') {
    throw new CgroupError(
      'INVALID',
      `${field}.type: ${JSON.stringify(rule.type)} is not one of "a", "b", "c"`,
    );
  }
  const number = (value: number | undefined, name: string): number => {
    if (value === undefined || value === -1) return -1;
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
      throw new CgroupError(
        'INVALID',
        `${field}.${name}: ${value} is not a device number (or -1 for any)`,
      );
    }
    return value;
  };
  const access = rule.access === undefined || rule.access === '' ? 'rwm' : rule.access;
  // Other letters are ignored, as runc ignores them ("rwa" is "rw"); a rule
  // that grants or denies nothing is refused.
  if (!/[rwm]/.test(access)) {
    throw new CgroupError(
      'INVALID',
      `${field}.access: ${JSON.stringify(rule.access)} has none of the letters r, w and m`,
    );
  }
  return {
    allow: rule.allow,
    type,
    major: number(rule.major, 'major'),
    minor: number(rule.minor, 'minor'),
    access: canonicalAccess(access),
  };
}

function canonicalAccess(access: string): string {
  return ['r', 'w', 'm'].filter((letter) => access.includes(letter)).join('');
}

interface Exception {
  type: 'a' | 'b' | 'c';
  major: number;
  minor: number;
  access: string;
}

/**
 * The state of a v1 devices cgroup as the kernel keeps it: a default
 * (everything allowed or nothing allowed) and exceptions to it, keyed by
 * exact type:major:minor.
 */
export interface DeviceCgroupState {
  allowAll: boolean;
  exceptions: Exception[];
}

function keyOf(entry: { type: string; major: number; minor: number }): string {
  return `${entry.type} ${entry.major}:${entry.minor}`;
}

/**
 * Applies rules the way writes to devices.allow / devices.deny change the
 * kernel's state (security/device_cgroup.c): type "a" resets the default and
 * drops every exception; a rule agreeing with the default removes its access
 * letters from the exception with exactly the same type and numbers (a
 * wildcard does not cover specific entries); otherwise it adds an exception,
 * merging letters into an existing one.
 */
export function emulateDeviceRules(
  rules: readonly NormalizedDeviceRule[],
  start: DeviceCgroupState = { allowAll: false, exceptions: [] },
): DeviceCgroupState {
  let allowAll = start.allowAll;
  let exceptions = start.exceptions.map((entry) => ({ ...entry }));
  for (const rule of rules) {
    if (rule.type === 'a') {
      allowAll = rule.allow;
      exceptions = [];
      continue;
    }
    const existing = exceptions.find((entry) => keyOf(entry) === keyOf(rule));
    if (rule.allow !== allowAll) {
      if (existing) existing.access = canonicalAccess(existing.access + rule.access);
      else
        exceptions.push({
          type: rule.type,
          major: rule.major,
          minor: rule.minor,
          access: rule.access,
        });
      continue;
    }
    if (!existing) continue;
    existing.access = removeLetters(existing.access, rule.access);
    if (existing.access === '') exceptions = exceptions.filter((entry) => entry !== existing);
  }
  return { allowAll, exceptions };
}

function removeLetters(access: string, letters: string): string {
  return [...access].filter((letter) => !letters.includes(letter)).join('');
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The order runc writes exceptions in (and so devices.list shows them): by major, minor, then type; wildcards first. */
function compareExceptions(a: Exception, b: Exception): number {
  // Not localeCompare: its first call builds an ICU collator (~15 ms).
  return a.major - b.major || a.minor - b.minor || compareCodeUnits(a.type, b.type);
}

export function formatDeviceRule(entry: {
  type: string;
  major: number;
  minor: number;
  access: string;
}): string {
  const number = (value: number) => (value < 0 ? '*' : String(value));
  return `${entry.type} ${number(entry.major)}:${number(entry.minor)} ${entry.access}`;
}

/** Parses devices.list. "a *:* rwm" is the kernel's way of saying "everything allowed". */
export function parseDevicesList(text: string): DeviceCgroupState {
  const exceptions: Exception[] = [];
  for (const line of text.split('\n')) {
    const match = /^([abc]) (\*|\d+):(\*|\d+) ([rwm]+)$/.exec(line.trim());
    if (!match) continue;
    const [, type, major, minor, access] = match as unknown as [
      string,
      'a' | 'b' | 'c',
      string,
      string,
      string,
    ];
    if (type === 'a') return { allowAll: true, exceptions: [] };
    exceptions.push({
      type,
      major: major === '*' ? -1 : Number(major),
      minor: minor === '*' ? -1 : Number(minor),
      access,
    });
  }
  return { allowAll: false, exceptions };
}

/** One write to devices.allow or devices.deny. */
export interface DeviceWrite {
  file: 'devices.allow' | 'devices.deny';
  value: string;
}

/**
 * The writes that take a devices cgroup from `current` to `target`. Between
 * two allow-lists only the differences are written, additions first, so a
 * running container never loses access to a device it keeps. Going from
 * "everything allowed" to an allow-list has to deny everything first; the
 * allowed devices then follow in runc's order.
 */
export function deviceTransition(
  current: DeviceCgroupState,
  target: DeviceCgroupState,
): DeviceWrite[] {
  const writes: DeviceWrite[] = [];
  const sorted = [...target.exceptions].sort(compareExceptions);
  if (target.allowAll) {
    // The kernel does not list the exceptions of an allow-all cgroup: reset, then deny.
    writes.push({ file: 'devices.allow', value: 'a' });
    for (const entry of sorted)
      writes.push({ file: 'devices.deny', value: formatDeviceRule(entry) });
    return writes;
  }
  if (current.allowAll) {
    writes.push({ file: 'devices.deny', value: 'a' });
    for (const entry of sorted)
      writes.push({ file: 'devices.allow', value: formatDeviceRule(entry) });
    return writes;
  }
  const currentByKey = new Map(current.exceptions.map((entry) => [keyOf(entry), entry]));
  const targetByKey = new Map(target.exceptions.map((entry) => [keyOf(entry), entry]));
  for (const entry of sorted) {
    const missing = removeLetters(entry.access, currentByKey.get(keyOf(entry))?.access ?? '');
    if (missing !== '')
      writes.push({
        file: 'devices.allow',
        value: formatDeviceRule({ ...entry, access: missing }),
      });
  }
  for (const entry of current.exceptions) {
    const extra = removeLetters(entry.access, targetByKey.get(keyOf(entry))?.access ?? '');
    if (extra !== '')
      writes.push({ file: 'devices.deny', value: formatDeviceRule({ ...entry, access: extra }) });
  }
  return writes;
}

/** Brings a v1 devices cgroup to exactly what `rules` (read from "nothing allowed") describe. */
export function applyV1DeviceRules(
  dir: string,
  rules: LinuxDeviceCgroup[],
  skips: RootlessSkips,
): void {
  const normalized = rules.map((rule, index) =>
    normalizeDeviceRule(rule, `linux.resources.devices[${index}]`),
  );
  const target = emulateDeviceRules(normalized);
  const current = parseDevicesList(readCgroupFile(dir, 'devices.list'));
  for (const write of deviceTransition(current, target)) {
    if (!skips.attempt(`${dir}/${write.file}`, () => writeCgroupFile(dir, write.file, write.value)))
      return;
  }
}
