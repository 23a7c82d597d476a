// The container's stdin, stdout and stderr as the caller gives them: fds of
// this process, /dev/null, or Node streams, which are connected through pipes.

import type { ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { ContainerError } from './errors.js';

/**
 * One of the container's stdin, stdout, stderr: an fd of this process
 * (0, 1, 2 pass this process' own on), `'ignore'` (/dev/null), or a stream:
 * a Readable for stdin, a Writable for stdout/stderr; the process' output is
 * copied into it (which is not ended) and its input copied from it.
 */
export type StdioTarget = number | 'ignore' | Readable | Writable;

/** stdin, stdout, stderr. Without it the process gets /dev/null for all three. */
export type Stdio = readonly [StdioTarget, StdioTarget, StdioTarget];

export const NULL_STDIO: Stdio = ['ignore', 'ignore', 'ignore'];

export interface ResolvedStdio {
  /** What the executor is spawned with for fds 0-2. */
  spawn: [number | 'ignore' | 'pipe', number | 'ignore' | 'pipe', number | 'ignore' | 'pipe'];
  /** Connects the caller's streams to the spawned executor's pipes. */
  attach(child: ChildProcess): void;
  /** Settles once every output stream has had all the output (no pipe: at once). */
  drained(child: ChildProcess): Promise<void>;
}

const NAMES = ['stdin', 'stdout', 'stderr'] as const;

function isStream(value: unknown): value is Readable | Writable {
  return (
    typeof value === 'object' && value !== null && typeof (value as Readable).on === 'function'
  );
}

/** Checks the caller's stdio and says how the executor gets it. */
export function resolveStdio(stdio: Stdio | undefined): ResolvedStdio {
  const given = stdio ?? NULL_STDIO;
  if (!Array.isArray(given) || given.length !== 3) {
    throw new ContainerError('OPTION_INVALID', 'stdio: expected [stdin, stdout, stderr]');
  }
  const spawn = given.map((target, fd) => {
    if (target === 'ignore') return 'ignore';
    if (typeof target === 'number') {
      if (!Number.isInteger(target) || target < 0) {
        throw new ContainerError('OPTION_INVALID', `stdio.${NAMES[fd]}: ${target} is not an fd`);
      }
      return target;
    }
    if (!isStream(target)) {
      throw new ContainerError(
        'OPTION_INVALID',
        `stdio.${NAMES[fd]}: expected an fd, 'ignore' or a stream`,
      );
    }
    const readable = typeof (target as Readable).read === 'function';
    const writable = typeof (target as Writable).write === 'function';
    if (fd === 0 ? !readable : !writable) {
      throw new ContainerError(
        'OPTION_INVALID',
        `stdio.${NAMES[fd]}: expected a ${fd === 0 ? 'readable' : 'writable'} stream`,
      );
    }
    return 'pipe';
  }) as ResolvedStdio['spawn'];
  return {
    spawn,
    attach(child) {
      const input = given[0];
      if (spawn[0] === 'pipe' && child.stdin) {
        // The process may exit before it read everything: not an error.
        child.stdin.on('error', () => {});
        (input as Readable).pipe(child.stdin);
      }
      for (const fd of [1, 2] as const) {
        const source = fd === 1 ? child.stdout : child.stderr;
        if (spawn[fd] === 'pipe' && source) source.pipe(given[fd] as Writable, { end: false });
      }
    },
    drained(child) {
      const pipes = [1, 2]
        .filter((fd) => spawn[fd] === 'pipe')
        .map((fd) => (fd === 1 ? child.stdout : child.stderr))
        .filter((source) => source !== null && !source.readableEnded && !source.destroyed);
      return Promise.all(
        pipes.map(
          (source) =>
            new Promise<void>((resolve) => {
              source?.once('close', resolve);
              source?.once('end', resolve);
            }),
        ),
      ).then(() => undefined);
    },
  };
}
