import { describe, expect, it } from 'vitest';
import { CgroupError } from '../errors.js';
import { expandSlice, systemdPlacement } from './unit.js';

function placement(cgroupsPath: string | undefined, containerId = 'abc', rootless = false) {
  return systemdPlacement({ containerId, cgroupsPath, rootless });
}

function message(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(CgroupError);
    expect((error as CgroupError).code).toBe('INVALID');
    return (error as Error).message;
  }
  throw new Error('expected an INVALID CgroupError');
}

describe('systemdPlacement (runc 1.1.5 rules, checked with runc --systemd-cgroup in systemd-nspawn)', () => {
  it('defaults an absent or empty cgroupsPath to ":runc:<id>" in system.slice', () => {
    const expected = {
      unit: 'runc-abc.scope',
      slice: 'system.slice',
      name: 'abc',
      cgroupPath: '/system.slice/runc-abc.scope',
    };
    expect(placement(undefined)).toEqual(expected);
    expect(placement('')).toEqual(expected);
  });

  it('puts a rootless container in user.slice by default', () => {
    expect(placement(undefined, 'abc', true)).toMatchObject({
      slice: 'user.slice',
      cgroupPath: '/user.slice/runc-abc.scope',
    });
  });

  it('names the scope <prefix>-<name>.scope in the given slice, nested by dashes', () => {
    expect(placement('a-b.slice:pfx:c2')).toEqual({
      unit: 'pfx-c2.scope',
      slice: 'a-b.slice',
      name: 'c2',
      cgroupPath: '/a.slice/a-b.slice/pfx-c2.scope',
    });
    expect(placement(':pfx:c3')).toMatchObject({ unit: 'pfx-c3.scope', slice: 'system.slice' });
  });

  it('keeps the dash of an empty prefix, as runc does ("::c4" is "-c4.scope")', () => {
    expect(placement('::c4').unit).toBe('-c4.scope');
  });

  it('places a scope in the root slice for "-.slice"', () => {
    expect(placement('-.slice:x:c5')).toMatchObject({
      unit: 'x-c5.scope',
      cgroupPath: '/x-c5.scope',
    });
  });

  it('makes a slice, not a scope, for a name ending in .slice', () => {
    expect(placement('system.slice:runc:system-c7.slice')).toEqual({
      unit: 'system-c7.slice',
      slice: 'system.slice',
      name: 'system-c7.slice',
      cgroupPath: '/system.slice/system-c7.slice',
    });
  });

  it('refuses paths that are not slice:prefix:name, naming linux.cgroupsPath', () => {
    expect(message(() => placement('foo'))).toBe(
      'linux.cgroupsPath: expected "slice:prefix:name" for the systemd cgroup driver (--systemd-cgroup), got "foo"',
    );
    expect(message(() => placement('system.slice:runc:x:y'))).toMatch(
      /^linux\.cgroupsPath: expected/,
    );
    expect(message(() => placement('system.slice:runc:'))).toMatch(/empty name/);
  });

  it('refuses slice names runc refuses', () => {
    expect(message(() => placement('-:x:c6'))).toMatch(
      /"-" is not a valid systemd slice name: it must end in ".slice"/,
    );
    expect(message(() => placement('a/b.slice:x:c9'))).toMatch(/must not contain "\/"/);
    for (const slice of ['a--b.slice', '-a.slice', 'a-.slice']) {
      expect(message(() => placement(`${slice}:runc:x`))).toMatch(
        /cannot start or end the name or be doubled/,
      );
    }
    expect(message(() => placement('.slice:runc:x'))).toMatch(/empty/);
  });

  it('refuses unit names systemd would refuse, saying where the name came from', () => {
    expect(message(() => placement('system.slice:runc:has space'))).toMatch(
      /unit name "runc-has space.scope" is not valid: " " is not allowed/,
    );
    expect(message(() => placement(undefined, 'a+b'))).toMatch(/made from the container id "a\+b"/);
    expect(message(() => placement(`system.slice:runc:${'x'.repeat(250)}`))).toMatch(
      /longer than 255/,
    );
    expect(placement('system.slice:runc:tmpl@inst').unit).toBe('runc-tmpl@inst.scope');
  });
});

describe('expandSlice', () => {
  it('expands each dash into a level', () => {
    expect(expandSlice('system.slice')).toBe('/system.slice');
    expect(expandSlice('user-1000.slice')).toBe('/user.slice/user-1000.slice');
    expect(expandSlice('a-b-c.slice')).toBe('/a.slice/a-b.slice/a-b-c.slice');
    expect(expandSlice('-.slice')).toBe('/');
  });
});
