// What a program embedding Runtime relies on, without root: no process-wide
// state touched, stdio as given, aborts, warnings through the option, one
// error family, the executor found by the package itself.

import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { defaultExecutorPath, executorCandidates, locateExecutor } from './executor-path.js';
import { ContainerError, Runtime, type RuntimeWarning, toContainerError } from './index.js';
import { FORWARDED_SIGNALS, waitForExit } from './process-control.js';
import type { StoredState } from './state-store.js';
import { resolveStdio } from './stdio.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'runc-ts-embed-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function listenerCounts(): number[] {
  return FORWARDED_SIGNALS.map((signal) => process.listenerCount(signal));
}

describe('waiting for a process', () => {
  it('installs no signal handler unless asked; forwards while asked, removes them after', async () => {
    const before = listenerCounts();
    const child = spawn('sh', ['-c', 'exit 3'], { stdio: 'ignore' });
    const waiting = waitForExit(child, child.pid!, false);
    expect(listenerCounts()).toEqual(before);
    expect(await waiting).toBe(3);

    // Asked: a SIGUSR1 sent to this process reaches the waited-for one.
    const trapped = spawn('sh', ['-c', 'trap "exit 7" USR1; while :; do sleep 0.01; done'], {
      stdio: 'ignore',
    });
    await new Promise((resolve) => setTimeout(resolve, 100)); // the trap is set
    const forwarding = waitForExit(trapped, trapped.pid!, false, { forwardSignals: true });
    expect(listenerCounts()).toEqual(before.map((count) => count + 1));
    process.emit('SIGUSR1', 'SIGUSR1');
    expect(await forwarding).toBe(7);
    expect(listenerCounts()).toEqual(before);
  });

  it('an abort SIGKILLs the process and rejects with ABORTED', async () => {
    const child = spawn('sleep', ['1000'], { stdio: 'ignore' });
    const killed = new Promise((resolve) => child.once('exit', (_, signal) => resolve(signal)));
    const error = await waitForExit(child, child.pid!, false, {
      signal: AbortSignal.timeout(50),
      what: 'exec: waiting for process',
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ContainerError);
    expect(error).toMatchObject({
      code: 'ABORTED',
      message: 'exec: waiting for process: timed out',
    });
    expect(await killed).toBe('SIGKILL');
  });
});

describe('stdio', () => {
  it('fds and ignore pass as they are; streams become pipes', () => {
    expect(resolveStdio(undefined).spawn).toEqual(['ignore', 'ignore', 'ignore']);
    expect(resolveStdio([0, 1, 2]).spawn).toEqual([0, 1, 2]);
    const out = new PassThrough();
    expect(resolveStdio(['ignore', out, 2]).spawn).toEqual(['ignore', 'pipe', 2]);
  });

  it('refuses what cannot be an fd or stream, naming which one', () => {
    expect(() => resolveStdio([0, -1, 2])).toThrow('stdio.stdout: -1 is not an fd');
    expect(() => resolveStdio([0, 1, 'x' as never])).toThrow(
      "stdio.stderr: expected an fd, 'ignore' or a stream",
    );
    const writeOnly = new Writable({ write: (_c, _e, done) => done() });
    expect(() => resolveStdio([writeOnly, 1, 2])).toThrow(
      'stdio.stdin: expected a readable stream',
    );
    expect(() => resolveStdio([0, 1] as never)).toThrow('expected [stdin, stdout, stderr]');
  });

  it("copies a process' output into the caller's streams, and its input from one", async () => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const given = resolveStdio([
      new PassThrough().end('from stdin\n'),
      new Writable({ write: (c, _e, done) => done(void out.push(c)) }),
      new Writable({ write: (c, _e, done) => done(void err.push(c)) }),
    ]);
    const child = spawn('sh', ['-c', 'cat; echo oops >&2'], { stdio: given.spawn });
    given.attach(child);
    const code = await waitForExit(child, child.pid!, false, { drained: given.drained(child) });
    expect(code).toBe(0);
    expect(Buffer.concat(out).toString()).toBe('from stdin\n');
    expect(Buffer.concat(err).toString()).toBe('oops\n');
  });
});

describe('errors', () => {
  it("lower layers' errors become ContainerErrors with their message and the original as cause", () => {
    const cgroup = Object.assign(new Error('write memory.max: Invalid argument'), {
      name: 'CgroupError',
      code: 'CGROUP_WRITE',
    });
    const wrapped = toContainerError(cgroup) as ContainerError;
    expect(wrapped).toBeInstanceOf(ContainerError);
    expect(wrapped).toMatchObject({ code: 'CGROUP', message: cgroup.message, cause: cgroup });
    for (const [name, code] of [
      ['SeccompError', 'SECCOMP'],
      ['SpecError', 'CONFIG_INVALID'],
      ['PlanError', 'PLAN'],
    ]) {
      const error = Object.assign(new Error('x'), { name });
      expect(toContainerError(error)).toMatchObject({ code, cause: error });
    }
    const system = Object.assign(new Error("ENOENT: no such file, open '/x'"), {
      code: 'ENOENT',
      syscall: 'open',
    });
    expect(toContainerError(system)).toMatchObject({ code: 'SYSTEM', cause: system });
    const own = new ContainerError('NOT_FOUND', 'gone');
    expect(toContainerError(own)).toBe(own);
    const bug = new TypeError('x is undefined');
    expect(toContainerError(bug)).toBe(bug);
  });

  it('Runtime methods throw ContainerError: a state directory that is a file', async () => {
    writeFileSync(join(dir, 'file'), '');
    const runtime = new Runtime({ root: join(dir, 'file') });
    expect(() => runtime.list()).toThrow(ContainerError);
    await expect(runtime.delete('x')).rejects.toBeInstanceOf(ContainerError);
  });
});

describe('checkpoint', () => {
  it("waits for the container's lock without blocking the event loop; `signal` ends the wait", async () => {
    const runtime = new Runtime({ root: join(dir, 'root') });
    let release!: () => void;
    const held = runtime.store.withLockAsync(
      'busy',
      () => new Promise<void>((resolve) => (release = resolve)),
    );
    await new Promise((resolve) => setTimeout(resolve, 20)); // the lock is taken
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    try {
      const error = await runtime
        .checkpoint('busy', { signal: AbortSignal.timeout(200) })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ContainerError);
      expect(error).toMatchObject({
        code: 'ABORTED',
        message: expect.stringContaining('timed out'),
      });
      expect(ticks).toBeGreaterThan(5);
    } finally {
      clearInterval(ticker);
      release();
      await held;
    }
    // Lock free: the missing container is what is wrong now.
    await expect(runtime.checkpoint('busy', {})).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('warnings', () => {
  it('a failing poststop hook goes to the warn option, never to process warnings', async () => {
    const root = join(dir, 'root');
    const warnings: RuntimeWarning[] = [];
    const runtime = new Runtime({ root, warn: (_message, warning) => warnings.push(warning) });
    const emitWarning = vi.spyOn(process, 'emitWarning');
    try {
      const stored: StoredState = {
        id: 'hooked',
        pid: 0,
        pidStartTime: '',
        bundle: dir,
        rootfs: join(dir, 'rootfs'),
        created: '2026-01-01T00:00:00Z',
        owner: '',
        config: {
          ociVersion: '1.3.0',
          root: { path: 'rootfs' },
          hooks: { poststop: [{ path: '/bin/sh', args: ['sh', '-c', 'echo bad; exit 4'] }] },
        },
      };
      await runtime.store.withLockAsync('hooked', async () => {
        runtime.store.createContainerDir('hooked');
        runtime.store.write(stored);
      });
      expect(runtime.state('hooked').status).toBe('stopped');
      await runtime.delete('hooked');
      expect(warnings).toEqual([
        {
          code: 'HOOK',
          message: 'poststop hook #0 (/bin/sh): exit status 4: bad',
          cause: expect.any(ContainerError),
        },
      ]);
      expect(emitWarning).not.toHaveBeenCalled();
      expect(runtime.list()).toEqual([]);
    } finally {
      emitWarning.mockRestore();
    }
  });
});

describe('the executor', () => {
  it('is found in the package: bin/runc-ts-init, which the build puts there', () => {
    const path = defaultExecutorPath();
    expect(path).toMatch(/packages\/libcontainer\/bin\/runc-ts-init$/);
  });

  it('the first executable candidate wins; none is EXECUTOR_NOT_FOUND naming the places', () => {
    const bin = join(dir, 'pkg', 'bin');
    mkdirSync(bin, { recursive: true });
    const candidates = executorCandidates(`file://${join(dir, 'pkg', 'dist', 'index.js')}`);
    expect(candidates[0]).toBe(join(bin, 'runc-ts-init'));
    expect(() => locateExecutor([join(bin, 'runc-ts-init')])).toThrow(
      expect.objectContaining({ code: 'EXECUTOR_NOT_FOUND' }),
    );
    writeFileSync(join(bin, 'runc-ts-init'), '');
    chmodSync(join(bin, 'runc-ts-init'), 0o644); // not executable: skipped
    const other = join(dir, 'other');
    writeFileSync(other, '');
    chmodSync(other, 0o755);
    expect(locateExecutor([join(bin, 'runc-ts-init'), other])).toBe(other);
  });
});
