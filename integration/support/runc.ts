import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(fileURLToPath(import.meta.url), '../../..');

/** The built CLI under test (run `pnpm build` first). */
export const runcTs = join(repoRoot, 'packages/cli/bin/runc');

/** runc 1.1.5 from Debian, the reference the behaviour is compared with. */
export const referenceRunc = '/usr/sbin/runc';

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

let captures = 0;

export interface CaptureOptions {
  /** Where the output files go. */
  dir: string;
  cwd?: string;
  /** stdin: this text, or nothing (closed) when undefined. */
  input?: string;
  env?: NodeJS.ProcessEnv;
  timeout?: number;
  /** Keep the output files (their paths are returned in `files`). */
  keep?: boolean;
}

/**
 * Runs a command to its end with stdout and stderr going through files, not
 * pipes: a created container's init keeps its stdio open, as with runc, and
 * a pipe would keep the call waiting for it.
 */
export function runCaptured(
  binary: string,
  args: readonly string[],
  options: CaptureOptions,
): RunResult & { files: [string, string] } {
  captures++;
  const out = join(options.dir, `.out-${process.pid}-${captures}`);
  const err = join(options.dir, `.err-${process.pid}-${captures}`);
  const outFd = openSync(out, 'w+');
  const errFd = openSync(err, 'w+');
  try {
    const child = spawnSync(binary, args, {
      cwd: options.cwd,
      input: options.input,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', outFd, errFd],
      env: options.env,
      timeout: options.timeout ?? 20_000,
    });
    if (child.error) throw child.error;
    return {
      status: child.status ?? -1,
      stdout: readFileSync(out, 'utf8'),
      stderr: readFileSync(err, 'utf8'),
      files: [out, err],
    };
  } finally {
    closeSync(outFd);
    closeSync(errFd);
    if (!options.keep) {
      rmSync(out, { force: true });
      rmSync(err, { force: true });
    }
  }
}

export function run(binary: string, args: readonly string[], cwd?: string): RunResult {
  const child = spawnSync(binary, args, { cwd, encoding: 'utf8', timeout: 20_000 });
  if (child.error) throw child.error;
  return { status: child.status ?? -1, stdout: child.stdout, stderr: child.stderr };
}

export function runTs(args: readonly string[], cwd?: string): RunResult {
  return run(runcTs, args, cwd);
}

/** A fresh temporary directory, removed by the returned cleanup function. */
export function tempDir(prefix: string): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), `runc-ts-it-${prefix}-`));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

export function requireFile(path: string, why: string): void {
  if (!existsSync(path)) throw new Error(`${path} is missing: ${why}`);
}
