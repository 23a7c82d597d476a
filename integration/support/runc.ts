import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
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
