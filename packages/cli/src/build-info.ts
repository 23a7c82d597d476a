import { libseccompVersion } from '@runc-ts/seccomp';
import { OCI_VERSION } from '@runc-ts/spec';

// Replaced at bundle time by tsup (see tsup.config.ts); tests and tsx runs
// fall back to "dev".
declare const __RUNC_TS_VERSION__: string | undefined;
declare const __RUNC_TS_COMMIT__: string | undefined;

export const buildInfo = {
  version: typeof __RUNC_TS_VERSION__ === 'string' ? __RUNC_TS_VERSION__ : 'dev',
  commit: typeof __RUNC_TS_COMMIT__ === 'string' ? __RUNC_TS_COMMIT__ : 'unknown',
};

/** `runc --version`, in runc's layout: one `key: value` line per component. */
export function versionText(): string {
  return [
    // "runc version X" is what tools and runc's test suite match on.
    `runc version ${buildInfo.version} (runc-ts)`,
    `commit: ${buildInfo.commit}`,
    `spec: ${OCI_VERSION}`,
    // The JavaScript runtime, where runc prints its Go version.
    typeof process.versions.bun === 'string'
      ? `bun: ${process.versions.bun}`
      : `node: ${process.version}`,
    // From the library's file name: loading it (koffi) would slow every call.
    `libseccomp: ${libseccompVersion() ?? 'not found'}`,
  ].join('\n');
}
