import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ContainerError } from './errors.js';
import { StateStore, type StoredState } from './index.js';
import { parseStoredState } from './state-store.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const bun = join(here, '../../../node_modules/@oven/bun-linux-x64/bin/bun');

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
    store.write(state('a'));
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

  it('holds a lock while running and releases it after, even on throw; no lock file stays', () => {
    const lock = store.lockPath('c');
    expect(lock).toBe(join(store.root, '@locks', 'c'));
    store.withLock('c', () => {
      expect(existsSync(lock)).toBe(true);
      // Another holder (flock(1), a separate open file description) cannot take it meanwhile.
      expect(spawnSync('flock', ['--nonblock', lock, 'true']).status).toBe(1);
    });
    expect(existsSync(lock)).toBe(false);
    expect(() =>
      store.withLock('c', () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(existsSync(lock)).toBe(false);
  });

  it('removes the lock directory with the last container, not while another lock is held', () => {
    const locks = join(store.root, '@locks');
    store.withLock('a', () => {
      store.createContainerDir('a');
      store.write(state('a'));
    });
    store.withLock('b', () => {});
    // Containers left (or none removed): the directory stays, no mkdir/rmdir per command.
    expect(existsSync(locks)).toBe(true);
    store.withLock('a', () => {
      store.withLock('b', () => {});
      store.removeContainerDir('a');
      // 'a' is still held: its file keeps the directory.
      expect(readdirSync(locks)).toEqual(['a']);
    });
    expect(readdirSync(store.root)).toEqual([]);
  });

  it('leaves no lock directory after a command on a container that does not exist', async () => {
    store.withLock('missing', () => {});
    expect(readdirSync(store.root)).toEqual([]);
    await store.withLockAsync('missing', async () => {});
    expect(readdirSync(store.root)).toEqual([]);
  });

  it('holds the lock until asynchronous work settles', async () => {
    const lock = store.lockPath('e');
    let during = false;
    await store.withLockAsync('e', async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      during = spawnSync('flock', ['--nonblock', lock, 'true']).status === 1;
    });
    expect(during).toBe(true);
    expect(existsSync(lock)).toBe(false);
  });

  it('waits for another holder on timers: the event loop runs meanwhile', async () => {
    const lock = store.lockPath('w');
    // The lock directory, as a holder of another container's lock keeps it.
    mkdirSync(dirname(lock), { recursive: true, mode: 0o700 });
    // flock(1) holds the lock for 300 ms from another process.
    const holder = spawn('flock', [lock, 'sleep', '0.3'], { stdio: 'ignore' });
    try {
      while (spawnSync('flock', ['--nonblock', lock, 'true']).status === 0) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      let ticks = 0;
      const timer = setInterval(() => ticks++, 10);
      const started = Date.now();
      const ran = await store.withLockAsync('w', async () => 'ran');
      clearInterval(timer);
      expect(ran).toBe('ran');
      expect(Date.now() - started).toBeGreaterThanOrEqual(100);
      // A sync wait (Atomics.wait) would have let no timer run.
      expect(ticks).toBeGreaterThanOrEqual(5);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('a lock wait ends with ABORTED when the signal fires, LOCKED after lockTimeoutMs', async () => {
    const short = new StateStore(join(dir, 'root'), 100);
    await store.withLockAsync('a', async () => {
      // Another open file description of the lock file: flock excludes it too.
      const aborted = await store
        .withLockAsync('a', async () => 'ran', { signal: AbortSignal.timeout(50) })
        .catch((error: unknown) => error);
      expect(aborted).toBeInstanceOf(ContainerError);
      expect(aborted).toMatchObject({
        code: 'ABORTED',
        message: 'waiting for the lock of container a: timed out',
      });
      const locked = await short.withLockAsync('a', async () => 'ran').catch((e: unknown) => e);
      expect(locked).toMatchObject({ code: 'LOCKED' });
      expect((locked as Error).message).toContain(`locked by process ${process.pid}`);
    });
    // Released: the next one gets it at once.
    expect(await short.withLockAsync('a', async () => 'ran')).toBe('ran');
  });

  it('a lock whose holder was killed is free at once (the kernel releases flock)', async () => {
    // The directory a holder's lock file is in (gone while no lock is held).
    mkdirSync(join(store.root, '@locks'), { recursive: true, mode: 0o700 });
    const lock = store.lockPath('d');
    // -o: only flock(1) itself holds the lock, not the sleep it runs.
    const holder = spawn('flock', ['-o', lock, 'sleep', '1000'], {
      stdio: 'ignore',
      detached: true,
    });
    const exited = new Promise((resolve) => holder.once('exit', resolve));
    for (let i = 0; i < 200 && spawnSync('flock', ['-n', lock, 'true']).status === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    holder.kill('SIGKILL');
    await exited;
    process.kill(-holder.pid!, 'SIGKILL'); // its sleep
    const started = Date.now();
    expect(store.withLock('d', () => 'ran')).toBe('ran');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('lock files cannot collide with ids: `.x.lock` is a container like any other', () => {
    store.withLock('.x.lock', () => {
      store.createContainerDir('.x.lock');
      store.write(state('.x.lock'));
    });
    store.withLock('x', () => {
      expect(store.read('.x.lock').id).toBe('.x.lock');
    });
    expect(store.list()).toEqual(['.x.lock']);
    expect(existsSync(store.dir('.x.lock'))).toBe(true);
  });

  it('a directory without a state file (a create killed early) is debris: create replaces it', () => {
    store.createContainerDir('k9');
    writeFileSync(join(store.dir('k9'), 'exec.fifo'), '');
    expect(store.list()).toEqual(['k9']);
    expect(() => store.read('k9')).toThrow('container does not exist: k9');
    store.createContainerDir('k9');
    expect(readdirSync(store.dir('k9'))).toEqual([]);
    store.write(state('k9'));
    expect(store.removeDebris('k9')).toBe(false);
    expect(() => store.createContainerDir('k9')).toThrow(
      'container with given ID already exists: k9',
    );
    store.removeContainerDir('k9');
    expect(store.removeDebris('k9')).toBe(false);
  });

  it('a container a running create is making does not exist for others; a killed one does', async () => {
    store.withLock('m', () => {
      store.createContainerDir('m');
      store.write({ ...state('m'), creating: true });
    });
    const lock = store.lockPath('m');
    const creator = spawn('flock', ['-o', lock, 'sleep', '1000'], {
      stdio: 'ignore',
      detached: true,
    });
    const exited = new Promise((resolve) => creator.once('exit', resolve));
    try {
      for (let i = 0; i < 200 && spawnSync('flock', ['-n', lock, 'true']).status === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(() => store.read('m')).toThrow('container does not exist: m');
      expect(store.read('m', { creating: true }).id).toBe('m');
    } finally {
      creator.kill('SIGKILL');
      await exited;
      process.kill(-creator.pid!, 'SIGKILL');
    }
    // flock(1)'s child may still hold the lock's open file (between its fork
    // and the close -o asks for) until the SIGKILL above lands: wait for that.
    for (let i = 0; i < 200 && spawnSync('flock', ['-n', lock, 'true']).status !== 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    // The creator died: what it left is there for `state` and `delete`.
    expect(store.read('m').creating).toBe(true);
  });

  it('excludes every other holder, across processes and both FFI backends', async (context) => {
    if (!existsSync(bun)) context.skip(`no Bun at ${bun} (installs on x86_64 Linux only)`);
    const counter = join(dir, 'counter');
    writeFileSync(counter, '0');
    // Read, yield, write: without mutual exclusion increments get lost.
    const script = `import { StateStore } from ${JSON.stringify(join(here, 'state-store.ts'))};
      import { readFileSync, writeFileSync } from 'node:fs';
      const store = new StateStore(${JSON.stringify(store.root)});
      for (let i = 0; i < 50; i++) store.withLock('n', () => {
        const value = Number(readFileSync(${JSON.stringify(counter)}, 'utf8'));
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
        writeFileSync(${JSON.stringify(counter)}, String(value + 1));
      });`;
    const children = [1, 2, 3].map(() => {
      const child = spawn(bun, ['-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
      });
      return new Promise<string>((resolve) =>
        child.once('exit', (code) => resolve(`${code} ${stderr}`)),
      );
    });
    for (let i = 0; i < 50; i++) {
      store.withLock('n', () => {
        const value = Number(readFileSync(counter, 'utf8'));
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
        writeFileSync(counter, String(value + 1));
      });
    }
    expect(await Promise.all(children)).toEqual(['0 ', '0 ', '0 ']);
    expect(readFileSync(counter, 'utf8')).toBe('200');
    // No lock file left; the directory itself goes with the last lock on no container.
    expect(lockFilesLeft(store.root)).toEqual([]);
  }, 60_000);

  it('removes the lock directory with the last container, racing other commands safely', async (context) => {
    if (!existsSync(bun)) context.skip(`no Bun at ${bun} (installs on x86_64 Linux only)`);
    // Each process creates and deletes containers of its own: the root is
    // often left without one, so the lock directory is removed again and
    // again while the others make it and open lock files in it.
    const cycle = (name: string) => `for (let i = 0; i < 150; i++) {
        const id = '${name}' + (i % 3);
        store.withLock(id, () => {
          store.createContainerDir(id);
          store.write({ ...${JSON.stringify(state('x'))}, id });
        });
        store.withLock(id, () => store.removeContainerDir(id));
      }`;
    const script = (name: string) =>
      `import { StateStore } from ${JSON.stringify(join(here, 'state-store.ts'))};
      const store = new StateStore(${JSON.stringify(store.root)});
      ${cycle(name)}`;
    const children = ['a', 'b', 'c'].map((name) => {
      const child = spawn(bun, ['-e', script(name)], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
      });
      return new Promise<string>((resolve) =>
        child.once('exit', (code) => resolve(`${code} ${stderr}`)),
      );
    });
    new Function('store', cycle('d'))(store);
    expect(await Promise.all(children)).toEqual(['0 ', '0 ', '0 ']);
    expect(readdirSync(store.root)).toEqual([]);
  }, 60_000);
});

describe('a --root other users could write to', () => {
  it.each([0o777, 0o1777, 0o770, 0o702])(
    'mode %o is refused before anything under it is read',
    (mode) => {
      mkdirSync(store.root);
      chmodSync(store.root, mode);
      // A state file planted there by another user is never read.
      mkdirSync(join(store.root, 'planted'));
      writeFileSync(join(store.root, 'planted', 'state.json'), JSON.stringify(state('planted')));
      const refused = `state directory --root ${store.root} is writable by other users (mode 0${mode.toString(8)}): make it 0700 (chmod go-w) or pass another --root`;
      expect(() => store.read('planted')).toThrow(refused);
      expect(() => store.list()).toThrow(refused);
      expect(() => store.withLock('planted', () => 0)).toThrow(refused);
      expect(() => store.createContainerDir('x')).toThrow(refused);
      expect(readdirSync(store.root)).toEqual(['planted']);
    },
  );

  it('one owned by another user is refused', (context) => {
    if (process.geteuid?.() !== 0) context.skip('needs root to give the directory to another user');
    mkdirSync(store.root, { mode: 0o700 });
    chownSync(store.root, 1000, 1000);
    expect(() => store.list()).toThrow(
      `state directory --root ${store.root} is owned by uid 1000, not by this user (uid 0)`,
    );
  });

  it('a missing one is made 0700; 0711 and 01700 (the XDG default) are fine', () => {
    store.ensureRoot();
    expect(statSync(store.root).mode & 0o7777).toBe(0o700);
    for (const mode of [0o711, 0o1700]) {
      chmodSync(store.root, mode);
      expect(new StateStore(store.root).list()).toEqual([]);
    }
  });
});

describe('a corrupt state file', () => {
  it('reads as STATE_CORRUPT naming the file and field; delete --force removes it', () => {
    store.withLock('bad', () => store.createContainerDir('bad'));
    const path = join(store.dir('bad'), 'state.json');
    const cases: [string, string][] = [
      ['{"id": "bad", "pi', 'JSON Parse error'],
      ['[]', 'not a JSON object'],
      [JSON.stringify({ ...state('bad'), id: 'other' }), 'id: expected "bad"'],
      [JSON.stringify({ ...state('bad'), pid: -1 }), 'pid: expected a pid'],
      [JSON.stringify({ ...state('bad'), bundle: 7 }), 'bundle: expected a string'],
      [JSON.stringify({ ...state('bad'), config: null }), 'config: expected an object'],
      [
        JSON.stringify({ ...state('bad'), cgroup: { driver: 'fs', paths: { '': 1 } } }),
        'cgroup.paths: expected an object of strings',
      ],
    ];
    for (const [text, why] of cases) {
      writeFileSync(path, text);
      let error: unknown;
      try {
        store.read('bad');
      } catch (caught) {
        error = caught;
      }
      expect(error, text).toMatchObject({ code: 'STATE_CORRUPT' });
      expect((error as Error).message, text).toContain(
        `state of container bad is corrupt (${path}: `,
      );
      if (!why.startsWith('JSON')) expect((error as Error).message, text).toContain(why);
    }
  });

  it('random mutations of a state file read back or fail as STATE_CORRUPT, nothing else', () => {
    const valid = JSON.stringify({
      ...state('f'),
      cgroup: { driver: 'fs2', paths: { '': '/sys/fs/cgroup/f' } },
    });
    // A fixed-seed generator: the same mutations on every run.
    let seed = 12345;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const alphabet = '{}[]":,0123456789-abcdefnulltrue \\';
    for (let i = 0; i < 2000; i++) {
      const chars = [...valid];
      for (let m = 1 + random(4); m > 0; m--) {
        const at = random(chars.length);
        const kind = random(3);
        if (kind === 0) chars.splice(at, 1);
        else if (kind === 1) chars.splice(at, 0, alphabet[random(alphabet.length)]!);
        else chars[at] = alphabet[random(alphabet.length)]!;
      }
      const text = chars.join('');
      try {
        parseStoredState(text, 'f', '/s');
      } catch (error) {
        expect(error, text).toBeInstanceOf(ContainerError);
        expect((error as ContainerError).code, text).toBe('STATE_CORRUPT');
      }
    }
  });
});

function lockFilesLeft(root: string): string[] {
  const locks = join(root, '@locks');
  return existsSync(locks) ? readdirSync(locks) : [];
}
