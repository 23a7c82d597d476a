import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ContainerError, describeSystemError } from './errors.js';
import { runningInUserNamespace, shouldHonorXdgRuntimeDir } from './rootless.js';

/**
 * Default `--root`: /run/runc-ts, or $XDG_RUNTIME_DIR/runc-ts when runc would
 * use $XDG_RUNTIME_DIR/runc (a non-root user, or root in a user namespace
 * whose $USER is not root). Our own name, beside runc's: the two runtimes'
 * state files differ, and neither must list or delete the other's containers.
 */
export function defaultStateRoot(
  euid = process.geteuid?.() ?? 0,
  env: NodeJS.ProcessEnv = process.env,
  inUserNamespace: () => boolean = runningInUserNamespace,
): string {
  if (shouldHonorXdgRuntimeDir(env, euid, inUserNamespace))
    return join(env.XDG_RUNTIME_DIR!, 'runc-ts');
  return '/run/runc-ts';
}

/** Whether `root` is the default under $XDG_RUNTIME_DIR (see prepareXdgStateRoot). */
export function isXdgStateRoot(root: string, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.XDG_RUNTIME_DIR) && root === join(env.XDG_RUNTIME_DIR!, 'runc-ts');
}

/**
 * Creates the default state directory under $XDG_RUNTIME_DIR, mode 0700 with
 * the sticky bit: the XDG base directory spec lets a session manager prune
 * files there that were not touched for 6 hours, except those with the sticky
 * bit (runc does the same for $XDG_RUNTIME_DIR/runc).
 */
export function prepareXdgStateRoot(root: string): void {
  try {
    mkdirSync(root, { recursive: true, mode: 0o700 });
    chmodSync(root, 0o1700);
  } catch (error) {
    throw new ContainerError(
      'STATE_ROOT',
      `cannot create the state directory ${root}: ${describeSystemError(error)}. The path in $XDG_RUNTIME_DIR must be a directory this user can write (usually /run/user/$UID, made by the login session); set XDG_RUNTIME_DIR to one, or pass --root DIR`,
      { cause: error },
    );
  }
}
