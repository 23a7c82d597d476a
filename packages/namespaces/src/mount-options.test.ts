import { describe, expect, it } from 'vitest';
import {
  MOUNT_ATTR__ATIME,
  MOUNT_ATTR_NOATIME,
  MOUNT_ATTR_NODEV,
  MOUNT_ATTR_NODIRATIME,
  MOUNT_ATTR_NOEXEC,
  MOUNT_ATTR_NOSUID,
  MOUNT_ATTR_NOSYMFOLLOW,
  MOUNT_ATTR_RDONLY,
  MOUNT_ATTR_RELATIME,
  MOUNT_ATTR_STRICTATIME,
  MOUNT_OPTIONS_SUPPORTED,
  MS_BIND,
  MS_DIRSYNC,
  MS_I_VERSION,
  MS_LAZYTIME,
  MS_MANDLOCK,
  MS_NOATIME,
  MS_NODEV,
  MS_NODIRATIME,
  MS_NOEXEC,
  MS_NOSUID,
  MS_NOSYMFOLLOW,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_RELATIME,
  MS_REMOUNT,
  MS_SHARED,
  MS_SILENT,
  MS_SLAVE,
  MS_STRICTATIME,
  MS_SYNCHRONOUS,
  MS_UNBINDABLE,
  parseMountOptions,
} from './mount-options.js';

describe('constants', () => {
  it('match linux/mount.h', () => {
    expect([MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_SYNCHRONOUS, MS_REMOUNT]).toEqual([
      1, 2, 4, 8, 16, 32,
    ]);
    expect([MS_MANDLOCK, MS_DIRSYNC, MS_NOSYMFOLLOW, MS_NOATIME, MS_NODIRATIME]).toEqual([
      64, 128, 256, 1024, 2048,
    ]);
    expect([MS_BIND, MS_REC, MS_SILENT]).toEqual([4096, 16384, 32768]);
    expect([MS_UNBINDABLE, MS_PRIVATE, MS_SLAVE, MS_SHARED, MS_RELATIME]).toEqual([
      0x20000, 0x40000, 0x80000, 0x100000, 0x200000,
    ]);
    expect([MS_I_VERSION, MS_STRICTATIME, MS_LAZYTIME]).toEqual([0x800000, 0x1000000, 0x2000000]);
    expect([MOUNT_ATTR_RDONLY, MOUNT_ATTR_NOSUID, MOUNT_ATTR_NODEV, MOUNT_ATTR_NOEXEC]).toEqual([
      1, 2, 4, 8,
    ]);
    expect([MOUNT_ATTR__ATIME, MOUNT_ATTR_RELATIME, MOUNT_ATTR_NOATIME]).toEqual([0x70, 0, 0x10]);
    expect([MOUNT_ATTR_STRICTATIME, MOUNT_ATTR_NODIRATIME, MOUNT_ATTR_NOSYMFOLLOW]).toEqual([
      0x20, 0x80, 0x200000,
    ]);
  });
});

describe('parseMountOptions', () => {
  it('returns an empty result for no options', () => {
    expect(parseMountOptions([])).toEqual({
      flags: 0,
      clearFlags: 0,
      propagation: [],
      attrSet: 0,
      attrClear: 0,
      recursiveAttr: false,
      data: [],
      extensions: {},
    });
  });

  it.each([
    ['ro', MS_RDONLY],
    ['nosuid', MS_NOSUID],
    ['nodev', MS_NODEV],
    ['noexec', MS_NOEXEC],
    ['sync', MS_SYNCHRONOUS],
    ['dirsync', MS_DIRSYNC],
    ['remount', MS_REMOUNT],
    ['mand', MS_MANDLOCK],
    ['noatime', MS_NOATIME],
    ['nodiratime', MS_NODIRATIME],
    ['relatime', MS_RELATIME],
    ['strictatime', MS_STRICTATIME],
    ['lazytime', MS_LAZYTIME],
    ['iversion', MS_I_VERSION],
    ['bind', MS_BIND],
    ['rbind', MS_BIND | MS_REC],
    ['nosymfollow', MS_NOSYMFOLLOW],
    ['silent', MS_SILENT],
  ])('%s sets flag %i', (option, flag) => {
    const parsed = parseMountOptions([option]);
    expect(parsed.flags).toBe(flag);
    expect(parsed.clearFlags).toBe(0);
    expect(parsed.data).toEqual([]);
    expect(parsed.recursiveAttr).toBe(false);
  });

  it.each([
    ['rw', 'ro', MS_RDONLY],
    ['suid', 'nosuid', MS_NOSUID],
    ['dev', 'nodev', MS_NODEV],
    ['exec', 'noexec', MS_NOEXEC],
    ['async', 'sync', MS_SYNCHRONOUS],
    ['nomand', 'mand', MS_MANDLOCK],
    ['atime', 'noatime', MS_NOATIME],
    ['diratime', 'nodiratime', MS_NODIRATIME],
    ['norelatime', 'relatime', MS_RELATIME],
    ['nostrictatime', 'strictatime', MS_STRICTATIME],
    ['nolazytime', 'lazytime', MS_LAZYTIME],
    ['noiversion', 'iversion', MS_I_VERSION],
    ['symfollow', 'nosymfollow', MS_NOSYMFOLLOW],
    ['loud', 'silent', MS_SILENT],
  ])('%s clears what %s sets (%i); the last one wins', (clear, set, flag) => {
    expect(parseMountOptions([clear])).toMatchObject({ flags: 0, clearFlags: flag });
    expect(parseMountOptions([set, clear])).toMatchObject({ flags: 0, clearFlags: flag });
    expect(parseMountOptions([clear, set])).toMatchObject({ flags: flag, clearFlags: 0 });
  });

  it('defaults sets nothing', () => {
    expect(parseMountOptions(['defaults'])).toMatchObject({ flags: 0, clearFlags: 0, data: [] });
    expect(parseMountOptions(['ro', 'defaults']).flags).toBe(MS_RDONLY);
  });

  it('combines flags', () => {
    expect(parseMountOptions(['nosuid', 'noexec', 'nodev', 'relatime', 'ro']).flags).toBe(
      MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RELATIME | MS_RDONLY,
    );
  });

  it.each([
    ['private', MS_PRIVATE],
    ['rprivate', MS_PRIVATE | MS_REC],
    ['shared', MS_SHARED],
    ['rshared', MS_SHARED | MS_REC],
    ['slave', MS_SLAVE],
    ['rslave', MS_SLAVE | MS_REC],
    ['unbindable', MS_UNBINDABLE],
    ['runbindable', MS_UNBINDABLE | MS_REC],
  ])('%s is a propagation change %i', (option, flag) => {
    expect(parseMountOptions([option])).toMatchObject({ flags: 0, propagation: [flag] });
  });

  it('keeps propagation changes in order', () => {
    expect(parseMountOptions(['rshared', 'bind', 'private', 'rslave']).propagation).toEqual([
      MS_SHARED | MS_REC,
      MS_PRIVATE,
      MS_SLAVE | MS_REC,
    ]);
  });

  it.each([
    ['rro', MOUNT_ATTR_RDONLY, 0],
    ['rrw', 0, MOUNT_ATTR_RDONLY],
    ['rnosuid', MOUNT_ATTR_NOSUID, 0],
    ['rsuid', 0, MOUNT_ATTR_NOSUID],
    ['rnodev', MOUNT_ATTR_NODEV, 0],
    ['rdev', 0, MOUNT_ATTR_NODEV],
    ['rnoexec', MOUNT_ATTR_NOEXEC, 0],
    ['rexec', 0, MOUNT_ATTR_NOEXEC],
    ['rnodiratime', MOUNT_ATTR_NODIRATIME, 0],
    ['rdiratime', 0, MOUNT_ATTR_NODIRATIME],
    ['rnosymfollow', MOUNT_ATTR_NOSYMFOLLOW, 0],
    ['rsymfollow', 0, MOUNT_ATTR_NOSYMFOLLOW],
    ['rrelatime', MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME],
    ['rnorelatime', MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME],
    ['rnoatime', MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME],
    ['ratime', MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME],
    ['rstrictatime', MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME],
    ['rnostrictatime', MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME],
  ])('%s sets attributes %i and clears %i recursively', (option, set, clear) => {
    expect(parseMountOptions([option])).toMatchObject({
      flags: 0,
      attrSet: set,
      attrClear: clear,
      recursiveAttr: true,
      data: [],
    });
  });

  it('lets the last attribute option win', () => {
    expect(parseMountOptions(['rro', 'rrw'])).toMatchObject({
      attrSet: 0,
      attrClear: MOUNT_ATTR_RDONLY,
    });
    expect(parseMountOptions(['rrw', 'rro'])).toMatchObject({
      attrSet: MOUNT_ATTR_RDONLY,
      attrClear: 0,
    });
    expect(parseMountOptions(['rnoatime', 'rstrictatime', 'rnosuid'])).toMatchObject({
      attrSet: MOUNT_ATTR_STRICTATIME | MOUNT_ATTR_NOSUID,
      attrClear: MOUNT_ATTR__ATIME,
    });
    expect(parseMountOptions(['rnoatime', 'ratime'])).toMatchObject({
      attrSet: MOUNT_ATTR_RELATIME,
      attrClear: MOUNT_ATTR__ATIME,
    });
  });

  it('always clears the whole atime field when it sets an atime mode (kernel rule)', () => {
    for (const option of MOUNT_OPTIONS_SUPPORTED) {
      const { attrSet, attrClear } = parseMountOptions([option]);
      if (attrSet & MOUNT_ATTR__ATIME)
        expect(attrClear & MOUNT_ATTR__ATIME).toBe(MOUNT_ATTR__ATIME);
      const partial = attrClear & MOUNT_ATTR__ATIME;
      expect(partial === 0 || partial === MOUNT_ATTR__ATIME).toBe(true);
    }
  });

  it.each(['tmpcopyup', 'idmap', 'ridmap'] as const)('%s is an extension', (option) => {
    expect(parseMountOptions([option])).toMatchObject({
      flags: 0,
      data: [],
      extensions: { [option]: true },
    });
  });

  it('passes unknown options, acl and noacl to the filesystem as data, in order', () => {
    expect(
      parseMountOptions(['nosuid', 'mode=755', 'acl', 'size=65536k', 'noacl', 'newinstance']),
    ).toMatchObject({
      flags: MS_NOSUID,
      data: ['mode=755', 'acl', 'size=65536k', 'noacl', 'newinstance'],
    });
  });

  it('does not treat Object.prototype names as options', () => {
    expect(parseMountOptions(['constructor', 'toString', '__proto__']).data).toEqual([
      'constructor',
      'toString',
      '__proto__',
    ]);
  });
});

describe('MOUNT_OPTIONS_SUPPORTED', () => {
  it('is sorted and unique', () => {
    expect(MOUNT_OPTIONS_SUPPORTED).toEqual([...new Set(MOUNT_OPTIONS_SUPPORTED)].sort());
  });

  it('lists every option the planner handles and nothing else', () => {
    expect(MOUNT_OPTIONS_SUPPORTED).toHaveLength(33 + 8 + 18);
    for (const option of ['defaults', 'ro', 'rbind', 'rslave', 'rro', 'ratime', 'loud']) {
      expect(MOUNT_OPTIONS_SUPPORTED).toContain(option);
    }
    for (const option of ['tmpcopyup', 'idmap', 'ridmap', 'acl', 'noacl', 'mode=755']) {
      expect(MOUNT_OPTIONS_SUPPORTED).not.toContain(option);
    }
  });

  it('has no option that parses as plain data', () => {
    for (const option of MOUNT_OPTIONS_SUPPORTED) {
      expect(parseMountOptions([option]).data).toEqual([]);
    }
  });
});
