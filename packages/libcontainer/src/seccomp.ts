// linux.seccomp for create and exec: the compiled filter the planner places
// (cached per profile, docs/seccomp.md), and the container process state the
// executor hands the seccomp agent with the listener.

import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { SeccompPlan } from '@runc-ts/namespaces';
import { compileSeccomp, libseccompVersion, SeccompError } from '@runc-ts/seccomp';
import { OCI_VERSION, type Spec, type State } from '@runc-ts/spec';
import { ContainerError } from './errors.js';

export { libseccompVersion };

/** Bump when the compiler's output for the same profile and libseccomp changes. */
const CACHE_FORMAT = 1;
const CACHE_PREFIX = '.seccomp-';
const CACHE_SUFFIX = '.json';
/** Compiled profiles kept per state root; the oldest go first. */
const CACHE_ENTRIES = 16;

export interface ContainerSeccompOptions {
  /**
   * Where compiled programs are cached (files `.seccomp-<hash>.json`);
   * default `defaultSeccompCacheDir()`, `false`: no cache.
   */
  cacheDir?: string | false;
}

/**
 * The compiled-profile cache: /run/runc-ts-seccomp for root,
 * $XDG_RUNTIME_DIR/runc-ts-seccomp for other users (none without it). Not
 * under --root: it outlives containers, and a state directory holds only
 * containers. A tmpfs: a reboot (or a new libseccomp) starts it afresh.
 */
export function defaultSeccompCacheDir(
  euid = process.geteuid?.() ?? 0,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (euid === 0) return '/run/runc-ts-seccomp';
  return env.XDG_RUNTIME_DIR ? `${env.XDG_RUNTIME_DIR}/runc-ts-seccomp` : undefined;
}

/**
 * Whether the cache directory can be trusted: ours and writable by nobody
 * else (a planted entry would be a filter bypass). Creates it when missing.
 */
function usableCacheDir(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(dir);
    return st.isDirectory() && st.uid === (process.geteuid?.() ?? 0) && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

interface CacheEntry {
  format: number;
  program: string;
  flags: number;
  listenerPath?: string;
}

/**
 * node:crypto on first use only: a top-level import would cost every command
 * of the CLI ~1 ms at start-up. (`require` is the CLI bundle's own; Node
 * before 20.16 has no getBuiltinModule.)
 */
function loadCrypto(): typeof import('node:crypto') {
  if (typeof process.getBuiltinModule === 'function')
    return process.getBuiltinModule('node:crypto');
  const load = typeof require === 'function' ? require : createRequire(import.meta.url);
  return load('node:crypto') as typeof import('node:crypto');
}

function cacheKey(seccomp: unknown): string {
  const { createHash } = loadCrypto();
  return createHash('sha256')
    .update(
      JSON.stringify({
        format: CACHE_FORMAT,
        libseccomp: libseccompVersion() ?? 'none',
        arch: process.arch,
        seccomp,
      }),
    )
    .digest('hex')
    .slice(0, 40);
}

function readCache(file: string): SeccompPlan | undefined {
  let entry: CacheEntry;
  try {
    entry = JSON.parse(readFileSync(file, 'utf8')) as CacheEntry;
  } catch {
    return undefined;
  }
  if (entry.format !== CACHE_FORMAT || typeof entry.flags !== 'number') return undefined;
  const program = Buffer.from(entry.program ?? '', 'base64');
  if (program.length === 0 || program.length % 8 !== 0) return undefined;
  const plan: SeccompPlan = { program, flags: entry.flags };
  if (entry.listenerPath) plan.listenerPath = entry.listenerPath;
  return plan;
}

/** Best effort: a cache that cannot be written only costs the next compile. */
function writeCache(dir: string, file: string, plan: SeccompPlan): void {
  const entry: CacheEntry = {
    format: CACHE_FORMAT,
    program: Buffer.from(plan.program).toString('base64'),
    flags: plan.flags,
  };
  if (plan.listenerPath) entry.listenerPath = plan.listenerPath;
  const temp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, JSON.stringify(entry), { mode: 0o600 });
    renameSync(temp, file);
  } catch {
    try {
      unlinkSync(temp);
    } catch {
      // never written
    }
    return;
  }
  pruneCache(dir);
}

function pruneCache(dir: string): void {
  try {
    const entries = readdirSync(dir)
      .filter((name) => name.startsWith(CACHE_PREFIX) && name.endsWith(CACHE_SUFFIX))
      .map((name) => ({ path: join(dir, name), mtime: statSync(join(dir, name)).mtimeMs }))
      .sort((a, b) => b.mtime - a.mtime);
    for (const old of entries.slice(CACHE_ENTRIES)) unlinkSync(old.path);
  } catch {
    // another process pruned at the same time
  }
}

/**
 * The compiled `linux.seccomp` of `spec` for the plan context (PlanContext
 * and ExecPlanContext `seccomp`), or undefined when it has none. libseccomp
 * is loaded only when the profile is not in the cache. Throws
 * ContainerError('PLAN') naming the field for a profile that cannot be
 * compiled, or when libseccomp is not installed.
 */
export function containerSeccomp(
  spec: Spec,
  options: ContainerSeccompOptions = {},
): SeccompPlan | undefined {
  const seccomp = spec.linux?.seccomp;
  if (seccomp === undefined) return undefined;
  const dir =
    options.cacheDir === false ? undefined : (options.cacheDir ?? defaultSeccompCacheDir());
  const file =
    dir && usableCacheDir(dir)
      ? join(dir, `${CACHE_PREFIX}${cacheKey(seccomp)}${CACHE_SUFFIX}`)
      : undefined;
  const cached = file ? readCache(file) : undefined;
  if (cached) return cached;
  let plan: SeccompPlan;
  try {
    const compiled = compileSeccomp(seccomp);
    plan = { program: compiled.program, flags: compiled.flags };
    if (compiled.notify && compiled.listenerPath) plan.listenerPath = compiled.listenerPath;
  } catch (error) {
    if (error instanceof SeccompError) {
      throw new ContainerError('PLAN', error.message, { cause: error });
    }
    throw error;
  }
  if (file && dir) writeCache(dir, file, plan);
  return plan;
}

/**
 * What the seccomp agent at listenerPath receives with the listener fd (the
 * answer to SYNC(SECCOMP)): the runtime-spec's container process state.
 * `pid` is the process the filter was loaded for (the init for create, the
 * new process for exec), as the runtime sees it.
 */
export function seccompAgentState(spec: Spec, pid: number, state: State): Buffer {
  const message: Record<string, unknown> = {
    ociVersion: OCI_VERSION,
    fds: ['seccompFd'],
    pid,
  };
  const metadata = spec.linux?.seccomp?.listenerMetadata;
  if (metadata) message.metadata = metadata;
  message.state = state;
  return Buffer.from(JSON.stringify(message));
}
