// --debug: what the executor is asked to do and how far it got, in the
// words runc's debug log uses for the same stages ("nsexec started",
// "child process in init()"), which its users and tests look for.

import type { Op, SyncKindName } from '@runc-ts/namespaces';
import {
  type ExecutorOptions,
  type ExecutorRun,
  runExecutor,
  type SyncHandlers,
} from './executor.js';

/** Longest string value shown in a debug line. */
const SHOWN_CHARS = 200;

/**
 * One op as a debug line shows it: strings quoted (cut at 200 characters),
 * lists and byte strings by their size only (an environment may hold
 * secrets; a seccomp program is unreadable anyway).
 */
export function describeOp(op: Op): string {
  const values = (op.args as readonly unknown[]).map((value) => {
    if (typeof value === 'string') {
      const shown = value.length > SHOWN_CHARS ? `${value.slice(0, SHOWN_CHARS)}…` : value;
      return JSON.stringify(shown);
    }
    if (typeof value === 'number' || typeof value === 'bigint') return String(value);
    if (value instanceof Uint8Array) return `<${value.length} bytes>`;
    if (Array.isArray(value)) {
      // ids (SETGROUPS) as they are; strings (argv, env) by count only
      return value.every((v) => typeof v !== 'string')
        ? `[${value.join(' ')}]`
        : `[${value.length} entries]`;
    }
    return String(value);
  });
  return [op.op, ...values].join(' ');
}

/** The same handlers, each SYNC served and answered said on `debug`. */
function traceSyncs(syncs: SyncHandlers, debug: (message: string) => void): SyncHandlers {
  const traced: Record<string, (pid: number) => unknown> = {};
  for (const [name, handler] of Object.entries(syncs) as [
    SyncKindName,
    (pid: number) => unknown,
  ][]) {
    traced[name] = async (pid: number) => {
      debug(`executor sync ${name} from pid ${pid}`);
      const reply = await handler(pid);
      debug(`executor sync ${name} answered`);
      return reply;
    };
  }
  return traced as SyncHandlers;
}

/**
 * runExecutor, with each step on `debug` when it is set: the plan (one line
 * per op), the SYNCs served, the forked process, READY or the failure.
 */
export async function runTracedExecutor(
  debug: ((message: string) => void) | undefined,
  stage: 'create' | 'exec',
  options: ExecutorOptions,
): Promise<ExecutorRun> {
  if (!debug) return runExecutor(options);
  debug(`${stage}: nsexec started: ${options.initPath} runs ${options.plan.length} operations`);
  debug(`${stage}: nsexec container setup: ${options.plan.map((op) => op.op).join(' ')}`);
  options.plan.forEach((op, index) => {
    debug(`${stage}: executor op #${index}: ${describeOp(op)}`);
  });
  const traced: ExecutorOptions = {
    ...options,
    onPid: (pid) => {
      debug(`${stage}: child process in init(): pid ${pid}`);
      options.onPid(pid);
    },
    syncs: traceSyncs(options.syncs, (message) => debug(`${stage}: ${message}`)),
  };
  try {
    const run = await runExecutor(traced);
    debug(`${stage}: executor reported READY (pid ${run.initPid})`);
    return run;
  } catch (error) {
    debug(`${stage}: executor failed: ${(error as Error).message}`);
    throw error;
  }
}
