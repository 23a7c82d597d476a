import type { Spec } from '@runc-ts/spec';
import { describe, expect, it } from 'vitest';
import { describePlan } from './describe.js';
import {
  MOUNT_ATTR_NOSUID,
  MOUNT_ATTR_RDONLY,
  MS_BIND,
  MS_NODEV,
  MS_REC,
} from './mount-options.js';
import { CLONE_NEWNET, CLONE_NEWPID } from './namespaces.js';
import { op } from './plan.js';
import { type PlanContext, planCreate } from './plan-create.js';

const ctx: PlanContext = {
  rootfs: '/bundle/rootfs',
  fifoPath: '/run/runc-ts/c1/exec.fifo',
  containerId: 'c1',
  noPivot: false,
  noNewKeyring: false,
  preserveFds: 0,
  bundle: '/bundle',
};

function spec(): Spec {
  return {
    ociVersion: '1.3.0',
    root: { path: 'rootfs', readonly: true },
    hostname: 'box',
    process: {
      cwd: '/work',
      args: ['/bin/sh', '-c', 'echo hi'],
      env: ['PATH=/bin', 'A=b c'],
      user: { uid: 1000, gid: 100, additionalGids: [10, 20], umask: 0o027 },
      capabilities: { bounding: ['CAP_KILL', 'CAP_CHOWN'], permitted: ['CAP_KILL'] },
      rlimits: [
        { type: 'RLIMIT_NOFILE', soft: 1024, hard: 4096 },
        { type: 'RLIMIT_CORE', soft: -1, hard: -1 } as never,
      ],
      noNewPrivileges: true,
      apparmorProfile: 'my-profile',
      oomScoreAdj: 100,
    },
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/data', type: 'bind', source: 'data', options: ['rbind', 'ro', 'rprivate'] },
      { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nodev', 'mode=1777'] },
    ],
    hooks: { createContainer: [{ path: '/bin/hook', args: ['hook', 'x'], timeout: 5 }] },
    linux: {
      namespaces: [
        { type: 'pid' },
        { type: 'network', path: '/proc/7/ns/net' },
        { type: 'mount' },
        { type: 'uts' },
      ],
      sysctl: { 'net.ipv4.ip_forward': '1' },
      devices: [
        { path: '/dev/sda', type: 'b', major: 8, minor: 0, fileMode: 0o640, uid: 0, gid: 6 },
      ],
      maskedPaths: ['/proc/kcore'],
      readonlyPaths: ['/proc/sys'],
      rootfsPropagation: 'rslave',
    },
  };
}

describe('describePlan', () => {
  const described = describePlan(planCreate(spec(), ctx));

  it('names the namespaces it makes and the ones it joins, with their path', () => {
    expect(described.namespaces).toEqual([
      { type: 'network', action: 'join', path: '/proc/7/ns/net' },
      { type: 'mount', action: 'new' },
      { type: 'uts', action: 'new' },
      { type: 'pid', action: 'new' },
    ]);
  });

  it('shows a container without a mount namespace of its own entering its root by chroot', () => {
    const config = spec();
    config.linux = {
      ...config.linux,
      namespaces: [{ type: 'pid' }, { type: 'uts' }],
      maskedPaths: [],
      readonlyPaths: [],
      sysctl: {},
    };
    delete config.linux.rootfsPropagation;
    const plain = describePlan(planCreate(config, ctx));
    expect(plain.namespaces.map((ns) => ns.type)).not.toContain('mount');
    expect(plain.rootChange).toBe('chroot');
  });

  it('lists the mounts in order with named flags, remounts and propagation', () => {
    expect(described.rootfs).toEqual({
      path: '/bundle/rootfs',
      propagation: ['REC', 'SLAVE'],
      readonly: true,
    });
    expect(described.rootChange).toBe('pivot_root');
    expect(described.mounts).toEqual([
      {
        kind: 'mount',
        source: 'proc',
        destination: '/proc',
        type: 'proc',
        flags: [],
        data: '',
        propagation: [],
      },
      {
        kind: 'bind',
        source: '/bundle/data',
        destination: '/data',
        type: '',
        flags: ['BIND', 'REC'],
        data: '',
        remount: { set: ['RDONLY'], clear: [] },
        propagation: ['REC', 'PRIVATE'],
      },
      {
        kind: 'mount',
        source: 'tmpfs',
        destination: '/tmp',
        type: 'tmpfs',
        flags: ['NODEV'],
        data: 'mode=1777',
        propagation: [],
      },
    ]);
  });

  it('lists device nodes, masked and read-only paths, sysctls and the hostname', () => {
    expect(described.devices).toContainEqual({
      kind: 'node',
      path: '/dev/sda',
      type: 'b',
      major: 8,
      minor: 0,
      mode: '0640',
      uid: 0,
      gid: 6,
    });
    expect(described.symlinks).toContainEqual({ path: '/dev/fd', target: '/proc/self/fd' });
    expect(described.maskedPaths).toEqual(['/proc/kcore']);
    expect(described.readonlyPaths).toEqual(['/proc/sys']);
    expect(described.sysctl).toEqual({ 'net.ipv4.ip_forward': '1' });
    expect(described.hostname).toBe('box');
  });

  it('gives the process as it will run: ids, capabilities by name, limits, labels', () => {
    expect(described.process).toEqual({
      args: ['/bin/sh', '-c', 'echo hi'],
      env: ['PATH=/bin', 'A=b c'],
      cwd: '/work',
      user: { uid: 1000, gid: 100, additionalGids: [10, 20] },
      capabilities: {
        bounding: ['CAP_CHOWN', 'CAP_KILL'],
        effective: [],
        permitted: ['CAP_KILL'],
        inheritable: [],
        ambient: [],
      },
      rlimits: [
        { type: 'RLIMIT_NOFILE', soft: 1024, hard: 4096 },
        { type: 'RLIMIT_CORE', soft: 'unlimited', hard: 'unlimited' },
      ],
      noNewPrivileges: true,
      apparmorProfile: 'my-profile',
      umask: '0027',
      oomScoreAdj: 100,
      terminal: false,
    });
  });

  it('lists the hooks the executor runs', () => {
    expect(described.hooks).toEqual([
      { kind: 'createContainer', path: '/bin/hook', args: ['hook', 'x'], env: [], timeout: 5 },
    ]);
  });

  it('keeps every op, bytes abbreviated', () => {
    expect(described.ops[0]).toBe('OPEN_FIFO "/run/runc-ts/c1/exec.fifo"');
    expect(described.ops.at(-1)).toBe('EXEC ["/bin/sh","-c","echo hi"] ["PATH=/bin","A=b c"]');
    expect(describePlan([op('SECCOMP', new Uint8Array(16), 0)]).ops).toEqual([
      'SECCOMP <16 bytes> 0',
    ]);
  });

  it('reads id-mapped binds, tmpfs copy-up, recursive attributes, consoles and filters', () => {
    const described = describePlan([
      op('SETNS_PID', 42, CLONE_NEWNET | CLONE_NEWPID, ''),
      op('MOUNT_IDMAPPED', '/srv', '/srv', MS_BIND | MS_REC, '0 1000 1', '0 1000 1', '', 1),
      op('SETATTR', '/srv', MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, 0, 1),
      op('MOUNT_TMPFS', 'tmpfs', '/run', MS_NODEV, 'size=1m', 1),
      op('MOUNT_CONSOLE'),
      op('BIND_DEVICE', '/dev/fuse', '/dev/fuse'),
      op('CONSOLE', '/tmp/console.sock'),
      op('SECCOMP_NOTIFY', new Uint8Array(80), 8, '/run/agent.sock'),
    ]);
    expect(described.namespaces).toEqual([
      { type: 'pid', action: 'join', path: 'pidfd of 42' },
      { type: 'network', action: 'join', path: 'pidfd of 42' },
    ]);
    expect(described.mounts).toEqual([
      {
        kind: 'idmapped-bind',
        source: '/srv',
        destination: '/srv',
        type: '',
        flags: ['BIND', 'REC'],
        data: '',
        propagation: [],
        idmap: { uidMappings: '0 1000 1', gidMappings: '0 1000 1', userns: '' },
        recursive: { set: ['RDONLY', 'NOSUID'], clear: [] },
      },
      {
        kind: 'tmpfs',
        source: 'tmpfs',
        destination: '/run',
        type: 'tmpfs',
        flags: ['NODEV'],
        data: 'size=1m',
        propagation: [],
        copyUp: true,
      },
    ]);
    expect(described.devices).toEqual([
      { kind: 'console', path: '/dev/console' },
      { kind: 'bind', path: '/dev/fuse', source: '/dev/fuse' },
    ]);
    expect(described.process.terminal).toBe(true);
    expect(described.seccomp).toEqual({ instructions: 10, flags: 8, listener: '/run/agent.sock' });
  });
});
