import type { ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import {
  encodeFrame,
  encodePlan,
  MessageType,
  type Op,
  opName,
  PROTOCOL_MAGIC,
} from '@runc-ts/namespaces';
import { ContainerError, describeErrno } from './errors.js';

export interface ExecutorOptions {
  /** Path of the runc-ts-init binary. */
  initPath: string;
  plan: readonly Op[];
  /** The container's stdin, stdout, stderr: fds of this process. */
  stdio: [number, number, number];
  /** Extra fds of this process passed to the container as 3, 4, ... */
  preserveFds: number;
  /**
   * Answers a SYNC; the executor waits until it returns. The returned bytes
   * (STATE) travel in the CONTINUE.
   */
  onSync(kind: number, pid: number): Buffer | undefined | Promise<Buffer | undefined>;
  /** The init's host pid, as soon as the executor reports it. */
  onPid(pid: number): void;
  /** The executor was spawned and has its plan. */
  onStart?(): void;
}

export interface ExecutorRun {
  /** The process spawned: after FORK with wait it waits for the init and exits with its status. */
  child: ChildProcess;
  initPid: number;
}

interface Frame {
  type: number;
  payload: Buffer;
}

/** Reads frames from the executor's socket. */
class FrameReader {
  private buffer = Buffer.alloc(0);
  private waiting: ((frame: Frame | undefined) => void) | undefined;
  private frames: Frame[] = [];
  private ended = false;

  constructor(socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.parse();
    });
    const end = () => {
      this.ended = true;
      this.flush();
    };
    socket.on('end', end);
    socket.on('close', end);
    socket.on('error', end);
  }

  private parse(): void {
    while (this.buffer.length >= 12) {
      if (this.buffer.readUInt32LE(0) !== PROTOCOL_MAGIC) {
        throw new ContainerError('EXECUTOR', 'runc-ts-init sent a malformed message');
      }
      const length = this.buffer.readUInt32LE(8);
      if (this.buffer.length < 12 + length) break;
      this.frames.push({
        type: this.buffer.readUInt16LE(4),
        payload: this.buffer.subarray(12, 12 + length),
      });
      this.buffer = this.buffer.subarray(12 + length);
    }
    this.flush();
  }

  private flush(): void {
    if (!this.waiting) return;
    if (this.frames.length > 0) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve(this.frames.shift());
    } else if (this.ended) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve(undefined);
    }
  }

  next(): Promise<Frame | undefined> {
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.flush();
    });
  }
}

/**
 * The executor ended without READY or ERROR: killed from outside (a
 * `delete --force` or OOM kill racing with the setup) or crashed.
 */
export class ExecutorVanishedError extends ContainerError {
  constructor(message: string) {
    super('EXECUTOR', message);
  }
}

function exitDescription(child: ChildProcess): Promise<string> {
  return new Promise((resolve) => {
    const describe = () =>
      child.signalCode
        ? `was killed by ${child.signalCode}`
        : `exited with status ${child.exitCode}`;
    if (child.exitCode !== null || child.signalCode !== null) resolve(describe());
    else child.once('exit', () => resolve(describe()));
  });
}

/** Renders an ERROR message as "<operation> <detail>: <reason>". */
export function renderExecutorError(payload: Buffer): string {
  const index = payload.readUInt32LE(0);
  const opcode = payload.readUInt16LE(4);
  const errno = payload.readInt32LE(8);
  const length = payload.readUInt32LE(12);
  const detail = payload.subarray(16, 16 + length).toString('utf8');
  if (index === 0xffffffff) return `runc-ts-init rejected the plan: ${detail}`;
  const name = opName(opcode);
  // Complete messages: errno 0 (hooks), and runc's
  // `exec: "foo": executable file not found in $PATH`.
  if (errno === 0 || detail.startsWith('exec: ')) return detail;
  const what = `${name.toLowerCase().replace(/_/g, ' ')}${detail ? ` ${detail}` : ''}`;
  return `${what}: ${describeErrno(errno)}`;
}

/**
 * Starts runc-ts-init, sends the plan and serves its SYNC requests until it
 * reports READY. Throws ContainerError('EXECUTOR') with the failed step.
 */
export async function runExecutor(options: ExecutorOptions): Promise<ExecutorRun> {
  const socketFd = 3 + options.preserveFds;
  const stdio: (number | 'pipe')[] = [...options.stdio];
  for (let fd = 3; fd < socketFd; fd++) stdio.push(fd);
  stdio.push('pipe');
  const child = process
    .getBuiltinModule('node:child_process')
    .spawn(options.initPath, [String(socketFd)], {
      stdio,
      detached: true,
      env: {},
    });
  const spawnError = new Promise<never>((_, reject) => {
    child.once('error', (error) =>
      reject(
        new ContainerError('EXECUTOR', `cannot start ${options.initPath}: ${error.message}`, {
          cause: error,
        }),
      ),
    );
  });
  const socket = child.stdio[socketFd] as Socket | null;
  // Bun fails a spawn it cannot start without making the pipes (Node makes
  // them and reports the error later): only the error remains to report.
  if (child.pid === undefined || !socket) return spawnError;
  const reader = new FrameReader(socket);
  socket.write(encodeFrame(MessageType.PLAN, encodePlan(options.plan)));
  options.onStart?.();

  let initPid = 0;
  const serve = async (): Promise<void> => {
    for (;;) {
      const frame = await reader.next();
      if (!frame) {
        // After a FORK the process we started exits 0 by design: the one
        // that vanished is the forked one, which only its PID names.
        const exit = await exitDescription(child);
        const who =
          initPid && exit === 'exited with status 0'
            ? `runc-ts-init (pid ${initPid}) ended without a report`
            : `runc-ts-init ${exit}`;
        throw new ExecutorVanishedError(`${who} before the container was created`);
      }
      switch (frame.type) {
        case MessageType.SYNC: {
          const kind = frame.payload.readUInt32LE(0);
          const pid = frame.payload.readUInt32LE(4);
          const reply = await options.onSync(kind, pid);
          socket.write(encodeFrame(MessageType.CONTINUE, reply));
          break;
        }
        case MessageType.PID:
          initPid = frame.payload.readUInt32LE(0);
          options.onPid(initPid);
          break;
        case MessageType.READY:
          return;
        case MessageType.ERROR:
          throw new ContainerError('EXECUTOR', renderExecutorError(frame.payload));
        default:
          throw new ContainerError('EXECUTOR', `runc-ts-init sent unknown message ${frame.type}`);
      }
    }
  };
  try {
    await Promise.race([serve(), spawnError]);
  } catch (error) {
    try {
      socket.write(encodeFrame(MessageType.ABORT));
    } catch {
      // The executor is gone already.
    }
    socket.destroy();
    throw error;
  }
  socket.destroy();
  return { child, initPid };
}
