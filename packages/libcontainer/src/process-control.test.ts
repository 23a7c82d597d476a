import { describe, expect, it } from 'vitest';
import { awaitInitByte, fifoPollDelays } from './process-control.js';

/** A scripted exec.fifo: each read returns the next answer. */
function script(reads: boolean[], alive: boolean[]) {
  const calls = { reads: 0, alive: 0, sleeps: 0 };
  return {
    calls,
    readByte: () => reads[calls.reads++] ?? false,
    initAlive: () => alive[calls.alive++] ?? false,
    sleep: () => {
      calls.sleeps++;
    },
  };
}

describe('awaitInitByte (runc start)', () => {
  it('returns once the byte is read, polling while the init lives', async () => {
    const fifo = script([false, false, true], [true, true]);
    await awaitInitByte(fifo.readByte, fifo.initAlive, fifo.sleep);
    expect(fifo.calls).toEqual({ reads: 3, alive: 2, sleeps: 2 });
  });

  it('takes the byte an init wrote just before it exited (it ran: not "stopped")', async () => {
    // The race a fast `run true` hits: nothing yet, the init writes, execs
    // and exits, the check sees it gone, the next read gets its byte. The
    // read after that sees end-of-file: it must not happen.
    const fifo = script([false, true, false], [false]);
    await expect(awaitInitByte(fifo.readByte, fifo.initAlive, fifo.sleep)).resolves.toBeUndefined();
    expect(fifo.calls.reads).toBe(2);
  });

  it('says the container stopped when the init died without writing', async () => {
    const fifo = script([false, false], [false]);
    await expect(awaitInitByte(fifo.readByte, fifo.initAlive, fifo.sleep)).rejects.toThrow(
      'cannot start a container that has stopped',
    );
  });
});

describe('fifoPollDelays (runc start)', () => {
  it('polls again after tens of microseconds, backing off to 1 ms', () => {
    const delay = fifoPollDelays();
    const delays = Array.from({ length: 8 }, () => delay());
    expect(delays[0]).toBeLessThanOrEqual(0.05);
    expect(delays.slice(0, 5)).toEqual([0.05, 0.1, 0.2, 0.4, 0.8]);
    expect(delays.slice(5)).toEqual([1, 1, 1]);
  });
});
