// A container's status and OCI state, computed from its state file, its
// init's /proc entry and its freezer: all that `state` and `list` do. Kept
// apart from the Runtime so that those commands load neither the cgroup
// drivers nor the process-control and hook code of the other verbs. What it
// reads of the host comes through a StatusHost (lifecycle/host.ts), so that
// the lifecycle's unit tests can script it.

import type { State } from '@runc-ts/spec';
import type { ContainerState, ContainerStatus } from './container.js';
import { validateContainerId } from './id.js';
import { isAlive, nodeStatusHost, type StatusHost } from './lifecycle/host.js';
import type { StateStore, StoredState } from './state-store.js';

/**
 * The runtime-spec version this runtime implements (state's ociVersion).
 * The same as @runc-ts/spec's OCI_VERSION (a unit test checks), kept here
 * so that `state` and `list` do not initialise the spec package, whose
 * index also holds the config validators.
 */
export const OCI_VERSION = '1.3.0';

/** The status of a stored container, computed now. */
export function containerStatus(
  store: StateStore,
  stored: StoredState,
  host: StatusHost = nodeStatusHost,
): ContainerStatus {
  if (!isAlive(host, stored.pid, stored.pidStartTime)) return 'stopped';
  if (host.exists(store.fifoPath(stored.id)) && !initHasExeced(host, stored.pid)) {
    return 'created';
  }
  return stored.cgroup && host.freezerState(stored.cgroup) === 'frozen' ? 'paused' : 'running';
}

/** `runc state` of a stored container: its OCI state, the status computed now. */
export function containerStateOf(
  store: StateStore,
  stored: StoredState,
  host: StatusHost = nodeStatusHost,
): ContainerState {
  return containerView(stored, containerStatus(store, stored, host));
}

/** The OCI state of a stored container whose status is known. */
export function containerView(stored: StoredState, status: ContainerStatus): ContainerState {
  const state: ContainerState = {
    ociVersion: OCI_VERSION,
    id: stored.id,
    pid: status === 'stopped' ? 0 : stored.pid,
    status,
    bundle: stored.bundle,
    rootfs: stored.rootfs,
    created: stored.created,
    owner: '',
  };
  if (stored.config.annotations && Object.keys(stored.config.annotations).length > 0) {
    state.annotations = stored.config.annotations;
  }
  return state;
}

/** `runc state ID`. */
export function readContainerState(
  store: StateStore,
  id: string,
  host: StatusHost = nodeStatusHost,
): ContainerState {
  validateContainerId(id);
  return containerStateOf(store, store.read(id), host);
}

/** `runc list`: every container under the store's root, by id. */
export function listContainerStates(
  store: StateStore,
  host: StatusHost = nodeStatusHost,
): ContainerState[] {
  return store.list().flatMap((id) => {
    try {
      return [containerStateOf(store, store.read(id), host)];
    } catch {
      return []; // being created or deleted right now
    }
  });
}

/** The OCI state hooks and seccomp agents get. */
export function ociState(stored: StoredState, status: State['status']): State {
  const state: State = {
    ociVersion: OCI_VERSION,
    id: stored.id,
    status,
    pid: stored.pid,
    bundle: stored.bundle,
  };
  if (stored.config.annotations) state.annotations = stored.config.annotations;
  return state;
}

/**
 * Whether the init already runs the container's process: its executable is
 * no longer runc-ts-init. A `start` killed after releasing the init but
 * before removing exec.fifo leaves the fifo behind; the container is running
 * all the same (and a second `start` must say so, not wait for a byte that
 * never comes). Unknown (not readable) counts as not yet.
 */
function initHasExeced(host: StatusHost, pid: number): boolean {
  const exe = host.executable(pid);
  return exe !== undefined && !exe.includes('runc-ts-init');
}
