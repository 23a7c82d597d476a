// Rootless test support: an unprivileged test user (created when missing,
// with /etc/subuid and /etc/subgid ranges) and a sandbox whose files it owns,
// to run the built runc as that user. The user runs a copy of the built runc
// in the sandbox (scripts/stage-runtime.mjs), not the checkout's: the
// checkout may be out of its reach (under root's 0700 home, say), and is
// never opened up for it.

import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { exampleSpec, renderSpec, type Spec, toRootless } from '@runc-ts/spec';
import { type RunResult, repoRoot, runCaptured } from './runc.js';

/** The unprivileged user the rootless tests (and `ROOTLESS=1 scripts/runc-suite`) use. */
export const ROOTLESS_USER = 'runc-ts-test';
/** A user without /etc/subuid and /etc/subgid entries, for the error test. */
export const NO_SUBID_USER = 'runc-ts-nosubid';

export interface IdRange {
  start: number;
  count: number;
}

export interface TestUser {
  name: string;
  uid: number;
  gid: number;
  /** Its first /etc/subuid and /etc/subgid ranges (none for NO_SUBID_USER). */
  subuid?: IdRange;
  subgid?: IdRange;
}

const SUBID_SIZE = 65536;

function must(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.error) throw new Error(`${command}: ${result.error.message}`);
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  }
  return result.stdout;
}

function ids(name: string): { uid: number; gid: number } | undefined {
  const result = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  if (result.status !== 0) return undefined;
  return { uid: Number(result.stdout.trim()), gid: Number(must('id', ['-g', name]).trim()) };
}

function rangesOf(file: string, user: { name: string; uid: number }): IdRange[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.split(':'))
    .filter(([owner]) => owner === user.name || owner === String(user.uid))
    .map(([, start, count]) => ({ start: Number(start), count: Number(count) }));
}

/** The first free SUBID_SIZE-aligned range at or above 100000 in `file`. */
function freeRange(file: string): IdRange {
  let end = 100000;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [, start, count] = line.split(':');
    if (start && count) end = Math.max(end, Number(start) + Number(count));
  }
  return { start: Math.ceil(end / SUBID_SIZE) * SUBID_SIZE, count: SUBID_SIZE };
}

/**
 * The user `name`, created when missing (root only; idempotent): a login-less
 * account without a home. With `subids` it gets one /etc/subuid and one
 * /etc/subgid range of 65536 ids when it has none; without, any it has are
 * removed.
 */
export function ensureTestUser(name: string, options: { subids: boolean }): TestUser {
  if (!ids(name)) {
    const result = spawnSync(
      'useradd',
      [
        ...(options.subids ? [] : ['--system']),
        '--user-group',
        '--no-create-home',
        '--home-dir',
        '/nonexistent',
        '--shell',
        '/usr/sbin/nologin',
        name,
      ],
      { encoding: 'utf8' },
    );
    // 9: created meanwhile by a concurrent run
    if (result.status !== 0 && result.status !== 9) {
      throw new Error(`useradd ${name} failed (${result.status}): ${result.stderr}`);
    }
  }
  const found = ids(name);
  if (!found) throw new Error(`user ${name} does not exist after useradd`);
  const user = { name, ...found };
  for (const [file, flag, delFlag] of [
    ['/etc/subuid', '--add-subuids', '--del-subuids'],
    ['/etc/subgid', '--add-subgids', '--del-subgids'],
  ] as const) {
    if (!existsSync(file)) writeFileSync(file, '', { mode: 0o644 });
    const ranges = rangesOf(file, user);
    if (options.subids && ranges.length === 0) {
      const range = freeRange(file);
      must('usermod', [flag, `${range.start}-${range.start + range.count - 1}`, name]);
    }
    if (!options.subids) {
      for (const range of ranges) {
        must('usermod', [delFlag, `${range.start}-${range.start + range.count - 1}`, name]);
      }
    }
  }
  return {
    ...user,
    subuid: rangesOf('/etc/subuid', user)[0],
    subgid: rangesOf('/etc/subgid', user)[0],
  };
}

/** Why rootless tests cannot run here, or undefined when they can. */
export function rootlessUnavailable(): string | undefined {
  if (process.geteuid?.() !== 0) return 'the tests need root to create the test user';
  for (const tool of ['useradd', 'setpriv', 'newuidmap', 'newgidmap']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
      return `${tool} is not installed (scripts/setup installs it)`;
    }
  }
  return undefined;
}

export const shellQuote = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`;

export interface RunAsOptions {
  cwd?: string;
  input?: string;
  timeout?: number;
  /** Changes to the environment; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
}

let counter = 0;

/**
 * Copies the built runc to `dir` (scripts/stage-runtime.mjs): every user may
 * read and run the copy, `<dir>/packages/cli/bin/runc`, and
 * `<dir>/scripts/make-busybox-bundle`.
 */
export function stageRuntime(dir: string): { runc: string; makeBusyboxBundle: string } {
  const staged = spawnSync(process.execPath, [join(repoRoot, 'scripts/stage-runtime.mjs'), dir], {
    encoding: 'utf8',
  });
  if (staged.status !== 0) {
    throw new Error(`scripts/stage-runtime.mjs ${dir} failed: ${staged.stderr || staged.error}`);
  }
  return {
    runc: join(dir, 'packages/cli/bin/runc'),
    makeBusyboxBundle: join(dir, 'scripts/make-busybox-bundle'),
  };
}

/** The directories of the user's PATH: a login's, and the one of the node running the tests. */
const USER_PATH = [
  ...new Set([
    '/usr/local/sbin',
    '/usr/local/bin',
    '/usr/sbin',
    '/usr/bin',
    '/sbin',
    '/bin',
    dirname(process.execPath),
  ]),
].join(':');

/** setpriv by absolute path: a test may give the user a PATH without it. */
const SETPRIV =
  spawnSync('sh', ['-c', 'command -v setpriv'], { encoding: 'utf8' }).stdout.trim() || 'setpriv';

/**
 * A private directory owned by the test user (mode 0700 under /tmp, which
 * every user can traverse) holding busybox bundles, --root, $HOME and
 * $XDG_RUNTIME_DIR and the user's copy of the built runc, and a way to run
 * commands as that user.
 */
export class RootlessSandbox {
  readonly dir: string;
  readonly root: string;
  readonly home: string;
  readonly xdg: string;
  /** The copy of the built runc the user runs (the checkout's may be out of its reach). */
  readonly runcBinary: string;
  private readonly makeBusyboxBundle: string;
  private readonly prefix = `rl${process.pid}x`;
  private template: string | undefined;

  constructor(readonly user: TestUser) {
    this.dir = mkdtempSync('/tmp/runc-ts-rootless-');
    this.root = join(this.dir, 'state');
    this.home = join(this.dir, 'home');
    this.xdg = join(this.dir, 'xdg');
    for (const dir of [this.home, this.xdg]) mkdirSync(dir, { mode: 0o700 });
    for (const dir of [this.dir, this.home, this.xdg]) chownSync(dir, user.uid, user.gid);
    chmodSync(this.dir, 0o700);
    const staged = stageRuntime(join(this.dir, 'runtime'));
    this.runcBinary = staged.runc;
    this.makeBusyboxBundle = staged.makeBusyboxBundle;
    const version = this.run([this.runcBinary, '--version']);
    if (version.status !== 0) {
      throw new Error(
        `${user.name} cannot run its copy of runc ${this.runcBinary} (exit ${version.status}): ${version.stderr}`,
      );
    }
  }

  id(label = 'c'): string {
    counter++;
    return `${this.prefix}${counter}-${label}`;
  }

  /** The environment the user's commands get: a login-like one in the sandbox. */
  environment(changes: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {
      PATH: USER_PATH,
      HOME: this.home,
      USER: this.user.name,
      LOGNAME: this.user.name,
      XDG_RUNTIME_DIR: this.xdg,
    };
    for (const [key, value] of Object.entries(changes)) {
      if (value === undefined) delete env[key];
      else env[key] = value;
    }
    return env;
  }

  /** argv that runs `command` as the user (setpriv keeps the environment it is given). */
  asUser(command: readonly string[]): string[] {
    return [
      SETPRIV,
      `--reuid=${this.user.uid}`,
      `--regid=${this.user.gid}`,
      '--init-groups',
      '--',
      ...command,
    ];
  }

  /** A shell command line (for tmux) that runs `script` as the user in the sandbox's environment. */
  shellAsUser(script: string, env: Record<string, string | undefined> = {}): string {
    const assignments = Object.entries(this.environment(env)).map(([k, v]) => `${k}=${v}`);
    return [...this.asUser(['env', '-i', ...assignments, 'sh', '-c', script])]
      .map((word, i) => (i === 0 ? word : shellQuote(word)))
      .join(' ');
  }

  /**
   * Runs `command` as the user. Output goes through files: a created
   * container's init keeps its stdio open, and a pipe would keep us waiting.
   */
  run(command: readonly string[], options: RunAsOptions = {}): RunResult {
    const [binary, ...args] = this.asUser(command);
    const result = runCaptured(binary!, args, {
      dir: this.dir,
      cwd: options.cwd ?? this.dir,
      input: options.input ?? '',
      env: this.environment(options.env),
      timeout: options.timeout,
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  /** Our runc as the user, with the sandbox's --root unless `root` is null (the default root). */
  runc(args: readonly string[], options: RunAsOptions & { root?: string | null } = {}): RunResult {
    const root = options.root === null ? [] : ['--root', options.root ?? this.root];
    return this.run([this.runcBinary, ...root, ...args], options);
  }

  state(id: string): any {
    const result = this.runc(['state', id]);
    if (result.status !== 0) throw new Error(`state ${id}: ${result.stderr}`);
    return JSON.parse(result.stdout);
  }

  /** A busybox rootfs made by the user (scripts/make-busybox-bundle), copied per bundle. */
  rootfsBundle(name: string): string {
    const bundle = join(this.dir, name);
    if (!this.template) {
      const template = join(this.dir, '.template');
      const made = this.run([this.makeBusyboxBundle, template]);
      if (made.status !== 0) throw new Error(`make-busybox-bundle failed: ${made.stderr}`);
      this.template = template;
    }
    const copied = this.run(['cp', '-a', this.template, bundle]);
    if (copied.status !== 0) throw new Error(`cp failed: ${copied.stderr}`);
    return bundle;
  }

  /**
   * A bundle with the config `runc spec --rootless` writes for the user
   * (terminal off), edited by `edit`; the user owns every file of it.
   */
  bundle(edit: (spec: Spec) => void = () => {}): string {
    counter++;
    const bundle = this.rootfsBundle(`bundle${counter}`);
    const spec = toRootless(exampleSpec(), { uid: this.user.uid, gid: this.user.gid });
    spec.process!.terminal = false;
    edit(spec);
    const config = join(bundle, 'config.json');
    writeFileSync(config, renderSpec(spec));
    chownSync(config, this.user.uid, this.user.gid);
    return bundle;
  }

  private readonly roots = new Set<string>();

  /** Another state directory the tests use: cleanup() deletes its containers too. */
  trackRoot(root: string): string {
    this.roots.add(root);
    return root;
  }

  /** Force-deletes every container under `root` (as the user), then kills what is left by pid. */
  private deleteAll(root: string): void {
    if (!existsSync(root)) return;
    for (const id of readdirSync(root)) {
      let pid = 0;
      try {
        pid = (JSON.parse(readFileSync(join(root, id, 'state.json'), 'utf8')) as { pid: number })
          .pid;
      } catch {
        continue; // not a container directory
      }
      this.runc(['delete', '--force', id], { root });
      try {
        // Only a process of ours: its root is inside the sandbox.
        if (pid > 0 && readlinkSync(`/proc/${pid}/root`).startsWith(this.dir)) {
          process.kill(pid, 'SIGKILL');
        }
      } catch {
        // already gone
      }
    }
  }

  cleanup(): void {
    for (const root of [this.root, join(this.xdg, 'runc-ts'), ...this.roots]) this.deleteAll(root);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
