// Lifecycle races and crash recovery against a recording fake host
// (test/fake-host.ts): the state directory is a real one in a temp dir; /proc,
// signals, exec.fifo, the cgroup and the clock are scripted, and every side
// effect a verb has on them is checked in order.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeHost } from '../../test/fake-host.js';
import { Runtime, type RuntimeWarning } from '../container.js';
import type { StoredState } from '../state-store.js';

const SIGKILL = 9;
const SIGTERM = 15;
const INIT = 4242;

let dir: string;
let host: FakeHost;
let runtime: Runtime;
let warnings: RuntimeWarning[];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'runc-ts-lifecycle-'));
  host = new FakeHost();
  warnings = [];
  runtime = new Runtime(
    { root: join(dir, 'root'), warn: (_message, warning) => warnings.push(warning) },
    host,
  );
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A container as create leaves it: state written, init `INIT` started at '100', a cgroup. */
async function stored(id: string, changes: Partial<StoredState> = {}): Promise<StoredState> {
  const state: StoredState = {
    id,
    pid: INIT,
    pidStartTime: '100',
    bundle: join(dir, 'bundle'),
    rootfs: join(dir, 'bundle', 'rootfs'),
    created: '2026-01-01T00:00:00Z',
    owner: '',
    config: {
      ociVersion: '1.3.0',
      root: { path: 'rootfs' },
      linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }] },
    },
    cgroup: { driver: 'fs2', paths: { '': `/sys/fs/cgroup/${id}` } } as StoredState['cgroup'],
    ...changes,
  };
  await runtime.store.withLockAsync(id, async () => {
    runtime.store.createContainerDir(id);
    runtime.store.write(state);
  });
  return state;
}

/** The container `id` created: its init alive in runc-ts-init, exec.fifo there. */
async function created(id: string): Promise<StoredState> {
  const state = await stored(id);
  host.spawn(INIT);
  host.cgroupManager.members = [INIT];
  host.files.add(runtime.store.fifoPath(id));
  return state;
}

describe('status', () => {
  it('a stopped container: init gone, or its pid now another process (pid reuse); pid shows 0', async () => {
    await stored('gone');
    expect(runtime.state('gone')).toMatchObject({ status: 'stopped', pid: 0 });
    host.spawn(INIT, { startTime: '999', exe: '/bin/sh' }); // not our init
    expect(runtime.state('gone')).toMatchObject({ status: 'stopped', pid: 0 });
    host.spawn(INIT, { state: 'Z' }); // ours, exited, not reaped yet
    expect(runtime.state('gone')).toMatchObject({ status: 'stopped', pid: 0 });
    expect(host.calls).toEqual([]); // state only looks
  });

  it('created, running, paused as /proc, exec.fifo and the freezer say', async () => {
    await created('c');
    expect(runtime.state('c')).toMatchObject({ status: 'created', pid: INIT });
    // A start killed after letting the init go leaves exec.fifo: the init runs the process.
    host.spawn(INIT, { exe: '/bin/sleep' });
    expect(runtime.state('c').status).toBe('running');
    host.cgroupManager.frozen = true;
    expect(runtime.state('c').status).toBe('paused');
  });
});

describe('start', () => {
  it('reads the init byte, removes exec.fifo', async () => {
    await created('s');
    host.fifoReads = [false, true];
    await runtime.start('s');
    expect(host.calls).toEqual([
      'fifo open',
      'fifo read EAGAIN',
      'fifo read byte',
      'fifo close',
      `unlink ${runtime.store.fifoPath('s')}`,
    ]);
  });

  it('racing an init that exits without writing: "stopped", exec.fifo left for delete', async () => {
    await created('r');
    host.beforeFifoRead = (n) => {
      if (n === 2) host.processes.delete(INIT); // dies while start polls
    };
    await expect(runtime.start('r')).rejects.toMatchObject({
      code: 'BAD_STATUS',
      message: 'cannot start a container that has stopped',
    });
    expect(host.calls).toEqual([
      'fifo open',
      'fifo read EAGAIN',
      'fifo read EAGAIN',
      'fifo read EAGAIN', // the last look after seeing it gone
      'fifo close',
    ]);
    expect(runtime.state('r').status).toBe('stopped');
  });

  it('racing an init that wrote its byte, ran and exited between two reads: started', async () => {
    await created('q');
    host.fifoReads = [false, true];
    host.beforeFifoRead = (n) => {
      if (n === 1) host.processes.delete(INIT); // gone when start checks after the 1st read
    };
    await runtime.start('q');
    expect(host.calls.slice(-3)).toEqual([
      'fifo read byte',
      'fifo close',
      `unlink ${runtime.store.fifoPath('q')}`,
    ]);
  });

  it('a second start of a running container fails without touching exec.fifo', async () => {
    await created('twice');
    host.spawn(INIT, { exe: '/bin/sleep' });
    await expect(runtime.start('twice')).rejects.toMatchObject({
      code: 'BAD_STATUS',
      message: 'cannot start an already running container',
    });
    expect(host.calls).toEqual([]);
  });
});

describe('kill', () => {
  it('--all: freezes the cgroup, signals every member, thaws', async () => {
    await created('k');
    host.spawn(INIT, { exe: '/bin/sh' });
    host.spawn(5001);
    host.spawn(5002);
    host.cgroupManager.members = [INIT, 5001, 5002, 5003]; // 5003 exited meanwhile: ESRCH
    await runtime.kill('k', SIGTERM, { all: true });
    expect(host.calls).toEqual([
      'cgroup freeze',
      `kill ${INIT} ${SIGTERM}`,
      `kill 5001 ${SIGTERM}`,
      `kill 5002 ${SIGTERM}`,
      'cgroup thaw',
    ]);
  });

  it('--all on a paused container: no freeze; thawed only for SIGKILL', async () => {
    await created('p');
    host.spawn(INIT, { exe: '/bin/sh' });
    host.cgroupManager.frozen = true;
    await runtime.kill('p', SIGTERM, { all: true });
    expect(host.calls).toEqual([`kill ${INIT} ${SIGTERM}`]);
    expect(runtime.state('p').status).toBe('paused');
    host.calls.length = 0;
    await runtime.kill('p', SIGKILL, { all: true });
    expect(host.calls).toEqual([`kill ${INIT} ${SIGKILL}`, 'cgroup thaw']);
  });

  it('--all without a cgroup: the processes of its own pid namespace, no others', async () => {
    await stored('ns', { cgroup: undefined });
    host.spawn(INIT, { exe: '/bin/sh', pidNamespace: 'pid:[7]' });
    host.spawn(6001, { pidNamespace: 'pid:[7]' });
    host.spawn(6002); // the host's
    await runtime.kill('ns', SIGTERM, { all: true });
    expect(host.calls).toEqual([`kill ${INIT} ${SIGTERM}`, `kill 6001 ${SIGTERM}`]);
  });

  it('a stopped container: "container not running", and its reused pid is never signalled', async () => {
    await stored('old');
    host.spawn(INIT, { startTime: '555', exe: '/usr/sbin/sshd' });
    await expect(runtime.kill('old', SIGKILL)).rejects.toMatchObject({
      code: 'BAD_STATUS',
      message: 'container not running',
    });
    expect(host.calls).toEqual([]);
  });
});

describe('delete', () => {
  it('of a container whose init vanished: cgroup and state removed, nothing signalled', async () => {
    await stored('vanished');
    host.spawn(INIT, { startTime: '555', exe: '/usr/sbin/sshd' }); // the pid, reused
    await runtime.delete('vanished');
    expect(host.calls).toEqual(['cgroup destroy']);
    expect(runtime.list()).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it('of a running container needs --force, then kills every process first', async () => {
    await created('busy');
    host.spawn(INIT, { exe: '/bin/sh' });
    await expect(runtime.delete('busy')).rejects.toMatchObject({
      code: 'BAD_STATUS',
      message: 'cannot delete container busy that is not stopped: running',
    });
    expect(host.calls).toEqual([]);
    await runtime.delete('busy', { force: true });
    expect(host.calls).toEqual([
      'cgroup freeze',
      `kill ${INIT} ${SIGKILL}`,
      'cgroup thaw',
      'cgroup destroy',
    ]);
    expect(runtime.list()).toEqual([]);
  });

  it('a crash mid-create (state still "creating", lock free) is removed by delete --force', async () => {
    // create was killed after the init was known: its init waits, the cgroup holds it.
    await stored('half', { creating: true });
    host.spawn(INIT);
    host.cgroupManager.members = [INIT];
    expect(runtime.list().map((c) => [c.id, c.status])).toEqual([['half', 'running']]);
    await runtime.delete('half', { force: true });
    expect(host.calls).toEqual([
      'cgroup freeze',
      `kill ${INIT} ${SIGKILL}`,
      'cgroup thaw',
      'cgroup destroy',
    ]);
    expect(host.processStat(INIT)?.state).toBe('Z');
    expect(runtime.list()).toEqual([]);
  });

  it('an init that survives its SIGKILL is waited for 5 s (fake clock), not forever', async () => {
    await stored('stuck', {
      cgroup: undefined,
      config: { ociVersion: '1.3.0', root: { path: 'r' } },
    });
    host.spawn(INIT, { exe: '/bin/sh', state: 'D' });
    host.kill = (pid, signal) => {
      host.calls.push(`kill ${pid} ${signal}`); // uninterruptible: stays alive
    };
    const started = host.clock;
    await runtime.delete('stuck', { force: true });
    expect(host.clock - started).toBeGreaterThanOrEqual(5000);
    expect(host.clock - started).toBeLessThan(5100);
    expect(host.calls).toEqual([`kill ${INIT} SIGKILL`]);
    expect(runtime.list()).toEqual([]);
  });
});
