import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateStore, type StoredState } from './index.js';

let dir: string;
let store: StateStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'runc-ts-store-'));
  store = new StateStore(join(dir, 'root'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const state = (id: string): StoredState => ({
  id,
  pid: 1,
  pidStartTime: '0',
  bundle: '/b',
  rootfs: '/b/rootfs',
  created: '2026-01-01T00:00:00Z',
  owner: '',
  config: { ociVersion: '1.3.0', root: { path: 'rootfs' } },
});

describe('StateStore', () => {
  it('creates container directories once, 0711 under a 0700 root', () => {
    store.createContainerDir('a');
    expect(statSync(store.root).mode & 0o777).toBe(0o700);
    expect(statSync(store.dir('a')).mode & 0o777).toBe(0o711);
    expect(() => store.createContainerDir('a')).toThrow(
      'container with given ID already exists: a',
    );
  });

  it('writes state atomically and reads it back; lists only containers', () => {
    store.createContainerDir('b');
    store.write(state('b'));
    expect(store.read('b')).toEqual(state('b'));
    expect(statSync(join(store.dir('b'), 'state.json')).mode & 0o777).toBe(0o600);
    writeFileSync(join(store.root, '.b.lock'), '1 1');
    expect(store.list()).toEqual(['b']);
    expect(() => store.read('missing')).toThrow('container does not exist: missing');
  });

  it('refuses an id that is not one before building any path: nothing outside --root is touched', () => {
    // A prepared state file beside --root, where `../probe` would lead.
    mkdirSync(join(dir, 'probe'));
    writeFileSync(join(dir, 'probe', 'state.json'), JSON.stringify(state('probe')));
    const refused = /^invalid container ID format: /;
    for (const id of ['../probe', '/../probe', 'a/b', '.', '..', '', 'a b']) {
      expect(() => store.read(id), id).toThrow(refused);
      expect(() => store.exists(id), id).toThrow(refused);
      expect(() => store.dir(id), id).toThrow(refused);
      expect(() => store.fifoPath(id), id).toThrow(refused);
      expect(() => store.createContainerDir(id), id).toThrow(refused);
      expect(() => store.removeContainerDir(id), id).toThrow(refused);
      expect(() => store.withLock(id, () => 0), id).toThrow(refused);
    }
    expect(readdirSync(join(dir, 'probe'))).toEqual(['state.json']);
    expect(readdirSync(dir)).toEqual(['probe']);
  });

  it('lists only entries named like ids', () => {
    store.createContainerDir('c');
    store.write(state('c'));
    mkdirSync(join(store.root, 'not an id'));
    writeFileSync(join(store.root, 'not an id', 'state.json'), '{}');
    expect(store.list()).toEqual(['c']);
  });

  it('holds a lock while running and releases it after, even on throw', () => {
    const lock = join(store.root, '.c.lock');
    store.withLock('c', () => {
      expect(existsSync(lock)).toBe(true);
    });
    expect(existsSync(lock)).toBe(false);
    expect(() =>
      store.withLock('c', () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(existsSync(lock)).toBe(false);
  });

  it('holds the lock until asynchronous work settles', async () => {
    const lock = join(store.root, '.e.lock');
    let during = false;
    await store.withLockAsync('e', async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      during = existsSync(lock);
    });
    expect(during).toBe(true);
    expect(existsSync(lock)).toBe(false);
  });

  it('takes over a lock whose holder is gone', () => {
    store.ensureRoot();
    const dead = spawnSync('true').pid!;
    writeFileSync(join(store.root, '.d.lock'), `${dead} 12345`);
    expect(store.withLock('d', () => 'ran')).toBe('ran');
  });
});
