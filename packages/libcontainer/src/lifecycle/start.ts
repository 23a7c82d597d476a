// `runc start`: the created init, blocked writing to exec.fifo, is let go
// to exec the container's process; then the poststart hooks.

import type { WaitingOptions } from '../container.js';
import { crashPoint } from '../crash-points.js';
import { ContainerError } from '../errors.js';
import { runHooksAsync } from '../hooks.js';
import { releaseInit } from '../process-control.js';
import { ociState } from '../status.js';
import type { LifecycleContext } from './context.js';

export async function startContainer(
  runtime: LifecycleContext,
  id: string,
  options: WaitingOptions,
): Promise<void> {
  const { store, host } = runtime;
  const stored = await store.withLockAsync(
    id,
    async () => {
      crashPoint('start:locked');
      const stored = store.read(id);
      const status = runtime.status(stored);
      if (status === 'stopped') {
        throw new ContainerError('BAD_STATUS', 'cannot start a container that has stopped');
      }
      if (status === 'running') {
        throw new ContainerError('BAD_STATUS', 'cannot start an already running container');
      }
      if (status !== 'created') {
        throw new ContainerError('BAD_STATUS', `cannot start a container in the ${status} state`);
      }
      await releaseInit(
        store.fifoPath(id),
        stored,
        {
          opened: () => crashPoint('start:fifo-opened'),
          read: () => crashPoint('start:byte-read'),
        },
        host,
      );
      crashPoint('start:released');
      runtime.options.debug?.(`start: released the init (pid ${stored.pid}) through exec.fifo`);
      return stored;
    },
    options,
  );
  try {
    await runHooksAsync('poststart', stored.config.hooks?.poststart, ociState(stored, 'running'));
  } catch (error) {
    // The spec: a poststart failure is logged, the container keeps running.
    runtime.report({ code: 'HOOK', message: (error as Error).message, cause: error });
  }
}
