import { exampleSpec, type Spec } from '@runc-ts/spec';
import { describe, expect, it } from 'vitest';
import { dumpPlan, type PlanContext, PlanError, planCreate } from './index.js';
import { netDeviceReturnPlan } from './net-devices.js';

const ctx: PlanContext = {
  rootfs: '/bundle/rootfs',
  fifoPath: '/run/c1/exec.fifo',
  containerId: 'c1',
  noPivot: false,
  noNewKeyring: false,
  preserveFds: 0,
};
const spec = (devices: NonNullable<Spec['linux']>['netDevices'], edit = (_: Spec) => {}) => {
  const s = exampleSpec();
  s.process!.terminal = false;
  s.linux!.netDevices = devices;
  edit(s);
  return s;
};
const lines = (s: Spec, c: PlanContext = ctx) => dumpPlan(planCreate(s, c)).trimEnd().split('\n');
const planError = (call: () => unknown): PlanError => {
  try {
    call();
  } catch (error) {
    if (error instanceof PlanError) return error;
    throw error;
  }
  throw new Error('no PlanError');
};

describe('linux.netDevices', () => {
  it('moves each device right after the network namespace is made, renamed or not', () => {
    const ops = lines(spec({ veth0: { name: 'eth1' }, dummy1: {}, eth5: { name: '' } }));
    const unshare = ops.findIndex((line) => line.startsWith('UNSHARE'));
    expect(ops.slice(unshare + 1, unshare + 4)).toEqual([
      'NETDEV_MOVE "veth0" "eth1" 0',
      'NETDEV_MOVE "dummy1" "dummy1" 0',
      'NETDEV_MOVE "eth5" "eth5" 0',
    ]);
    // before FORK: the executor holds the runtime's namespace handles until then
    expect(ops.indexOf('FORK 0')).toBeGreaterThan(unshare + 3);
    expect(lines(spec(undefined)).some((line) => line.startsWith('NETDEV_MOVE'))).toBe(false);
  });

  it('moves into a network namespace joined by path too (after its SETNS)', () => {
    const ops = lines(
      spec({ veth0: {} }, (s) => {
        s.linux!.namespaces = s.linux!.namespaces!.map((n) =>
          n.type === 'network' ? { type: 'network', path: '/run/netns/x' } : n,
        );
      }),
    );
    expect(ops.indexOf('NETDEV_MOVE "veth0" "veth0" 0')).toBeGreaterThan(
      ops.indexOf('SETNS 1073741824 "/run/netns/x"'),
    );
  });

  it.each([
    [{ '': {} }, 'linux.netDevices.: invalid network device name "": is empty'],
    [
      { 'a/b': {} },
      'linux.netDevices.a/b: invalid network device name "a/b": contains "/", ":" or a blank',
    ],
    [
      { eth0: { name: 'x:1' } },
      'linux.netDevices.eth0.name: invalid network device name "x:1": contains "/", ":" or a blank',
    ],
    [
      { eth0: { name: 'a b' } },
      'linux.netDevices.eth0.name: invalid network device name "a b": contains "/", ":" or a blank',
    ],
    [
      { eth0: { name: '..' } },
      'linux.netDevices.eth0.name: invalid network device name "..": is not a usable name',
    ],
    [
      { abcdefghijklmnop: {} },
      'linux.netDevices.abcdefghijklmnop: invalid network device name "abcdefghijklmnop": is longer than 15 bytes',
    ],
    [
      { eth0: { name: 'x' }, eth1: { name: 'x' } },
      'linux.netDevices.eth1: the name "x" in the container is already the one of eth0',
    ],
    [
      { eth0: {}, eth1: { name: 'eth0' } },
      'linux.netDevices.eth1: the name "eth0" in the container is already the one of eth0',
    ],
  ])('refuses %j', (devices, message) => {
    const error = planError(() => planCreate(spec(devices), ctx));
    expect(error.code).toBe('NETDEV_INVALID');
    expect(error.message).toBe(message);
  });

  it('needs a network namespace of the container, and root', () => {
    const noNet = spec({ eth0: {} }, (s) => {
      s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'network');
    });
    expect(planError(() => planCreate(noNet, ctx)).message).toBe(
      'linux.netDevices: network devices can only be moved into a network namespace of the container (add {"type": "network"})',
    );
    expect(
      planError(() => planCreate(spec({ eth0: {} }), { ...ctx, rootless: true })).message,
    ).toBe(
      'linux.netDevices: moving network devices needs CAP_NET_ADMIN in the runtime network namespace (root)',
    );
  });

  it("delete's plan joins the init's network namespace and moves each device back", () => {
    const plan = netDeviceReturnPlan(spec({ veth0: { name: 'eth1' }, dummy1: {} }), 42);
    expect(dumpPlan(plan).trimEnd().split('\n')).toEqual([
      'SETNS 1073741824 "/proc/42/ns/net"',
      'NETDEV_MOVE "eth1" "veth0" 1',
      'NETDEV_MOVE "dummy1" "dummy1" 1',
      'READY',
    ]);
    expect(netDeviceReturnPlan(spec(undefined), 42)).toEqual([]);
  });
});
