import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeFrame, MessageType, op, SyncKind } from '@runc-ts/namespaces';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ContainerError } from './errors.js';
import {
  ExecutorVanishedError,
  MalformedMessageError,
  renderExecutorError,
  runExecutor,
  type SyncHandlers,
  UnknownSyncKindError,
  UnservedSyncError,
} from './executor.js';
import { runTracedExecutor } from './executor-trace.js';

const dir = mkdtempSync(join(tmpdir(), 'runc-ts-executor-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A stand-in for runc-ts-init: writes `frames` to its socket, then exits. */
function fakeExecutor(name: string, frames: Buffer[], exit: string): string {
  const path = join(dir, name);
  const bytes = Buffer.concat(frames).toString('hex');
  writeFileSync(
    path,
    `#!${process.execPath}\nconst fd = Number(process.argv[2]);\n` +
      `require('node:fs').writeSync(fd, Buffer.from('${bytes}', 'hex'));\n${exit}\n`,
  );
  chmodSync(path, 0o755);
  return path;
}

function pidFrame(pid: number): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32LE(pid);
  return encodeFrame(MessageType.PID, payload);
}

const run = (initPath: string) =>
  runExecutor({
    initPath,
    plan: [],
    stdio: [0, 1, 2],
    preserveFds: 0,
    syncs: {},
    onPid: () => {},
  });

function syncFrame(kind: number, pid: number): Buffer {
  const payload = Buffer.alloc(8);
  payload.writeUInt32LE(kind, 0);
  payload.writeUInt32LE(pid, 4);
  return encodeFrame(MessageType.SYNC, payload);
}

describe('SYNC requests', () => {
  const ready = encodeFrame(MessageType.READY);
  const serve = (name: string, frames: Buffer[], syncs: SyncHandlers) =>
    runExecutor({
      initPath: fakeExecutor(name, frames, 'setTimeout(() => {}, 200)'),
      plan: [],
      stdio: [0, 1, 2],
      preserveFds: 0,
      syncs,
      onPid: () => {},
    });

  it('go to the handler named by their kind, with the pid', async () => {
    const served: string[] = [];
    await serve(
      'sync-named',
      [syncFrame(SyncKind.CGROUP, 41), syncFrame(SyncKind.STATE, 42), ready],
      {
        USERNS: () => {
          served.push('USERNS');
          return undefined;
        },
        CGROUP: async (pid) => {
          served.push(`CGROUP ${pid}`);
          return undefined;
        },
        STATE: (pid) => {
          served.push(`STATE ${pid}`);
          return Buffer.from('{}');
        },
      },
    );
    expect(served).toEqual(['CGROUP 41', 'STATE 42']);
  });

  it('are said on --debug by name, served and answered', async () => {
    const lines: string[] = [];
    await runTracedExecutor((line) => lines.push(line), 'create', {
      initPath: fakeExecutor('sync-traced', [syncFrame(SyncKind.HOOKS, 43), ready], ''),
      plan: [],
      stdio: [0, 1, 2],
      preserveFds: 0,
      syncs: { HOOKS: () => undefined },
      onPid: () => {},
    });
    expect(lines.filter((line) => line.includes('executor sync'))).toEqual([
      'create: executor sync HOOKS from pid 43',
      'create: executor sync HOOKS answered',
    ]);
  });

  it('of a kind the protocol does not define fail the run with a typed error', async () => {
    const error = await serve('sync-unknown', [syncFrame(9, 41), ready], {}).catch((e) => e);
    expect(error).toBeInstanceOf(UnknownSyncKindError);
    expect(error).toBeInstanceOf(MalformedMessageError);
    expect(error.code).toBe('EXECUTOR');
    expect(error.kind).toBe(9);
    expect(error.message).toBe('runc-ts-init sent a malformed message: SYNC of unknown kind 9');
  });

  it('without a handler fail the run, naming the kind', async () => {
    const hooks = vi.fn(() => undefined);
    const error = await serve('sync-unserved', [syncFrame(SyncKind.SECCOMP, 41), ready], {
      HOOKS: hooks,
    }).catch((e) => e);
    expect(error).toBeInstanceOf(UnservedSyncError);
    expect(error.kind).toBe('SECCOMP');
    expect(error.message).toBe(
      'runc-ts-init asked for SYNC SECCOMP, which this run does not answer',
    );
    expect(hooks).not.toHaveBeenCalled();
  });
});

describe('an executor that ends without READY or ERROR', () => {
  it('names its exit status', async () => {
    const error = await run(fakeExecutor('exits-3', [], 'process.exit(3)')).catch((e) => e);
    expect(error).toBeInstanceOf(ExecutorVanishedError);
    expect(error.message).toBe(
      'runc-ts-init exited with status 3 before the container was created',
    );
  });

  it('names the signal that killed it', async () => {
    const path = fakeExecutor('killed', [], "process.kill(process.pid, 'SIGKILL')");
    const error = await run(path).catch((e) => e);
    expect(error.message).toBe(
      'runc-ts-init was killed by SIGKILL before the container was created',
    );
  });

  it('names the forked process, not the parent that exits 0 by design', async () => {
    const path = fakeExecutor('forked', [pidFrame(4242)], 'process.exit(0)');
    const error = await run(path).catch((e) => e);
    expect(error).toBeInstanceOf(ExecutorVanishedError);
    expect(error.message).toBe(
      'runc-ts-init (pid 4242) ended without a report before the container was created',
    );
  });
});

/** A frame with any header fields, for frames no correct executor sends. */
function rawFrame(
  type: number,
  payload: Buffer,
  fields: { magic?: number; reserved?: number; length?: number } = {},
): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt32LE(fields.magic ?? 0x31535452, 0);
  header.writeUInt16LE(type, 4);
  header.writeUInt16LE(fields.reserved ?? 0, 6);
  header.writeUInt32LE(fields.length ?? payload.length, 8);
  return Buffer.concat([header, payload]);
}

function errorPayload(detail: string, declared?: number): Buffer {
  const text = Buffer.from(detail);
  const payload = Buffer.alloc(16);
  payload.writeUInt32LE(3, 0);
  payload.writeUInt16LE(6, 4); // MOUNT
  payload.writeInt32LE(2, 8); // ENOENT
  payload.writeUInt32LE(declared ?? text.length, 12);
  return Buffer.concat([payload, text]);
}

describe('a malformed message from the executor', () => {
  // Each fails the run with a typed error; none escapes as an uncaught
  // exception (vitest fails the file on one).
  it.each([
    [
      'a bad magic',
      [rawFrame(MessageType.READY, Buffer.alloc(0), { magic: 0xdeadbeef })],
      'bad magic 0xdeadbeef',
    ],
    [
      'a reserved field set',
      [rawFrame(MessageType.READY, Buffer.alloc(0), { reserved: 7 })],
      'reserved header field 7, not 0',
    ],
    [
      'a length beyond the limit',
      [rawFrame(MessageType.SYNC, Buffer.alloc(8), { length: 0xffffffff })],
      'payload of 4294967295 bytes exceeds 16777216',
    ],
    [
      'a short SYNC',
      [rawFrame(MessageType.SYNC, Buffer.alloc(3))],
      'SYNC with 3 payload bytes, not 8',
    ],
    ['a long PID', [rawFrame(MessageType.PID, Buffer.alloc(9))], 'PID with 9 payload bytes, not 4'],
    ['PID 0', [rawFrame(MessageType.PID, Buffer.alloc(4))], 'PID 0'],
    [
      'a READY with a payload',
      [rawFrame(MessageType.READY, Buffer.alloc(2))],
      'READY with 2 payload bytes, not 0',
    ],
    [
      'an ERROR shorter than its header',
      [rawFrame(MessageType.ERROR, Buffer.alloc(5))],
      'ERROR with 5 payload bytes, fewer than 16',
    ],
    [
      'an ERROR whose detail length lies',
      [rawFrame(MessageType.ERROR, errorPayload('abc', 1000))],
      'ERROR detail of 1000 bytes in a payload of 3',
    ],
    ['an unknown type', [rawFrame(99, Buffer.alloc(0))], 'unknown message type 99'],
    [
      'a message only the runtime sends',
      [rawFrame(MessageType.CONTINUE, Buffer.alloc(0))],
      'unknown message type 2',
    ],
  ])('%s', async (label, frames, detail) => {
    const path = fakeExecutor(
      `malformed-${label.replace(/\W+/g, '-')}`,
      frames,
      'setTimeout(() => {}, 200)',
    );
    const error = await run(path).catch((e) => e);
    expect(error).toBeInstanceOf(MalformedMessageError);
    expect(error).toBeInstanceOf(ContainerError);
    expect(error.code).toBe('EXECUTOR');
    expect(error.message).toBe(`runc-ts-init sent a malformed message: ${detail}`);
  });

  it('a well-formed ERROR still reads as the failed step', async () => {
    const path = fakeExecutor(
      'error',
      [rawFrame(MessageType.ERROR, errorPayload('/proc'))],
      'process.exit(1)',
    );
    const error = await run(path).catch((e) => e);
    expect(error).not.toBeInstanceOf(MalformedMessageError);
    expect(error.message).toMatch(/^mount \/proc: no such file or directory/);
    expect(() => renderExecutorError(Buffer.alloc(0))).toThrow(MalformedMessageError);
  });

  it('frames split across writes are put together', async () => {
    const frames = Buffer.concat([pidFrame(4242), encodeFrame(MessageType.READY)]);
    const path = join(dir, 'split');
    writeFileSync(
      path,
      `#!${process.execPath}\nconst fs = require('node:fs');\nconst fd = Number(process.argv[2]);\n` +
        `const bytes = Buffer.from('${frames.toString('hex')}', 'hex');\n` +
        'for (const byte of bytes) { fs.writeSync(fd, Buffer.from([byte])); Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1); }\n',
    );
    chmodSync(path, 0o755);
    const pids: number[] = [];
    const result = await runExecutor({
      initPath: path,
      plan: [],
      stdio: [0, 1, 2],
      preserveFds: 0,
      syncs: {},
      onPid: (pid) => pids.push(pid),
    });
    expect(result.initPid).toBe(4242);
    expect(pids).toEqual([4242]);
  });
});

describe('SETNS_PID with the real executor', () => {
  const realInit = fileURLToPath(new URL('../../../native/build/runc-ts-init', import.meta.url));

  it('refuses a pid whose start time is not the one recorded (a reused pid), before joining anything', async (context) => {
    if (!existsSync(realInit)) context.skip(`${realInit} is not built (pnpm build)`);
    const sleeper = spawn('sleep', ['1000'], { stdio: 'ignore' });
    try {
      const error = await runExecutor({
        initPath: realInit,
        plan: [op('SETNS_PID', sleeper.pid!, 0x04000000, '1'), op('READY')],
        stdio: [0, 1, 2],
        preserveFds: 0,
        syncs: {},
        onPid: () => {},
      }).catch((e) => e);
      expect(error).toBeInstanceOf(ContainerError);
      expect(error.message).toBe(
        `setns pid process ${sleeper.pid} (start time 1) is gone: no such process (ESRCH)`,
      );
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  it('joins the namespaces of the process it names (root only: setns)', async (context) => {
    if (!existsSync(realInit)) context.skip(`${realInit} is not built (pnpm build)`);
    if (process.geteuid?.() !== 0) context.skip('setns(2) needs CAP_SYS_ADMIN');
    const sleeper = spawn('sleep', ['1000'], { stdio: 'ignore' });
    try {
      const stat = readFileSync(`/proc/${sleeper.pid}/stat`, 'utf8');
      const startTime = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
      const result = await runExecutor({
        initPath: realInit,
        plan: [op('SETNS_PID', sleeper.pid!, 0x04000000 | 0x08000000, startTime), op('READY')],
        stdio: [0, 1, 2],
        preserveFds: 0,
        syncs: {},
        onPid: () => {},
      });
      result.child.kill('SIGKILL');
    } finally {
      sleeper.kill('SIGKILL');
    }
  });
});
