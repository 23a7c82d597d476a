// `runc events` as an async iterable: statistics on a timer and OOM kills as
// they happen, until the container stops or the caller aborts.

import type { CgroupStats } from '@runc-ts/cgroups';
import type { Runtime } from './container.js';
import { ContainerError } from './errors.js';
import { abortedError } from './proc.js';

export type ContainerEvent =
  | { type: 'stats'; id: string; data: CgroupStats }
  | { type: 'oom'; id: string };

export interface EventsOptions {
  /** Milliseconds between two stats events (runc's --interval; default 5000). */
  intervalMs?: number;
  /** Ends the iteration with ABORTED. */
  signal?: AbortSignal;
}

/** The event sequence behind Runtime.events (see there). */
export async function* containerEvents(
  runtime: Runtime,
  id: string,
  options: EventsOptions = {},
): AsyncIterableIterator<ContainerEvent> {
  const intervalMs = options.intervalMs ?? 5000;
  if (!(intervalMs > 0)) {
    throw new ContainerError('OPTION_INVALID', 'events: intervalMs must be greater than 0');
  }
  const first = runtime.stats(id); // a stopped container fails here, before anything waits
  const pending: ContainerEvent[] = [{ type: 'stats', id, data: first }];
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  let due = false;
  const timer = setInterval(() => {
    due = true;
    notify();
  }, intervalMs);
  const stopOom = runtime.watchOom(id, () => {
    pending.push({ type: 'oom', id });
    notify();
  });
  const signal = options.signal;
  signal?.addEventListener('abort', notify, { once: true });
  try {
    for (;;) {
      while (pending.length > 0) yield pending.shift() as ContainerEvent;
      if (signal?.aborted) throw abortedError(signal, `events: container ${id}`);
      if (due) {
        due = false;
        if (!runtime.isRunning(id)) return;
        pending.push({ type: 'stats', id, data: runtime.stats(id) });
        continue;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    clearInterval(timer);
    stopOom();
    signal?.removeEventListener('abort', notify);
  }
}
