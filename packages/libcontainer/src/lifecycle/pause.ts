// `runc pause`, `resume`, `update`, `events --stats` and `ps`: the verbs
// that work on a container's cgroup.

import type { CgroupManager, CgroupStats } from '@runc-ts/cgroups';
import type { LinuxResources } from '@runc-ts/spec';
import type { WaitingOptions } from '../container.js';
import { ContainerError } from '../errors.js';
import { validateContainerId } from '../id.js';
import { ownsPidNamespace, processesInPidNamespaceOf } from '../process-control.js';
import type { StoredState } from '../state-store.js';
import type { LifecycleContext } from './context.js';

/** The stored container and its cgroup; CGROUP when it was made without one. */
export function withCgroup(
  runtime: LifecycleContext,
  id: string,
  command: string,
): { stored: StoredState; cgroup: CgroupManager } {
  validateContainerId(id);
  const stored = runtime.store.read(id);
  return { stored, cgroup: cgroupOf(runtime, stored, command) };
}

/** withCgroup for a host that loads the stored driver on demand (Host.prepareCgroup). */
async function withPreparedCgroup(
  runtime: LifecycleContext,
  id: string,
  command: string,
): Promise<{ stored: StoredState; cgroup: CgroupManager }> {
  validateContainerId(id);
  const stored = runtime.store.read(id);
  await runtime.host.prepareCgroup?.(stored.cgroup);
  return { stored, cgroup: cgroupOf(runtime, stored, command) };
}

function cgroupOf(runtime: LifecycleContext, stored: StoredState, command: string): CgroupManager {
  const cgroup = runtime.host.cgroup(stored.cgroup);
  if (!cgroup) {
    throw new ContainerError(
      'CGROUP',
      `${command}: container ${stored.id} has no cgroup (it was created without one)`,
    );
  }
  return cgroup;
}

export async function pauseContainer(runtime: LifecycleContext, id: string): Promise<void> {
  const { stored, cgroup } = await withPreparedCgroup(runtime, id, 'pause');
  if (runtime.status(stored) !== 'running') {
    throw new ContainerError('BAD_STATUS', 'container not running');
  }
  await cgroup.freeze();
}

export async function resumeContainer(runtime: LifecycleContext, id: string): Promise<void> {
  const { stored, cgroup } = await withPreparedCgroup(runtime, id, 'resume');
  if (runtime.status(stored) !== 'paused') {
    throw new ContainerError('BAD_STATUS', 'container not paused');
  }
  await cgroup.thaw();
}

/** Lays `changes` over the container's resources, writes them to its cgroup, keeps them. */
export async function updateContainer(
  runtime: LifecycleContext,
  id: string,
  changes: LinuxResources,
  options: WaitingOptions,
): Promise<LinuxResources> {
  return runtime.store.withLockAsync(
    id,
    async () => {
      const { stored, cgroup } = withCgroup(runtime, id, 'update');
      if (runtime.status(stored) === 'stopped') {
        throw new ContainerError('BAD_STATUS', 'container not running');
      }
      const linux = stored.config.linux ?? {};
      // cgroup.ts holds every driver: imported by update only, not pause/resume.
      const { effectiveResources, mergeResources } = await import('../cgroup.js');
      const resources = mergeResources(linux.resources ?? {}, changes);
      const config = { ...stored.config, linux: { ...linux, resources } };
      await cgroup.set(effectiveResources(config));
      runtime.store.write({ ...stored, config });
      return resources;
    },
    options,
  );
}

export function containerStats(runtime: LifecycleContext, id: string): CgroupStats {
  const { stored, cgroup } = withCgroup(runtime, id, 'events');
  if (runtime.status(stored) === 'stopped') {
    throw new ContainerError('BAD_STATUS', 'container not running');
  }
  return cgroup.stats();
}

/** Host pids of every process in the container's cgroup. */
export function containerPids(runtime: LifecycleContext, id: string): number[] {
  const { stored, cgroup } = withCgroup(runtime, id, 'ps');
  if (runtime.status(stored) === 'stopped') return [];
  if (stored.cgroup?.rootless && !cgroup.exists()) {
    // Rootless without a delegated cgroup: the container's own pid
    // namespace still tells its processes apart.
    if (!ownsPidNamespace(stored)) {
      throw new ContainerError(
        'CGROUP',
        `ps: container ${id} has no cgroup of its own (rootless, and no cgroup was delegated to this user) and shares a pid namespace, so its processes cannot be told apart`,
      );
    }
    return processesInPidNamespaceOf(stored.pid, runtime.host);
  }
  return cgroup.pids();
}
