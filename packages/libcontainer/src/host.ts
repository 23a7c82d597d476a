import { existsSync, readFileSync, statSync } from 'node:fs';
import { isCgroup2UnifiedMode } from './spec-file.js';

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
