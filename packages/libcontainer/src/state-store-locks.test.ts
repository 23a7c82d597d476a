// The lock directory removed by another command between this one's mkdir
// and its open of the lock file: the window no interleaving of real
// processes hits reliably, forced here by removing it just before the open.
import type * as fs from 'node:fs';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const race = vi.hoisted(() => ({ removeBeforeOpens: 0, dir: '' }));

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof fs>();
  return {
    ...real,
    openSync: (path: fs.PathLike, ...rest: unknown[]) => {
      if (race.removeBeforeOpens > 0 && String(path).startsWith(`${race.dir}/`)) {
        race.removeBeforeOpens--;
        real.rmdirSync(race.dir); // what a concurrent release does
      }
      return (real.openSync as (...args: unknown[]) => number)(path, ...rest);
    },
  };
});

const { StateStore } = await import('./state-store.js');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'runc-ts-locks-'));
});
afterEach(() => {
  race.removeBeforeOpens = 0;
  rmSync(dir, { recursive: true, force: true });
});

describe('lock directory removed by a concurrent command', () => {
  it('is made again when it disappears before the lock file is opened', () => {
    const store = new StateStore(join(dir, 'root'));
    race.dir = join(store.root, '@locks');
    race.removeBeforeOpens = 3;
    expect(store.withLock('c', () => readdirSync(race.dir))).toEqual(['c']);
    expect(race.removeBeforeOpens).toBe(0);
    // Nothing left: no lock file, and no directory for a lock on no container.
    expect(existsSync(race.dir)).toBe(false);
  });

  it('gives up with the error after as many removals as attempts', () => {
    const store = new StateStore(join(dir, 'root'));
    race.dir = join(store.root, '@locks');
    race.removeBeforeOpens = 1000;
    expect(() => store.withLock('c', () => {})).toThrow(/ENOENT/);
    expect(readdirSync(store.root)).toEqual([]);
  });
});
