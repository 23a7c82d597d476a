// Helpers for the tests that run as root on the real cgroup filesystems.

import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';

export const isRoot = process.getuid?.() === 0;

/** A cgroup name no other test or container uses. */
export function uniqueCgroupName(): string {
  return `runc-ts-test-${randomBytes(5).toString('hex')}`;
}

/**
 * Which of `files` (in that order of preference) the kernel gives a new
 * cgroup of the v1 hierarchy mounted at `mount`, probed in a throwaway child
 * cgroup as runc's own tests probe for optional files; undefined when it
 * gives none of them. blkio.weight, for one, exists only with the BFQ (or the
 * old CFQ) I/O scheduler, not with mq-deadline.
 */
export function probeV1File(mount: string, files: readonly string[]): string | undefined {
  const probe = join(mount, uniqueCgroupName());
  mkdirSync(probe);
  try {
    return files.find((file) => existsSync(join(probe, file)));
  } finally {
    rmdirSync(probe);
  }
}

/** blkio's weight file on this kernel, or why there is none (for the skip message). */
export function blkioWeightFile(
  blkioMount: string | undefined,
): { file: string; why?: undefined } | { file?: undefined; why: string } {
  if (!blkioMount) return { why: 'no blkio hierarchy is mounted' };
  const file = probeV1File(blkioMount, ['blkio.bfq.weight', 'blkio.weight']);
  if (file) return { file };
  return {
    why: `this kernel gives blkio cgroups no weight file (blkio.bfq.weight, blkio.weight: the block devices' I/O scheduler is not BFQ); runc fails a blockIO.weight here too`,
  };
}

/**
 * A shell that waits for a line on stdin before running `script`, so that
 * it can be moved into a cgroup first and everything it starts is in there.
 */
export interface WaitingShell {
  pid: number;
  start(): void;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(): void;
}

const live = new Set<ChildProcessWithoutNullStreams>();

export function spawnWaitingShell(script: string): WaitingShell {
  const child = spawn('/bin/sh', ['-c', `read go; ${script}`], { stdio: 'pipe' });
  live.add(child);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
  });
  if (child.pid === undefined) throw new Error('/bin/sh did not start');
  return {
    pid: child.pid,
    start: () => child.stdin.write('go\n'),
    output: () => output,
    exited,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** Kills every shell a test started (and, through the process group, nothing else). */
export async function killShells(): Promise<void> {
  const waiting = [...live].map(
    (child) =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  );
  await Promise.all(waiting);
}

/** Every pid in `cgroupDir` (cgroup.procs), killed with SIGKILL; the processes are ours by construction. */
export function killCgroupProcesses(cgroupDir: string): void {
  let text = '';
  try {
    text = readFileSync(`${cgroupDir}/cgroup.procs`, 'utf8');
  } catch {
    return;
  }
  for (const line of text.split('\n')) {
    const pid = Number(line);
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
}

export async function waitFor(
  condition: () => boolean,
  timeoutMs = 5000,
  what = 'condition',
): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not met after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export function processState(pid: number): string | undefined {
  try {
    return /^State:\s+(\S)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}
