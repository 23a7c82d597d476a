import { type Dirent, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** True when /sys/fs/cgroup is a cgroup2 mount (unified hierarchy). */
export function isUnified(): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((line) => / \/sys\/fs\/cgroup .* - cgroup2 /.test(line));
}

/**
 * The directory of `pid`'s cgroup for `controller` (v1), or of its unified
 * cgroup (v2; `controller` is then only checked to be enabled there).
 */
export function cgroupDirOf(pid: number, controller: string): string {
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
  if (isUnified()) {
    const path = lines.find((line) => line.startsWith('0::'))!.slice(3);
    return join('/sys/fs/cgroup', path);
  }
  for (const line of lines) {
    const [, controllers, path] = line.split(':');
    if (controllers!.split(',').includes(controller)) {
      const mount = readdirSync('/sys/fs/cgroup').find((entry) =>
        entry.split(',').includes(controller),
      );
      return join('/sys/fs/cgroup', mount ?? controller, path!);
    }
  }
  throw new Error(`process ${pid} has no ${controller} cgroup`);
}

/** Reads a cgroup file of `pid`'s container: v1 name or v2 name by layout. */
export function readCgroupFile(pid: number, controller: string, v1: string, v2: string): string {
  return readFileSync(join(cgroupDirOf(pid, controller), isUnified() ? v2 : v1), 'utf8').trim();
}

/** Every cgroup directory (any hierarchy, a few levels deep) whose name contains `needle`. */
export function cgroupDirsNamed(needle: string): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > 6) return;
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      const path = join(dir, entry.name);
      if (entry.name.includes(needle)) found.push(path);
      walk(path, depth + 1);
    }
  };
  if (existsSync('/sys/fs/cgroup')) walk('/sys/fs/cgroup', 0);
  return found;
}
