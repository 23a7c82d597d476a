// What the lifecycle verbs (start, kill, delete, pause, ...) need of the
// runtime: the state store, the host, the status of a stored container, the
// warning sink. The Runtime is one; `verbContext` makes one without the
// Runtime, for the CLI's small commands, loading the cgroup drivers only
// when the verb needs them (`start` and a plain `kill` never do).

import type {
  ContainerStatus,
  RuntimeOptions,
  RuntimeWarning,
  WaitingOptions,
} from '../container.js';
import { toContainerError } from '../errors.js';
import { StateStore, type StoredState } from '../state-store.js';
import { containerStatus } from '../status.js';
import { type Host, nodeHostParts, nodeStatusHost } from './host.js';

export interface LifecycleContext {
  readonly store: StateStore;
  readonly host: Host;
  readonly options: RuntimeOptions;
  status(stored: StoredState): ContainerStatus;
  report(warning: RuntimeWarning): void;
  executorPath(): Promise<string>;
}

export type { WaitingOptions };

/** The Host of a verb that never touches a cgroup: asking for one is a bug. */
const hostWithoutCgroups: Host = {
  ...nodeStatusHost,
  ...nodeHostParts,
  cgroup() {
    throw new Error('internal error: this command was started without the cgroup drivers');
  },
};

/**
 * A LifecycleContext for `options`; `cgroups` says whether the verb may
 * reach the container's cgroup (and so loads the drivers).
 */
export async function verbContext(
  options: RuntimeOptions,
  cgroups: boolean,
): Promise<LifecycleContext> {
  const host = cgroups ? (await import('./node-host.js')).nodeHost : hostWithoutCgroups;
  const store = new StateStore(options.root, options.lockTimeoutMs);
  return {
    store,
    host,
    options,
    status: (stored) => containerStatus(store, stored, host),
    report: (warning) => options.warn?.(warning.message, warning),
    async executorPath() {
      if (options.initPath) return options.initPath;
      const { defaultExecutorPath } = await import('../executor-path.js');
      return defaultExecutorPath();
    },
  };
}

/** Runs a verb, its failures as ContainerErrors (as the Runtime's methods do). */
export async function runVerb<T>(verb: () => Promise<T>): Promise<T> {
  try {
    return await verb();
  } catch (error) {
    throw toContainerError(error);
  }
}
