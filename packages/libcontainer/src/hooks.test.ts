import type { State } from '@runc-ts/spec';
import { describe, expect, it } from 'vitest';
import { runHooks, runHooksAsync } from './hooks.js';

// Larger than a pipe buffer, so a hook that does not read its stdin makes the
// write fail with EPIPE every time.
const bigState: State = {
  ociVersion: '1.2.0',
  id: 'c1',
  status: 'creating',
  pid: 1,
  bundle: '/b',
  annotations: { filler: 'x'.repeat(1 << 20) },
};

describe('runHooks', () => {
  it('passes the state on stdin', () => {
    expect(() =>
      runHooks(
        'prestart',
        [{ path: '/bin/sh', args: ['sh', '-c', 'grep -q \'"id":"c1"\''] }],
        bigState,
      ),
    ).not.toThrow();
  });

  it('accepts a hook that exits 0 without reading its stdin', () => {
    expect(() => runHooks('prestart', [{ path: '/bin/true' }], bigState)).not.toThrow();
  });

  it('reports the exit status of a failing hook that did not read its stdin', () => {
    expect(() =>
      runHooks(
        'prestart',
        [{ path: '/bin/sh', args: ['sh', '-c', 'echo no >&2; exit 7'] }],
        bigState,
      ),
    ).toThrow('prestart hook #0 (/bin/sh): exit status 7: no');
  });

  it('reports a timeout', () => {
    expect(() =>
      runHooks('poststop', [{ path: '/bin/sleep', args: ['sleep', '5'], timeout: 1 }], bigState),
    ).toThrow('poststop hook #0 (/bin/sleep): timed out after 1s');
  });
});

describe('runHooksAsync', () => {
  it('behaves as runHooks: state on stdin, exit status, output, timeout, a missing hook', async () => {
    await expect(
      runHooksAsync(
        'prestart',
        [{ path: '/bin/sh', args: ['sh', '-c', 'grep -q \'"id":"c1"\''] }, { path: '/bin/true' }],
        bigState,
      ),
    ).resolves.toBeUndefined();
    await expect(
      runHooksAsync(
        'prestart',
        [{ path: '/bin/sh', args: ['sh', '-c', 'echo no >&2; exit 7'] }],
        bigState,
      ),
    ).rejects.toThrow('prestart hook #0 (/bin/sh): exit status 7: no');
    await expect(
      runHooksAsync('poststart', [{ path: '/nonexistent/hook' }], bigState),
    ).rejects.toMatchObject({ code: 'HOOK', message: expect.stringContaining('ENOENT') });
  });

  it('times out a hook while the event loop goes on', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 50);
    const started = Date.now();
    await expect(
      runHooksAsync(
        'poststop',
        [{ path: '/bin/sleep', args: ['sleep', '5'], timeout: 1 }],
        bigState,
      ),
    ).rejects.toThrow('poststop hook #0 (/bin/sleep): timed out after 1s');
    clearInterval(timer);
    expect(Date.now() - started).toBeLessThan(4000);
    expect(ticks).toBeGreaterThanOrEqual(10);
  });
});
