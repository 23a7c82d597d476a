// `runc state` and `runc list`, and the status every other verb checks
// first: computed now from /proc, exec.fifo and the cgroup's freezer.

import type { State } from '@runc-ts/spec';
import type { ContainerState, ContainerStatus } from '../container.js';
import type { StoredState } from '../state-store.js';
import { type Host, isAlive } from './host.js';

/**
 * The runtime-spec version this runtime implements (state's ociVersion).
 * The same as @runc-ts/spec's OCI_VERSION (a unit test checks), kept here
 * so that `state` and `list` do not initialise the spec package, whose
 * index also holds the config validators.
 */
export const OCI_VERSION = '1.3.0';

/** The status of a stored container, computed now. */
export function containerStatus(
  host: Host,
  fifoPath: string,
  stored: StoredState,
): ContainerStatus {
  if (!isAlive(host, stored.pid, stored.pidStartTime)) return 'stopped';
  if (host.exists(fifoPath) && !initHasExeced(host, stored.pid)) return 'created';
  const cgroup = host.cgroup(stored.cgroup);
  return cgroup?.freezerState() === 'frozen' ? 'paused' : 'running';
}

/** `runc state`'s view of a stored container with its status. */
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
function initHasExeced(host: Host, pid: number): boolean {
  const exe = host.executable(pid);
  return exe !== undefined && !exe.includes('runc-ts-init');
}
