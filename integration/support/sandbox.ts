import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exampleSpec, renderSpec, type Spec } from '@runc-ts/spec';
import { type RunResult, repoRoot, runCaptured, runcTs } from './runc.js';

let counter = 0;

/**
 * A private --root and busybox bundles for one test file. `cleanup()` force
 * deletes every container left under the root (with our runc, then by pid),
 * and removes the directories, even after a failed test.
 */
export class Sandbox {
  readonly dir = mkdtempSync(join(tmpdir(), 'runc-ts-it-'));
  readonly root = join(this.dir, 'state');
  private readonly prefix = `it${process.pid}x`;

  /** A unique container id. */
  id(label = 'c'): string {
    counter++;
    return `${this.prefix}${counter}-${label}`;
  }

  private template: string | undefined;

  /** A bundle with busybox and a config made from runc's template, edited by `edit`. */
  bundle(edit: (spec: Spec) => void = () => {}): string {
    counter++;
    const bundle = join(this.dir, `bundle${counter}`);
    // One rootfs made by the script, copied in-process for every bundle: the
    // script runs a few hundred `ln`, which costs seconds in the emulated VM.
    if (!this.template) {
      const template = join(this.dir, 'template');
      const made = spawnSync(join(repoRoot, 'scripts/make-busybox-bundle'), [template], {
        encoding: 'utf8',
      });
      if (made.status !== 0) throw new Error(`make-busybox-bundle failed: ${made.stderr}`);
      this.template = template;
    }
    cpSync(this.template, bundle, { recursive: true, verbatimSymlinks: true });
    const spec = exampleSpec();
    spec.process!.terminal = false;
    edit(spec);
    writeFileSync(join(bundle, 'config.json'), renderSpec(spec));
    return bundle;
  }

  /**
   * Runs our runc with --root set; stdin is empty unless given. Output goes
   * through files, not pipes: a created container's init keeps its stdio
   * open, as with runc, and a pipe would keep the call waiting for it.
   */
  runc(
    args: readonly string[],
    options: { cwd?: string; input?: string; timeout?: number } = {},
  ): RunResult {
    const result = runCaptured(runcTs, ['--root', this.root, ...args], {
      dir: this.dir,
      cwd: options.cwd,
      input: options.input ?? '',
      // Emulated (cgroup v2 VM) commands take ~10x longer.
      timeout: options.timeout ?? (process.env.RUNC_TS_VM_GUEST ? 200_000 : 20_000),
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  state(id: string): any {
    const result = this.runc(['state', id]);
    if (result.status !== 0) throw new Error(`state ${id}: ${result.stderr}`);
    return JSON.parse(result.stdout);
  }

  /** Runs `args` in a fresh container (foreground `run`), returning its output. */
  exec(args: string[], edit: (spec: Spec) => void = () => {}): RunResult {
    const bundle = this.bundle((spec) => {
      spec.process!.args = args;
      edit(spec);
    });
    return this.runc(['run', '--bundle', bundle, this.id('run')]);
  }

  cleanup(): void {
    if (existsSync(this.root)) {
      const listed = this.runc(['list', '-q']);
      for (const id of listed.stdout.split('\n').filter(Boolean)) {
        const state = JSON.parse(readFileSync(join(this.root, id, 'state.json'), 'utf8'));
        this.runc(['delete', '--force', id]);
        try {
          // pid 0 (a container whose init never started) would be our own process group.
          if (state.pid > 0) process.kill(state.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * What a container from `bundle` could have left on the host: processes whose
 * root or cwd is inside the bundle, and host mounts under it.
 */
export function leftovers(bundle: string): { processes: number[]; mounts: string[] } {
  const processes: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    for (const link of ['root', 'cwd']) {
      try {
        if (readlinkSync(`/proc/${entry}/${link}`).startsWith(bundle)) {
          processes.push(Number(entry));
          break;
        }
      } catch {
        // exited, or a kernel thread
      }
    }
  }
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((line) => line.includes(bundle));
  return { processes, mounts };
}
