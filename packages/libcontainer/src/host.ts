import { existsSync, readFileSync, statfsSync, statSync } from 'node:fs';
import type { Process, Spec } from '@runc-ts/spec';
import { ContainerError } from './errors.js';

export interface HostCgroupLayout {
  v2: boolean;
  /** cgroup v1 hierarchies as mounted on the host: `cpu`, `cpu,cpuacct`, `name=systemd`. */
  v1Hierarchies: string[];
}

/** The host's cgroup mounts, read only when a config mounts cgroups. */
export function hostCgroupLayout(): HostCgroupLayout {
  if (isCgroup2UnifiedMode()) return { v2: true, v1Hierarchies: [] };
  const hierarchies: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [, after] = line.split(' - ');
    if (!after) continue;
    const [fstype, , superOptions] = after.split(' ');
    if (fstype !== 'cgroup' || !superOptions) continue;
    const names = superOptions
      .split(',')
      .filter((o) => o !== 'rw' && o !== 'ro' && !o.startsWith('release_agent='));
    const hierarchy = names.join(',');
    if (hierarchy && !hierarchies.includes(hierarchy)) hierarchies.push(hierarchy);
  }
  return { v2: false, v1Hierarchies: hierarchies };
}

export function isFile(path: string): boolean {
  try {
    return !statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The highest capability number the kernel knows (/proc/sys/kernel/cap_last_cap);
 * undefined when it cannot be read (then every name runc-ts knows is taken).
 */
export function hostCapLast(): number | undefined {
  try {
    const last = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
    return Number.isInteger(last) && last >= 0 ? last : undefined;
  } catch {
    return undefined;
  }
}

export function hostHasKcore(): boolean {
  return existsSync('/proc/kcore');
}

/** AppArmor is enabled on the host (the module says Y). */
export function apparmorEnabled(): boolean {
  try {
    return readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').trim() === 'Y';
  } catch {
    return false;
  }
}

/** SELinux is enabled on the host (selinuxfs is mounted). */
export function selinuxEnabled(): boolean {
  return existsSync('/sys/fs/selinux/enforce');
}

/** A label for a security module the host does not run cannot be honoured. */
export function checkSecurityModules(process: Process | undefined, where: string): void {
  if (process?.apparmorProfile && !apparmorEnabled()) {
    throw new ContainerError(
      'PLAN',
      `${where}.apparmorProfile: AppArmor is not enabled on this host, so profile ${JSON.stringify(process.apparmorProfile)} cannot be applied`,
    );
  }
  if (process?.selinuxLabel && !selinuxEnabled()) {
    throw new ContainerError(
      'PLAN',
      `${where}.selinuxLabel: SELinux is not enabled on this host, so label ${JSON.stringify(process.selinuxLabel)} cannot be applied`,
    );
  }
}

const CGROUP2_SUPER_MAGIC = 0x63677270;

/** True when /sys/fs/cgroup is a pure cgroup v2 (unified) hierarchy. */
export function isCgroup2UnifiedMode(mountpoint = '/sys/fs/cgroup'): boolean {
  try {
    return statfsSync(mountpoint).type === CGROUP2_SUPER_MAGIC;
  } catch {
    return false;
  }
}

/**
 * net.* sysctls are written in the network namespace the container ends up
 * in: when linux.namespaces joins this runtime's own one by path, they would
 * change the host's network settings. Refused as runc refuses them ("host"
 * being the runtime's current namespace, as in runc).
 */
export function checkHostNetworkSysctls(spec: Spec): void {
  const netKeys = Object.keys(spec.linux?.sysctl ?? {}).filter((key) => key.startsWith('net.'));
  const path = (spec.linux?.namespaces ?? []).find((ns) => ns.type === 'network')?.path;
  if (netKeys.length === 0 || !path) return;
  let joined: ReturnType<typeof statSync>;
  let own: ReturnType<typeof statSync>;
  try {
    joined = statSync(path);
    own = statSync('/proc/self/ns/net');
  } catch {
    return; // joining it fails, before any sysctl is written
  }
  if (joined.dev !== own.dev || joined.ino !== own.ino) return;
  throw new ContainerError(
    'PLAN',
    `sysctl ${JSON.stringify(netKeys.sort()[0])} not allowed in host network namespace (linux.namespaces joins ${path}, the runtime's own network namespace; linux.sysctl would change the host)`,
  );
}
