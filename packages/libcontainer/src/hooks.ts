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

/**
 * Runs the hooks of one phase in order, each with the container state as JSON
 * on stdin, its own args (args[0] is argv[0]) and env, and its timeout.
 * Throws on the first failure: a non-zero exit, a signal, or the timeout.
 */
export function runHooks(phase: HookPhase, hooks: readonly Hook[] | undefined, state: State): void {
  (hooks ?? []).forEach((hook, index) => {
    const args = hook.args ?? [hook.path];
    const result = childProcess().spawnSync(hook.path, args.slice(1), {
      argv0: args[0] ?? hook.path,
      env: Object.fromEntries(
        (hook.env ?? []).map((entry) => {
          const eq = entry.indexOf('=');
          return eq < 0 ? [entry, ''] : [entry.slice(0, eq), entry.slice(eq + 1)];
        }),
      ),
      input: JSON.stringify(state),
      timeout: hook.timeout === undefined ? undefined : hook.timeout * 1000,
      killSignal: 'SIGKILL',
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const where = `${phase} hook #${index} (${hook.path})`;
    const output = `${result.stderr ?? ''}${result.stdout ?? ''}`.trim();
    const detail = output ? `: ${output}` : '';
    // A hook may exit without reading its stdin; like runc, that is not an
    // error by itself: its exit status decides.
    const error = result.error as NodeJS.ErrnoException | undefined;
    if (error && !(error.code === 'EPIPE' && (result.status !== null || result.signal))) {
      const err = error;
      if (err.code === 'ETIMEDOUT') {
        throw new ContainerError('HOOK', `${where}: timed out after ${hook.timeout}s`);
      }
      throw new ContainerError('HOOK', `${where}: ${err.message}`, { cause: err });
    }
    if (result.signal) {
      throw new ContainerError('HOOK', `${where}: killed by ${result.signal}${detail}`);
    }
    if (result.status !== 0) {
      throw new ContainerError('HOOK', `${where}: exit status ${result.status}${detail}`);
    }
  });
}
