import { closeSync, openSync, statSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { exampleSpec, renderSpec, type Spec, toRootless } from '@runc-ts/spec';
import { ContainerError, describeSystemError } from './errors.js';
import { isCgroup2UnifiedMode } from './host.js';

export interface WriteSpecOptions {
  /** Bundle directory; the config is written to `<bundle>/config.json`. */
  bundle: string;
  /** Produce a config for an unprivileged user (`runc spec --rootless`). */
  rootless?: boolean;
}

/** The config `runc spec` would write on this host, for this user. */
export function starterSpec(rootless = false): Spec {
  const spec = exampleSpec({ cgroupNamespace: isCgroup2UnifiedMode() });
  return rootless ? toRootless(spec, { uid: process.geteuid!(), gid: process.getegid!() }) : spec;
}

/**
 * `runc spec`: writes a starter config.json into the bundle. Never overwrites:
 * the file is created exclusively, so a concurrent writer cannot be clobbered.
 * Returns the path written.
 */
export function writeStarterSpec(options: WriteSpecOptions): string {
  const bundle = resolve(options.bundle);
  let isDirectory = false;
  try {
    isDirectory = statSync(bundle).isDirectory();
  } catch (error) {
    throw new ContainerError(
      'BUNDLE_INVALID',
      `bundle directory ${bundle}: ${describeSystemError(error)}`,
      { cause: error },
    );
  }
  if (!isDirectory) {
    throw new ContainerError('BUNDLE_INVALID', `bundle ${bundle} is not a directory`);
  }
  const target = join(bundle, 'config.json');
  const text = renderSpec(starterSpec(options.rootless));
  let fd: number;
  try {
    fd = openSync(target, 'wx', 0o666);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      // runc's exact wording: scripts match on it.
      throw new ContainerError('CONFIG_EXISTS', 'File config.json exists. Remove it first', {
        cause: error,
      });
    }
    throw new ContainerError('BUNDLE_INVALID', `create ${target}: ${describeSystemError(error)}`, {
      cause: error,
    });
  }
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
  return target;
}
