// Where the executor runc-ts-init is when the caller does not say: shipped in
// this package's bin/ (the build copies it there), or in @runc-ts/cli's.
// Found from this module's own location, never from the environment or the
// working directory, which whoever starts the program controls.

import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ContainerError } from './errors.js';

/** The places looked at, in order, from a module at `moduleUrl`. */
export function executorCandidates(moduleUrl: string): string[] {
  // dist/index.js and src/*.ts are both one level below the package root.
  const candidates = [join(dirname(fileURLToPath(moduleUrl)), '..', 'bin', 'runc-ts-init')];
  try {
    const cli = createRequire(moduleUrl).resolve('@runc-ts/cli');
    candidates.push(join(dirname(cli), '..', 'bin', 'runc-ts-init'));
  } catch {
    // @runc-ts/cli is not installed.
  }
  return candidates;
}

/** The first executable candidate, or EXECUTOR_NOT_FOUND naming where it looked. */
export function locateExecutor(candidates: readonly string[]): string {
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not there, or not executable
    }
  }
  throw new ContainerError(
    'EXECUTOR_NOT_FOUND',
    `runc-ts-init not found (looked at ${candidates.join(', ')}): build it (pnpm build), or pass initPath`,
  );
}

/** The executor next to this package (or @runc-ts/cli's). */
export function defaultExecutorPath(): string {
  const url = typeof import.meta.url === 'string' ? import.meta.url : undefined;
  if (!url) {
    throw new ContainerError(
      'EXECUTOR_NOT_FOUND',
      'runc-ts-init cannot be looked for from a bundle without import.meta.url: pass initPath',
    );
  }
  return locateExecutor(executorCandidates(url));
}
