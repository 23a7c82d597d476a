// What the lifecycle verbs (start, kill, delete, pause, ...) need of the
// runtime: the state store, the host, the status of a stored container, the
// warning sink. The Runtime is one; `verbContext` makes one without the
// Runtime, for the CLI's small commands, loading the cgroup drivers only
// when the verb needs them: none for `start` and a plain `kill`, the one
// the container's state names for `delete`, `kill --all`, `pause`, `resume`.

import { type CgroupManager, type CgroupState, loadStoredManager } from '@runc-ts/cgroups';
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

/** What of the cgroup drivers a verb's host loads. */
export type CgroupDrivers =
  /** None: the verb never reaches a cgroup (start, kill without --all). */
  | 'none'
  /** The one a container's state names, when the verb reaches it (delete, kill --all, pause, resume). */
  | 'stored'
  /** Every driver, at once (as the Runtime's host: for verbs that take the manager synchronously). */
  | 'all';

/** The Host of a verb that never touches a cgroup: asking for one is a bug. */
const hostWithoutCgroups: Host = {
  ...nodeStatusHost,
  ...nodeHostParts,
  cgroup() {
    throw new Error('internal error: this command was started without the cgroup drivers');
  },
};

/** A Host that imports, on prepareCgroup(state), the driver `state` names, and no other. */
function hostWithStoredDriver(): Host {
  const managers = new Map<CgroupState, CgroupManager>();
  return {
    ...nodeStatusHost,
    ...nodeHostParts,
    async prepareCgroup(state) {
      if (state && !managers.has(state)) managers.set(state, await loadStoredManager(state));
    },
    cgroup(state) {
      if (!state) return undefined;
      const manager = managers.get(state);
      if (!manager) throw new Error('internal error: cgroup(state) before prepareCgroup(state)');
      return manager;
    },
  };
}

/** A LifecycleContext for `options`, loading the cgroup drivers `drivers` says. */
export async function verbContext(
  options: RuntimeOptions,
  drivers: CgroupDrivers,
): Promise<LifecycleContext> {
  const host =
    drivers === 'all'
      ? (await import('./node-host.js')).nodeHost
      : drivers === 'stored'
        ? hostWithStoredDriver()
        : hostWithoutCgroups;
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

export async function runVerb<T>(verb: () => Promise<T>): Promise<T> {
  try {
    return await verb();
  } catch (error) {
    throw toContainerError(error);
  }
}
