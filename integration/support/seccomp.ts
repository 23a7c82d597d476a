import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type RunResult, referenceRunc, repoRoot, runCaptured } from './runc.js';

/** native/tests/seccompagent.c, built by `make -C native`. */
export const agentBinary = join(repoRoot, 'native/build/seccompagent');

export interface Agent {
  socket: string;
  pid: number;
  /** The lines the agent logged: `state <json>`, `fds <n>`, `notify …`. */
  log(): string[];
  /** The container process states it received, parsed. */
  states(): any[];
  stop(): void;
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Starts the test seccomp agent with its socket in `dir`; waits until it listens. */
export function startAgent(dir: string, name = 'agent'): Agent {
  const socket = join(dir, `${name}.sock`);
  const pidFile = join(dir, `${name}.pid`);
  const logFile = join(dir, `${name}.log`);
  rmSync(pidFile, { force: true });
  const child = spawn(
    agentBinary,
    [`-socketfile=${socket}`, `-pid-file=${pidFile}`, `-log=${logFile}`],
    { stdio: 'ignore', detached: true },
  );
  child.unref();
  const deadline = Date.now() + 5000;
  while (!existsSync(pidFile) || readFileSync(pidFile, 'utf8') === '') {
    if (Date.now() > deadline) throw new Error(`seccomp agent did not start (${socket})`);
    sleep(10);
  }
  const pid = Number(readFileSync(pidFile, 'utf8'));
  const log = () =>
    existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').filter(Boolean) : [];
  return {
    socket,
    pid,
    log,
    states: () =>
      log()
        .filter((line) => line.startsWith('state '))
        .map((line) => JSON.parse(line.slice('state '.length))),
    stop: () => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
      rmSync(socket, { force: true });
    },
  };
}

/**
 * Runs the reference runc with its own --root under `dir`; output goes
 * through files, as Sandbox.runc does (a container keeps its stdio open).
 */
export function runReference(dir: string, args: readonly string[]): RunResult {
  const result = runCaptured(referenceRunc, ['--root', join(dir, 'reference-root'), ...args], {
    dir,
    input: '',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Builds support/seccomp-probe.c as a static binary at `target`; undefined
 * (with the compiler's complaint) when there is no C compiler with a static libc.
 */
export function buildProbe(target: string): string | undefined {
  const source = join(repoRoot, 'integration/support/seccomp-probe.c');
  const built = spawnSync('cc', ['-static', '-O2', '-o', target, source], { encoding: 'utf8' });
  if (built.error || built.status !== 0) {
    return `cc -static failed: ${built.error?.message ?? built.stderr}`;
  }
  return undefined;
}
