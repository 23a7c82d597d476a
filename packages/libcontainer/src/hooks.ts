import type { Hook, State } from '@runc-ts/spec';
import { ContainerError } from './errors.js';

// child_process loads only when a process is spawned (start-up cost).
const childProcess = () => process.getBuiltinModule('node:child_process');

export type HookPhase =
  | 'prestart'
  | 'createRuntime'
  | 'createContainer'
  | 'startContainer'
  | 'poststart'
  | 'poststop';

/** How a hook ended, as both runners see it. */
interface HookResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  error?: NodeJS.ErrnoException;
}

function hookArgs(hook: Hook) {
  const args = hook.args ?? [hook.path];
  return {
    args: args.slice(1),
    argv0: args[0] ?? hook.path,
    env: Object.fromEntries(
      (hook.env ?? []).map((entry) => {
        const eq = entry.indexOf('=');
        return eq < 0 ? [entry, ''] : [entry.slice(0, eq), entry.slice(eq + 1)];
      }),
    ),
  };
}

/** HOOK for a hook that failed: a non-zero exit, a signal, the timeout, or no start. */
function hookFailure(
  phase: HookPhase,
  index: number,
  hook: Hook,
  result: HookResult,
): ContainerError | undefined {
  const where = `${phase} hook #${index} (${hook.path})`;
  const output = `${result.stderr}${result.stdout}`.trim();
  const detail = output ? `: ${output}` : '';
  // A hook may exit without reading its stdin; like runc, that is not an
  // error by itself: its exit status decides.
  const error = result.error;
  if (error && !(error.code === 'EPIPE' && (result.status !== null || result.signal))) {
    if (error.code === 'ETIMEDOUT') {
      return new ContainerError('HOOK', `${where}: timed out after ${hook.timeout}s`);
    }
    return new ContainerError('HOOK', `${where}: ${error.message}`, { cause: error });
  }
  if (result.signal) {
    return new ContainerError('HOOK', `${where}: killed by ${result.signal}${detail}`);
  }
  if (result.status !== 0) {
    return new ContainerError('HOOK', `${where}: exit status ${result.status}${detail}`);
  }
  return undefined;
}

/**
 * Runs the hooks of one phase in order, each with the container state as JSON
 * on stdin, its own args (args[0] is argv[0]) and env, and its timeout.
 * Throws on the first failure: a non-zero exit, a signal, or the timeout.
 * Blocks the event loop while a hook runs: for callers that cannot wait
 * otherwise (CRIU's notifications); runHooksAsync is the same without that.
 */
export function runHooks(phase: HookPhase, hooks: readonly Hook[] | undefined, state: State): void {
  (hooks ?? []).forEach((hook, index) => {
    const { args, argv0, env } = hookArgs(hook);
    const result = childProcess().spawnSync(hook.path, args, {
      argv0,
      env,
      input: JSON.stringify(state),
      timeout: hook.timeout === undefined ? undefined : hook.timeout * 1000,
      killSignal: 'SIGKILL',
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const failure = hookFailure(phase, index, hook, {
      status: result.status,
      signal: result.signal,
      stdout: result.stdout ?? '',
      stderr: result.stderr ?? '',
      error: result.error as NodeJS.ErrnoException | undefined,
    });
    if (failure) throw failure;
  });
}

/** runHooks waiting for each hook without blocking the event loop. */
export async function runHooksAsync(
  phase: HookPhase,
  hooks: readonly Hook[] | undefined,
  state: State,
): Promise<void> {
  for (const [index, hook] of (hooks ?? []).entries()) {
    const failure = hookFailure(phase, index, hook, await runHook(hook, JSON.stringify(state)));
    if (failure) throw failure;
  }
}

function runHook(hook: Hook, input: string): Promise<HookResult> {
  const { args, argv0, env } = hookArgs(hook);
  return new Promise((resolve) => {
    const result: HookResult = { status: null, signal: null, stdout: '', stderr: '' };
    const child = childProcess().spawn(hook.path, args, {
      argv0,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let timer: NodeJS.Timeout | undefined;
    if (hook.timeout !== undefined) {
      timer = setTimeout(() => {
        result.error = Object.assign(new Error('hook timed out'), { code: 'ETIMEDOUT' });
        child.kill('SIGKILL');
      }, hook.timeout * 1000);
    }
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      result.stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      result.stderr += chunk;
    });
    child.stdin.on('error', (error: NodeJS.ErrnoException) => {
      result.error ??= error;
    });
    child.stdin.end(input);
    child.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      result.error = error;
      resolve(result);
    });
    child.once('close', (status, signal) => {
      clearTimeout(timer);
      result.status = status;
      result.signal = signal;
      resolve(result);
    });
  });
}
