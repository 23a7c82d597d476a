import type { LinuxDevice } from '@runc-ts/spec';
import { describe, expect, it } from 'vitest';
import {
  cleanPath,
  DEFAULT_DEV_SYMLINKS,
  DEFAULT_DEVICES,
  deviceOps,
  mergeDevices,
  S_IFBLK,
  S_IFCHR,
  S_IFIFO,
} from './devices.js';
import { PlanError } from './errors.js';
import { dumpPlan } from './plan.js';

describe('default devices', () => {
  it('are runc’s six char devices, 0666 root:root', () => {
    expect(
      DEFAULT_DEVICES.map((d) => [d.path, d.type, d.major, d.minor, d.fileMode, d.uid, d.gid]),
    ).toEqual([
      ['/dev/null', 'c', 1, 3, 0o666, 0, 0],
      ['/dev/zero', 'c', 1, 5, 0o666, 0, 0],
      ['/dev/full', 'c', 1, 7, 0o666, 0, 0],
      ['/dev/random', 'c', 1, 8, 0o666, 0, 0],
      ['/dev/urandom', 'c', 1, 9, 0o666, 0, 0],
      ['/dev/tty', 'c', 5, 0, 0o666, 0, 0],
    ]);
  });

  it('come with the standard symlinks', () => {
    expect(DEFAULT_DEV_SYMLINKS).toEqual([
      ['/proc/self/fd', '/dev/fd'],
      ['/proc/self/fd/0', '/dev/stdin'],
      ['/proc/self/fd/1', '/dev/stdout'],
      ['/proc/self/fd/2', '/dev/stderr'],
    ]);
  });
});

describe('cleanPath', () => {
  it.each([
    ['/dev/null', '/dev/null'],
    ['/dev//null/', '/dev/null'],
    ['/dev/./x/../null', '/dev/null'],
    ['/', '/'],
    ['/../..', '/'],
  ])('%s -> %s', (input, output) => {
    expect(cleanPath(input)).toBe(output);
  });
});

describe('mergeDevices', () => {
  it('returns the defaults for no config devices', () => {
    expect(mergeDevices(undefined)).toEqual(DEFAULT_DEVICES);
    expect(mergeDevices([])).toEqual(DEFAULT_DEVICES);
  });

  it('appends config devices with defaults for mode and owner; u is a char device', () => {
    const merged = mergeDevices([
      { type: 'c', path: '/dev/fuse', major: 10, minor: 229 },
      { type: 'b', path: '/dev/sda', major: 8, minor: 0, fileMode: 0o660, uid: 1, gid: 6 },
      { type: 'u', path: '/dev/kmsg', major: 1, minor: 11 },
      { type: 'p', path: '/dev/myfifo' },
    ]);
    expect(merged.slice(0, 6)).toEqual(DEFAULT_DEVICES);
    expect(merged.slice(6)).toEqual([
      { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 },
      { path: '/dev/sda', type: 'b', major: 8, minor: 0, fileMode: 0o660, uid: 1, gid: 6 },
      { path: '/dev/kmsg', type: 'c', major: 1, minor: 11, fileMode: 0o666, uid: 0, gid: 0 },
      { path: '/dev/myfifo', type: 'p', major: 0, minor: 0, fileMode: 0o666, uid: 0, gid: 0 },
    ]);
  });

  it('lets a config device replace the default with the same (clean) path', () => {
    const merged = mergeDevices([
      { type: 'c', path: '/dev//null', major: 1, minor: 3, fileMode: 0o600, uid: 5 },
    ]);
    expect(merged.map((d) => d.path)).toEqual([
      '/dev/zero',
      '/dev/full',
      '/dev/random',
      '/dev/urandom',
      '/dev/tty',
      '/dev/null',
    ]);
    expect(merged[5]).toMatchObject({ fileMode: 0o600, uid: 5, gid: 0 });
  });

  const cases: [string, LinuxDevice, string][] = [
    [
      'relative path',
      { type: 'c', path: 'dev/x', major: 1, minor: 1 },
      'linux.devices[0].path: device path "dev/x" must be absolute',
    ],
    [
      '/dev itself',
      { type: 'c', path: '/dev/', major: 1, minor: 1 },
      'linux.devices[0].path: "/dev" cannot be a device node',
    ],
    [
      'unknown type',
      { type: 'x', path: '/dev/x', major: 1, minor: 1 },
      'linux.devices[0].type: unknown device type "x" (want c, b, u or p)',
    ],
    [
      'missing major',
      { type: 'c', path: '/dev/x', minor: 1 },
      'linux.devices[0]: major and minor are required for a device of type "c"',
    ],
    [
      'missing minor',
      { type: 'b', path: '/dev/x', major: 1 },
      'linux.devices[0]: major and minor are required for a device of type "b"',
    ],
    [
      'missing numbers for u',
      { type: 'u', path: '/dev/x' },
      'linux.devices[0]: major and minor are required for a device of type "u"',
    ],
    [
      'negative major',
      { type: 'c', path: '/dev/x', major: -1, minor: 1 },
      'linux.devices[0]: major and minor must be non-negative integers, got -1:1',
    ],
  ];
  it.each(cases)('rejects %s', (_name, device, message) => {
    const call = () => mergeDevices([device]);
    expect(call).toThrow(PlanError);
    expect(call).toThrow(message);
    expect(call).toThrow(expect.objectContaining({ code: 'DEVICE_INVALID' }));
  });
});

describe('deviceOps', () => {
  const nodes = mergeDevices([
    { type: 'b', path: '/dev/sda', major: 8, minor: 0, fileMode: 0o640, uid: 1, gid: 2 },
    { type: 'p', path: '/dev/fifo', fileMode: 0o600 },
  ]);

  it('makes nodes with the type bits, then the symlinks, /dev/ptmx last', () => {
    expect(S_IFCHR | 0o666).toBe(8630);
    expect(dumpPlan(deviceOps(nodes, { userns: false }))).toBe(
      [
        `MKNOD "/dev/null" ${S_IFCHR | 0o666} 1 3 0 0`,
        `MKNOD "/dev/zero" ${S_IFCHR | 0o666} 1 5 0 0`,
        `MKNOD "/dev/full" ${S_IFCHR | 0o666} 1 7 0 0`,
        `MKNOD "/dev/random" ${S_IFCHR | 0o666} 1 8 0 0`,
        `MKNOD "/dev/urandom" ${S_IFCHR | 0o666} 1 9 0 0`,
        `MKNOD "/dev/tty" ${S_IFCHR | 0o666} 5 0 0 0`,
        `MKNOD "/dev/sda" ${S_IFBLK | 0o640} 8 0 1 2`,
        `MKNOD "/dev/fifo" ${S_IFIFO | 0o600} 0 0 0 0`,
        'SYMLINK "/proc/self/fd" "/dev/fd"',
        'SYMLINK "/proc/self/fd/0" "/dev/stdin"',
        'SYMLINK "/proc/self/fd/1" "/dev/stdout"',
        'SYMLINK "/proc/self/fd/2" "/dev/stderr"',
        'SYMLINK "pts/ptmx" "/dev/ptmx"',
        '',
      ].join('\n'),
    );
  });

  it('bind-mounts the host nodes in a user namespace', () => {
    const ops = deviceOps(nodes, { userns: true });
    expect(ops.filter((o) => o.op === 'MKNOD')).toEqual([]);
    expect(ops.slice(0, 8).map((o) => o.args)).toEqual(nodes.map((node) => [node.path, node.path]));
    expect(ops.slice(0, 8).every((o) => o.op === 'BIND_DEVICE')).toBe(true);
    expect(ops).toHaveLength(13);
  });

  it('adds /dev/core when the host has /proc/kcore', () => {
    const ops = deviceOps([], { userns: false, hostHasKcore: true });
    expect(dumpPlan(ops)).toContain('SYMLINK "/proc/kcore" "/dev/core"\nSYMLINK "pts/ptmx"');
    expect(dumpPlan(deviceOps([], { userns: false }))).not.toContain('/dev/core');
  });
});
