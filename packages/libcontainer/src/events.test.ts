import type { CgroupStats } from '@runc-ts/cgroups';
import { describe, expect, it } from 'vitest';
import type { Runtime } from './container.js';
import { ContainerError } from './errors.js';
import { type ContainerEvent, containerEvents } from './events.js';

/** A container whose stats count up, that runs for `runs` isRunning checks, with a trigger for OOM kills. */
function fakeContainer(runs: number) {
  let oom: (() => void) | undefined;
  let statsCalls = 0;
  let runningChecks = 0;
  let stopped = false;
  const runtime = {
    stats: () => {
      if (stopped) throw new ContainerError('BAD_STATUS', 'container not running');
      return { pids: { current: ++statsCalls } } as unknown as CgroupStats;
    },
    isRunning: () => ++runningChecks <= runs,
    watchOom: (_id: string, listener: () => void) => {
      oom = listener;
      return () => {
        oom = undefined;
      };
    },
  } as unknown as Runtime;
  return {
    runtime,
    oom: () => oom?.(),
    watching: () => oom !== undefined,
    stop: () => {
      stopped = true;
    },
  };
}

const summary = (event: ContainerEvent) =>
  event.type === 'oom'
    ? 'oom'
    : `stats ${(event.data as { pids: { current: number } }).pids.current}`;

describe('Runtime.events', () => {
  it('stats at once and every interval, OOM kills as they come; ends when the container stops', async () => {
    const container = fakeContainer(2);
    const seen: string[] = [];
    for await (const event of containerEvents(container.runtime, 'c', { intervalMs: 20 })) {
      seen.push(summary(event));
      if (seen.length === 1) container.oom();
    }
    expect(seen).toEqual(['stats 1', 'oom', 'stats 2', 'stats 3']);
    expect(container.watching()).toBe(false); // the OOM watch is gone with the iteration
  });

  it('a stopped container fails before anything waits', async () => {
    const container = fakeContainer(0);
    container.stop();
    const iterator = containerEvents(container.runtime, 'c');
    await expect(iterator.next()).rejects.toMatchObject({ code: 'BAD_STATUS' });
    expect(container.watching()).toBe(false);
  });

  it('an abort ends the iteration with ABORTED and stops watching', async () => {
    const container = fakeContainer(1000);
    const controller = new AbortController();
    const seen: string[] = [];
    const iterate = async () => {
      for await (const event of containerEvents(container.runtime, 'c', {
        intervalMs: 60_000,
        signal: controller.signal,
      })) {
        seen.push(summary(event));
        setTimeout(() => controller.abort(), 10);
      }
    };
    await expect(iterate()).rejects.toMatchObject({
      code: 'ABORTED',
      message: 'events: container c: aborted',
    });
    expect(seen).toEqual(['stats 1']);
    expect(container.watching()).toBe(false);
  });

  it('breaking out of the loop stops the timer and the OOM watch', async () => {
    const container = fakeContainer(1000);
    for await (const _ of containerEvents(container.runtime, 'c', { intervalMs: 5 })) break;
    expect(container.watching()).toBe(false);
  });

  it('refuses an interval that is not positive', async () => {
    const container = fakeContainer(1);
    await expect(
      containerEvents(container.runtime, 'c', { intervalMs: 0 }).next(),
    ).rejects.toMatchObject({ code: 'OPTION_INVALID' });
  });
});
