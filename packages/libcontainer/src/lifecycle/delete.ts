// `runc delete`: what is left of a container (processes, cgroup, resctrl
// group, net devices, state) removed, then its poststop hooks. Also what a
// killed `create` left, which a new create of the same id removes first.

import { constants as osConstants } from 'node:os';
import type { ContainerStatus, WaitingOptions } from '../container.js';
import { crashPoint } from '../crash-points.js';
import { ContainerError } from '../errors.js';
import { runHooksAsync } from '../hooks.js';
import { validateContainerId } from '../id.js';
import { killAndDestroy, killAndReap, signalAll } from '../process-control.js';
import type { StoredState } from '../state-store.js';
import { ociState } from '../status.js';
import type { LifecycleContext } from './context.js';

export async function deleteContainer(
  runtime: LifecycleContext,
  id: string,
  options: { force?: boolean } & WaitingOptions,
): Promise<void> {
  validateContainerId(id);
  const { store } = runtime;
  await store.withLockAsync(
    id,
    async () => {
      crashPoint('delete:locked');
      // What a killed create left is removed; the container does not exist.
      store.removeDebris(id);
      // Like runc: forcing the deletion of a container that does not exist is not an error.
      if (options.force && !store.exists(id)) return;
      let stored: StoredState;
      try {
        stored = store.read(id, { creating: true });
      } catch (error) {
        if (!options.force || (error as ContainerError).code !== 'STATE_CORRUPT') throw error;
        // Nothing in it can be trusted to name a process or a cgroup.
        store.removeContainerDir(id);
        runtime.report({
          code: 'STATE_CORRUPT',
          message: `${(error as Error).message}: removed; its processes and cgroup, if any, are not known`,
          cause: error,
        });
        return;
      }
      const status = runtime.status(stored);
      if (status !== 'stopped' && status !== 'created' && !options.force) {
        throw new ContainerError(
          'BAD_STATUS',
          `cannot delete container ${id} that is not stopped: ${status}`,
        );
      }
      await removeContainer(runtime, stored, status);
    },
    options,
  );
}

/**
 * Kills what is left of a container, removes its cgroup and state, runs its
 * poststop hooks. The caller holds the lock.
 */
export async function removeContainer(
  runtime: LifecycleContext,
  stored: StoredState,
  status: ContainerStatus,
): Promise<void> {
  const { host } = runtime;
  if (status !== 'stopped') {
    await returnNetDevices(runtime, stored);
    // A created container is killed without --force, as runc does.
    try {
      await signalAll(stored, osConstants.signals.SIGKILL, status, host);
    } catch {
      // No cgroup and a shared pid namespace: the init alone, below.
    }
    await killAndReap(stored.pid, stored.pidStartTime, host);
  }
  crashPoint('delete:killed');
  await host.prepareCgroup?.(stored.cgroup);
  const cgroup = host.cgroup(stored.cgroup);
  if (cgroup) await killAndDestroy(cgroup, host);
  crashPoint('delete:cgroup-destroyed');
  if (stored.config.linux?.intelRdt) {
    const { destroyIntelRdt, storedIntelRdtGroup } = await import('../intelrdt.js');
    const rdt = storedIntelRdtGroup(stored.config, stored.id);
    if (rdt) destroyIntelRdt(rdt);
  }
  runtime.store.removeContainerDir(stored.id);
  crashPoint('delete:dir-removed');
  try {
    await runHooksAsync('poststop', stored.config.hooks?.poststop, ociState(stored, 'stopped'));
  } catch (error) {
    runtime.report({ code: 'HOOK', message: (error as Error).message, cause: error });
  }
}

/** linux.netDevices back to the runtime's namespace; a failure is a warning (delete goes on). */
async function returnNetDevices(runtime: LifecycleContext, stored: StoredState): Promise<void> {
  if (stored.config.linux?.netDevices === undefined) return;
  const { hasNetDevicesToReturn, returnNetDevices } = await import('../net-devices.js');
  if (!hasNetDevicesToReturn(stored.config)) return;
  try {
    await returnNetDevices(await runtime.executorPath(), stored.config, stored.pid);
  } catch (error) {
    runtime.report({
      code: 'CLEANUP',
      message: `linux.netDevices: ${(error as Error).message}`,
      cause: error,
    });
  }
}
