import { CgroupError } from '../errors.js';
import type { CgroupConfig } from '../types.js';

/** Where a container goes under systemd: its unit, the slice above it, and the cgroup systemd gives it. */
export interface SystemdPlacement {
  /** "<prefix>-<name>.scope", or the name itself when it ends in ".slice". */
  unit: string;
  /** The slice the unit is placed in: Slice= of a scope, Wants= of a slice. "-.slice" is the root. */
  slice: string;
  /** The name part of linux.cgroupsPath (the container id by default), used in the unit's Description. */
  name: string;
  /** The unit's cgroup below systemd's root cgroup, e.g. "/system.slice/runc-abc.scope". */
  cgroupPath: string;
}

const FIELD = 'linux.cgroupsPath';
/** systemd's UNIT_NAME_MAX, which counts the terminating NUL. */
const UNIT_NAME_MAX = 255;
/** Characters systemd accepts in a unit name (besides one "@" between template and instance). */
const UNIT_NAME_CHARS = /^[A-Za-z0-9:_.\\-]+$/;

function invalid(message: string): CgroupError {
  return new CgroupError('INVALID', `${FIELD}: ${message}`);
}

/**
 * The unit for a container as runc places it with --systemd-cgroup:
 * linux.cgroupsPath is "slice:prefix:name"; an empty slice is system.slice
 * (user.slice for a rootless container), an absent or empty cgroupsPath is
 * ":runc:<container id>". The unit is "<prefix>-<name>.scope" unless name
 * ends in ".slice", which makes the container's unit that slice.
 */
export function systemdPlacement(
  config: Pick<CgroupConfig, 'containerId' | 'cgroupsPath' | 'rootless'>,
): SystemdPlacement {
  const raw = config.cgroupsPath ?? '';
  let sliceField = '';
  let prefix = 'runc';
  let name = config.containerId;
  if (raw !== '') {
    const parts = raw.split(':');
    if (parts.length !== 3) {
      throw invalid(
        `expected "slice:prefix:name" for the systemd cgroup driver (--systemd-cgroup), got ${JSON.stringify(raw)}`,
      );
    }
    [sliceField, prefix, name] = parts as [string, string, string];
    if (name === '') {
      throw invalid(`${JSON.stringify(raw)} has an empty name (the part after the last ":")`);
    }
  }
  const slice = sliceField === '' ? (config.rootless ? 'user.slice' : 'system.slice') : sliceField;
  const slicePath = expandSlice(slice);
  if (name.endsWith('.slice')) {
    return { unit: name, slice, name, cgroupPath: expandSlice(name) };
  }
  const unit = `${prefix}-${name}.scope`;
  checkUnitName(unit, raw === '' ? `the container id ${JSON.stringify(name)}` : undefined);
  return { unit, slice, name, cgroupPath: joinCgroupPath(slicePath, unit) };
}

function joinCgroupPath(parent: string, child: string): string {
  return parent === '/' ? `/${child}` : `${parent}/${child}`;
}

function checkUnitName(unit: string, source: string | undefined): void {
  const from = source === undefined ? '' : ` (made from ${source})`;
  if (unit.length > UNIT_NAME_MAX) {
    throw invalid(
      `the systemd unit name ${JSON.stringify(unit)}${from} is longer than ${UNIT_NAME_MAX} characters`,
    );
  }
  const at = unit.indexOf('@');
  const plain = at < 0 ? unit : `${unit.slice(0, at)}_${unit.slice(at + 1)}`;
  const bad = [...plain].find((char) => !UNIT_NAME_CHARS.test(char));
  if (bad !== undefined || at === 0 || (at > 0 && unit.indexOf('@', at + 1) >= 0)) {
    const what = bad !== undefined ? JSON.stringify(bad) : '"@"';
    throw invalid(
      `the systemd unit name ${JSON.stringify(unit)}${from} is not valid: ${what} is not allowed there (unit names use letters, digits and ":-_.\\")`,
    );
  }
}

/**
 * A slice's cgroup path: each "-" in the name starts a level, so
 * "a-b-c.slice" is "/a.slice/a-b.slice/a-b-c.slice" and "-.slice", the root
 * slice, is "/". Names must not contain "/", begin or end with "-", or have
 * "--" (systemd.slice(5)).
 */
export function expandSlice(slice: string): string {
  if (slice === '-.slice') return '/';
  const problem = (why: string) =>
    invalid(`${JSON.stringify(slice)} is not a valid systemd slice name: ${why}`);
  if (!slice.endsWith('.slice')) throw problem('it must end in ".slice"');
  if (slice.includes('/')) throw problem('it must not contain "/" (nest slices with "-")');
  const base = slice.slice(0, -'.slice'.length);
  if (base === '') throw problem('the name before ".slice" is empty');
  if (base.startsWith('-') || base.endsWith('-') || base.includes('--')) {
    throw problem('"-" separates levels, so it cannot start or end the name or be doubled');
  }
  checkUnitName(slice, undefined);
  let path = '';
  let prefix = '';
  for (const component of base.split('-')) {
    prefix = prefix === '' ? component : `${prefix}-${component}`;
    path += `/${prefix}.slice`;
  }
  return path;
}
