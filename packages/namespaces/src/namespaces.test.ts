import type { Spec } from '@runc-ts/spec';
import { describe, expect, it } from 'vitest';
import { PlanError } from './errors.js';
import {
  CLONE_NEWCGROUP,
  CLONE_NEWIPC,
  CLONE_NEWNET,
  CLONE_NEWNS,
  CLONE_NEWPID,
  CLONE_NEWTIME,
  CLONE_NEWUSER,
  CLONE_NEWUTS,
  NAMESPACE_FLAGS,
  planNamespaces,
} from './namespaces.js';

type Linux = NonNullable<Spec['linux']>;
const spec = (linux: Linux): Spec => ({ ociVersion: '1.3.0', root: { path: 'rootfs' }, linux });
const maps = {
  uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }],
  gidMappings: [{ containerID: 0, hostID: 1000, size: 1 }],
};

describe('namespace flags', () => {
  it.each([
    ['mount', CLONE_NEWNS, 0x20000],
    ['uts', CLONE_NEWUTS, 0x04000000],
    ['ipc', CLONE_NEWIPC, 0x08000000],
    ['user', CLONE_NEWUSER, 0x10000000],
    ['pid', CLONE_NEWPID, 0x20000000],
    ['network', CLONE_NEWNET, 0x40000000],
    ['cgroup', CLONE_NEWCGROUP, 0x02000000],
    ['time', CLONE_NEWTIME, 0x80],
  ] as const)('%s is %i', (type, constant, value) => {
    expect(constant).toBe(value);
    expect(NAMESPACE_FLAGS[type]).toBe(value);
    const plan = planNamespaces(spec({ namespaces: [{ type }], ...(type === 'user' ? maps : {}) }));
    expect(plan.createFlags).toBe(value);
    expect(plan.created).toEqual([type]);
    expect(plan.creates(type)).toBe(true);
    expect(plan.has(type)).toBe(true);
  });

  it('has all eight types', () => {
    expect(Object.keys(NAMESPACE_FLAGS).sort()).toEqual(
      ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts'].sort(),
    );
  });
});

describe('planNamespaces', () => {
  it('handles no linux section and no namespaces', () => {
    const plan = planNamespaces({ ociVersion: '1.3.0', root: { path: 'r' } });
    expect(plan).toMatchObject({ created: [], joined: [], createFlags: 0 });
    expect(plan.has('mount')).toBe(false);
    expect(plan.creates('mount')).toBe(false);
  });

  it('ORs created namespaces and keeps config order', () => {
    const plan = planNamespaces(
      spec({
        namespaces: [
          { type: 'pid' },
          { type: 'network' },
          { type: 'ipc' },
          { type: 'uts' },
          { type: 'mount' },
        ],
      }),
    );
    expect(plan.created).toEqual(['pid', 'network', 'ipc', 'uts', 'mount']);
    expect(plan.createFlags).toBe(
      CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS,
    );
    expect(plan.joined).toEqual([]);
  });

  it('joins namespaces with a path: user first, mount last, others in config order', () => {
    const plan = planNamespaces(
      spec({
        namespaces: [
          { type: 'mount', path: '/proc/9/ns/mnt' },
          { type: 'network', path: '/var/run/netns/a' },
          { type: 'pid' },
          { type: 'ipc', path: '/proc/9/ns/ipc' },
          { type: 'user', path: '/proc/9/ns/user' },
        ],
      }),
    );
    expect(plan.joined).toEqual([
      { type: 'user', flag: CLONE_NEWUSER, path: '/proc/9/ns/user' },
      { type: 'network', flag: CLONE_NEWNET, path: '/var/run/netns/a' },
      { type: 'ipc', flag: CLONE_NEWIPC, path: '/proc/9/ns/ipc' },
      { type: 'mount', flag: CLONE_NEWNS, path: '/proc/9/ns/mnt' },
    ]);
    expect(plan.created).toEqual(['pid']);
    expect(plan.createFlags).toBe(CLONE_NEWPID);
    expect(plan.has('network')).toBe(true);
    expect(plan.creates('network')).toBe(false);
    expect(plan.has('uts')).toBe(false);
  });

  it('accepts a new user namespace with both mappings', () => {
    expect(planNamespaces(spec({ namespaces: [{ type: 'user' }], ...maps })).created).toEqual([
      'user',
    ]);
  });

  it('accepts time offsets with a new time namespace', () => {
    expect(() =>
      planNamespaces(
        spec({ namespaces: [{ type: 'time' }], timeOffsets: { monotonic: { secs: 1 } } }),
      ),
    ).not.toThrow();
  });

  const cases: [string, Linux, string][] = [
    [
      'duplicate',
      { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'pid', path: '/proc/1/ns/pid' }] },
      'linux.namespaces[2]: duplicate namespace type "pid" (first at linux.namespaces[0])',
    ],
    [
      'unknown type',
      { namespaces: [{ type: 'mount' }, { type: 'bogus' as 'pid' }] },
      'linux.namespaces[1].type: unknown namespace type "bogus"',
    ],
    [
      'prototype name as type',
      { namespaces: [{ type: 'toString' as 'pid' }] },
      'linux.namespaces[0].type: unknown namespace type "toString"',
    ],
    [
      'empty path',
      { namespaces: [{ type: 'network', path: '' }] },
      'linux.namespaces[0].path: namespace path "" must be an absolute path',
    ],
    [
      'relative path',
      { namespaces: [{ type: 'network', path: 'netns/a' }] },
      'linux.namespaces[0].path: namespace path "netns/a" must be an absolute path',
    ],
    [
      'uid mappings without a user namespace',
      { namespaces: [{ type: 'mount' }], uidMappings: maps.uidMappings },
      'linux.uidMappings: user namespace mappings are given but no user namespace is in linux.namespaces',
    ],
    [
      'gid mappings without a user namespace',
      { namespaces: [{ type: 'mount' }], gidMappings: maps.gidMappings },
      'linux.gidMappings: user namespace mappings are given but no user namespace is in linux.namespaces',
    ],
    [
      'new user namespace without mappings',
      { namespaces: [{ type: 'mount' }, { type: 'user' }] },
      'linux.uidMappings: a new user namespace (linux.namespaces[1]) needs both linux.uidMappings and linux.gidMappings',
    ],
    [
      'new user namespace without gid mappings',
      { namespaces: [{ type: 'user' }], uidMappings: maps.uidMappings },
      'linux.gidMappings: a new user namespace (linux.namespaces[0]) needs both',
    ],
    [
      'new user namespace with empty uid mappings',
      { namespaces: [{ type: 'user' }], uidMappings: [], gidMappings: maps.gidMappings },
      'linux.uidMappings: a new user namespace',
    ],
    [
      'time offsets without a time namespace',
      { namespaces: [{ type: 'mount' }], timeOffsets: { boottime: { secs: 5 } } },
      'linux.timeOffsets: time offsets are given but no new time namespace is in linux.namespaces',
    ],
    [
      'time offsets with a joined time namespace',
      {
        namespaces: [{ type: 'time', path: '/proc/1/ns/time' }],
        timeOffsets: { boottime: { secs: 5 } },
      },
      'linux.timeOffsets: time offsets are given but no new time namespace',
    ],
  ];
  it.each(cases)('rejects %s', (_name, linux, message) => {
    const call = () => planNamespaces(spec(linux));
    expect(call).toThrow(PlanError);
    expect(call).toThrow(message);
    expect(call).toThrow(expect.objectContaining({ code: 'NAMESPACE_INVALID' }));
  });
});
