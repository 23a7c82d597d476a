// `runc kill`: the init, or with --all every process of the container.

import { ContainerError } from '../errors.js';
import { validateContainerId } from '../id.js';
import { signalAll, signalProcess } from '../process-control.js';
import type { LifecycleContext } from './context.js';

/**
 * With `all`, every process of the container gets the signal: found through
 * its cgroup (frozen meanwhile, so none can fork away), or through its own
 * pid namespace when it has no cgroup.
 */
export async function killContainer(
  runtime: LifecycleContext,
  id: string,
  signal: number,
  options: { all?: boolean },
): Promise<void> {
  validateContainerId(id);
  const stored = runtime.store.read(id);
  const status = runtime.status(stored);
  if (options.all) {
    await signalAll(stored, signal, status, runtime.host);
    return;
  }
  if (status === 'stopped') throw new ContainerError('BAD_STATUS', 'container not running');
  signalProcess(stored.pid, signal, runtime.host);
}
