// linux.netDevices: host interfaces moved into the container's network
// namespace (and renamed) by the executor over rtnetlink (NETDEV_MOVE).

import type { Spec } from '@runc-ts/spec';
import { PlanError } from './errors.js';
import type { NamespacePlan } from './namespaces.js';
import { type Op, op } from './plan.js';

/** The kernel's dev_valid_name(): 1..15 bytes, not `.`/`..`, no `/`, `:` or blank. */
function checkName(name: string, path: string): void {
  const why =
    name === ''
      ? 'is empty'
      : Buffer.byteLength(name) > 15
        ? 'is longer than 15 bytes'
        : name === '.' || name === '..'
          ? 'is not a usable name'
          : /[/:\s]/.test(name)
            ? 'contains "/", ":" or a blank'
            : undefined;
  if (why) {
    throw new PlanError(
      'NETDEV_INVALID',
      path,
      `invalid network device name ${JSON.stringify(name)}: ${why}`,
    );
  }
}

/** One entry of linux.netDevices: host name -> name in the container. */
export interface NetDeviceMove {
  hostName: string;
  containerName: string;
}

/** linux.netDevices checked: names valid and unique in the container. */
export function netDeviceMoves(spec: Spec): NetDeviceMove[] {
  const devices = spec.linux?.netDevices;
  if (devices === undefined) return [];
  const seen = new Map<string, string>();
  return Object.entries(devices).map(([hostName, device]) => {
    const path = `linux.netDevices.${hostName}`;
    checkName(hostName, path);
    const containerName = device?.name || hostName;
    if (device?.name !== undefined && device.name !== '') checkName(device.name, `${path}.name`);
    const other = seen.get(containerName);
    if (other !== undefined) {
      throw new PlanError(
        'NETDEV_INVALID',
        path,
        `the name ${JSON.stringify(containerName)} in the container is already the one of ${other}`,
      );
    }
    seen.set(containerName, hostName);
    return { hostName, containerName };
  });
}

/**
 * NETDEV_MOVE ops of `runc create`: right after the container's network
 * namespace is created or joined, while the executor still holds the
 * runtime's namespace handles (taken before any SETNS/UNSHARE).
 */
export function netDeviceOps(spec: Spec, ns: NamespacePlan, rootless: boolean): Op[] {
  const moves = netDeviceMoves(spec);
  if (moves.length === 0) return [];
  if (!ns.has('network')) {
    throw new PlanError(
      'NETDEV_INVALID',
      'linux.netDevices',
      'network devices can only be moved into a network namespace of the container (add {"type": "network"})',
    );
  }
  if (rootless) {
    throw new PlanError(
      'NETDEV_INVALID',
      'linux.netDevices',
      'moving network devices needs CAP_NET_ADMIN in the runtime network namespace (root)',
    );
  }
  return moves.map((move) => op('NETDEV_MOVE', move.hostName, move.containerName, 0));
}

/**
 * The plan `delete` runs while the init is alive: join its network
 * namespace and move each device back under its host name (a veth pair
 * dies with the namespace otherwise; a physical device would come back
 * under the container's name).
 */
export function netDeviceReturnPlan(spec: Spec, initPid: number): Op[] {
  const moves = netDeviceMoves(spec);
  if (moves.length === 0) return [];
  return [
    op('SETNS', 0x40000000, `/proc/${initPid}/ns/net`),
    ...moves.map((move) => op('NETDEV_MOVE', move.containerName, move.hostName, 1)),
    op('READY'),
  ];
}
