// Where libseccomp.so.2 is and which version it is, without loading it (or
// koffi): `runc --version` prints it on every call, so it must stay cheap.

import { realpathSync } from 'node:fs';
import { join } from 'node:path';

export const LIBSECCOMP_SONAME = 'libseccomp.so.2';

/** Debian/Ubuntu multiarch directory names of Node's architectures. */
const MULTIARCH: Record<string, string> = {
  x64: 'x86_64-linux-gnu',
  arm64: 'aarch64-linux-gnu',
  arm: 'arm-linux-gnueabihf',
  ia32: 'i386-linux-gnu',
  ppc64: 'powerpc64le-linux-gnu',
  s390x: 's390x-linux-gnu',
  riscv64: 'riscv64-linux-gnu',
  loong64: 'loongarch64-linux-gnu',
  mips64el: 'mips64el-linux-gnuabi64',
};

export interface LibseccompLocation {
  /** The path found (the soname symlink). */
  path: string;
  /** The file it resolves to. */
  realPath: string;
  /** X.Y.Z from the real file's name (libseccomp.so.2.5.4), if it has one. */
  version: string | undefined;
}

/**
 * The directories searched, in the dynamic linker's order for the usual
 * setups: $LD_LIBRARY_PATH, then the distribution's library directories.
 */
export function librarySearchPath(
  env: NodeJS.ProcessEnv = process.env,
  arch: string = process.arch,
): string[] {
  const dirs = (env.LD_LIBRARY_PATH ?? '').split(':').filter((dir) => dir.startsWith('/'));
  const multiarch = MULTIARCH[arch];
  for (const base of ['/usr/local/lib', '/lib', '/usr/lib']) {
    if (multiarch) dirs.push(join(base, multiarch));
  }
  dirs.push('/lib64', '/usr/lib64', '/usr/local/lib', '/lib', '/usr/lib');
  return [...new Set(dirs)];
}

/** Set to a library file, the only libseccomp runc-ts uses (tests, unusual installs). */
export const LIBSECCOMP_ENV = 'RUNC_TS_LIBSECCOMP';

function describeFile(path: string): LibseccompLocation | undefined {
  let realPath: string;
  try {
    realPath = realpathSync.native(path);
  } catch {
    return undefined;
  }
  const match = /libseccomp\.so\.(\d+\.\d+\.\d+)$/.exec(realPath);
  return { path, realPath, version: match?.[1] };
}

/**
 * Finds libseccomp.so.2 ($RUNC_TS_LIBSECCOMP if set, else on the search
 * path); undefined when it is not installed.
 */
export function locateLibseccomp(
  dirs: readonly string[] = librarySearchPath(),
  env: NodeJS.ProcessEnv = process.env,
): LibseccompLocation | undefined {
  const forced = env[LIBSECCOMP_ENV];
  if (forced) return describeFile(forced);
  for (const dir of dirs) {
    const found = describeFile(join(dir, LIBSECCOMP_SONAME));
    if (found) return found;
  }
  return undefined;
}

/**
 * The installed libseccomp's version ("2.5.4") read from its file name, or
 * undefined when libseccomp.so.2 is not found (or its name has no version).
 */
export function libseccompVersion(): string | undefined {
  return locateLibseccomp()?.version;
}
