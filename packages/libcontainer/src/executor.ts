import type { ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import {
  encodeFrame,
  encodePlan,
  MessageType,
  type Op,
  opName,
  PROTOCOL_MAGIC,
  type SyncKindName,
  syncKindName,
} from '@runc-ts/namespaces';
import { ContainerError, describeErrno } from './errors.js';

/** The SYNC kinds whose CONTINUE carries data (PROTOCOL.md): their handlers return it. */
type DataSyncKind = 'STATE' | 'SECCOMP';

/**
 * The answer to each SYNC kind a plan may ask for, by name; the executor
 * waits until it settles. STATE and SECCOMP return the bytes their CONTINUE
 * carries. A SYNC of a kind without a handler fails the run
 * (UnservedSyncError), as does a kind the protocol does not define
 * (UnknownSyncKindError).
 */
export type SyncHandlers = {
  [K in SyncKindName]?: (
    pid: number,
  ) => K extends DataSyncKind ? Buffer | Promise<Buffer> : undefined | Promise<undefined>;
};

export interface ExecutorOptions {
  /** Path of the runc-ts-init binary. */
  initPath: string;
  plan: readonly Op[];
  /** The container's stdin, stdout, stderr: fds of this process, /dev/null or pipes (stdio.ts). */
  stdio: readonly (number | 'ignore' | 'pipe')[];
  /** Extra fds of this process passed to the container as 3, 4, ... */
  preserveFds: number;
  /** The SYNCs this plan asks for, answered by kind. */
  syncs: SyncHandlers;
  /** The init's host pid, as soon as the executor reports it. */
  onPid(pid: number): void;
  /** The executor was spawned and has its plan (connect its stdio pipes now). */
  onStart?(child: ChildProcess): void;
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

/** PROTOCOL.md: the largest payload a frame may carry. */
const MAX_PAYLOAD = 16 << 20;

/** The executor broke the protocol: the run fails with this, never the process. */
export class MalformedMessageError extends ContainerError {
  constructor(detail: string) {
    super('EXECUTOR', `runc-ts-init sent a malformed message: ${detail}`);
  }
}

/**
 * Reads frames from the executor's socket. A malformed frame is kept as
 * the reader's failure and rejects the pending and every later next():
 * nothing is thrown inside the socket's listeners, where it would be an
 * uncaught exception of the whole process.
 */
class FrameReader {
  private buffer: Buffer = Buffer.alloc(0);
  private waiting:
    | { resolve: (frame: Frame | undefined) => void; reject: (error: Error) => void }
    | undefined;
  private frames: Frame[] = [];
  private ended = false;
  private failure: MalformedMessageError | undefined;

  constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      if (this.failure) return;
      this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
      this.parse();
      this.flush();
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
      const magic = this.buffer.readUInt32LE(0);
      const type = this.buffer.readUInt16LE(4);
      const reserved = this.buffer.readUInt16LE(6);
      const length = this.buffer.readUInt32LE(8);
      const bad =
        magic !== PROTOCOL_MAGIC
          ? `bad magic 0x${magic.toString(16).padStart(8, '0')}`
          : reserved !== 0
            ? `reserved header field ${reserved}, not 0`
            : length > MAX_PAYLOAD
              ? `payload of ${length} bytes exceeds ${MAX_PAYLOAD}`
              : undefined;
      if (bad) {
        this.fail(new MalformedMessageError(bad));
        return;
      }
      if (this.buffer.length < 12 + length) return;
      this.frames.push({ type, payload: this.buffer.subarray(12, 12 + length) });
      this.buffer = this.buffer.subarray(12 + length);
    }
  }

  private fail(error: MalformedMessageError): void {
    this.failure = error;
    this.buffer = Buffer.alloc(0);
    this.frames = [];
    // Nothing more it says can be trusted.
    this.socket.pause();
  }

  private flush(): void {
    const waiting = this.waiting;
    if (!waiting) return;
    if (this.frames.length > 0) {
      this.waiting = undefined;
      waiting.resolve(this.frames.shift());
    } else if (this.failure) {
      this.waiting = undefined;
      waiting.reject(this.failure);
    } else if (this.ended) {
      this.waiting = undefined;
      waiting.resolve(undefined);
    }
  }

  next(): Promise<Frame | undefined> {
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.flush();
    });
  }
}

/** The executor asked for a SYNC kind the protocol does not define. */
export class UnknownSyncKindError extends MalformedMessageError {
  constructor(readonly kind: number) {
    super(`SYNC of unknown kind ${kind}`);
  }
}

/** The executor asked for a SYNC the caller gave no handler for: the plan and the handlers disagree. */
export class UnservedSyncError extends ContainerError {
  constructor(readonly kind: SyncKindName) {
    super('EXECUTOR', `runc-ts-init asked for SYNC ${kind}, which this run does not answer`);
  }
}

/** Runs the handler of a SYNC request; its reply goes in the CONTINUE. */
async function answerSync(
  handlers: SyncHandlers,
  kind: number,
  pid: number,
): Promise<Buffer | undefined> {
  const name = syncKindName(kind);
  if (name === undefined) throw new UnknownSyncKindError(kind);
  const handler = handlers[name] as
    | ((pid: number) => Buffer | undefined | Promise<Buffer | undefined>)
    | undefined;
  if (handler === undefined) throw new UnservedSyncError(name);
  return handler(pid);
}

const MESSAGE_NAMES: Record<number, string> = {
  [MessageType.SYNC]: 'SYNC',
  [MessageType.PID]: 'PID',
  [MessageType.READY]: 'READY',
  [MessageType.ERROR]: 'ERROR',
};

/** The payload of a frame of fixed size, or a malformed-message error. */
function expectSize(frame: Frame, size: number): Buffer {
  if (frame.payload.length !== size) {
    throw new MalformedMessageError(
      `${MESSAGE_NAMES[frame.type]} with ${frame.payload.length} payload bytes, not ${size}`,
    );
  }
  return frame.payload;
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

/**
 * Renders an ERROR message as "<operation> <detail>: <reason>". Throws
 * MalformedMessageError when the payload is not an ERROR's (too short, or
 * a detail length that does not match).
 */
export function renderExecutorError(payload: Buffer): string {
  if (payload.length < 16) {
    throw new MalformedMessageError(`ERROR with ${payload.length} payload bytes, fewer than 16`);
  }
  const index = payload.readUInt32LE(0);
  const opcode = payload.readUInt16LE(4);
  const errno = payload.readInt32LE(8);
  const length = payload.readUInt32LE(12);
  if (length !== payload.length - 16) {
    throw new MalformedMessageError(
      `ERROR detail of ${length} bytes in a payload of ${payload.length - 16}`,
    );
  }
  const detail = payload.subarray(16).toString('utf8');
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
  const stdio: (number | 'ignore' | 'pipe')[] = [...options.stdio];
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
  options.onStart?.(child);

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
          const payload = expectSize(frame, 8);
          const kind = payload.readUInt32LE(0);
          const pid = payload.readUInt32LE(4);
          const reply = await answerSync(options.syncs, kind, pid);
          socket.write(encodeFrame(MessageType.CONTINUE, reply));
          break;
        }
        case MessageType.PID: {
          const pid = expectSize(frame, 4).readUInt32LE(0);
          // PID_MAX_LIMIT: no pid is larger.
          if (pid === 0 || pid > 4_194_304) throw new MalformedMessageError(`PID ${pid}`);
          initPid = pid;
          options.onPid(initPid);
          break;
        }
        case MessageType.READY:
          expectSize(frame, 0);
          return;
        case MessageType.ERROR:
          throw new ContainerError('EXECUTOR', renderExecutorError(frame.payload));
        default:
          throw new MalformedMessageError(`unknown message type ${frame.type}`);
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
