import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeFrame, MessageType } from '@runc-ts/namespaces';
import { afterAll, describe, expect, it } from 'vitest';
import { ExecutorVanishedError, runExecutor } from './executor.js';

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
    onSync: () => undefined,
    onPid: () => {},
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
