import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Spec } from '@runc-ts/spec';
import { afterAll, describe, expect, it } from 'vitest';
import { cgroupDirsNamed } from '../support/cgroups.js';
import { type RunResult, referenceRunc, runCaptured, runcTs } from '../support/runc.js';
import { leftovers, Sandbox } from '../support/sandbox.js';

// `runc exec` as containerd uses it: many at once, racing with the init's
// exit, `kill` and `delete -f`. Every case runs against runc-ts and the
// reference runc 1.1.5 and compares what callers see: exit codes, messages,
// which processes are left.

const sandbox = new Sandbox();
const outputs = join(sandbox.dir, 'outputs');
mkdirSync(outputs);

// node reads the CA bundle at every start when this is set (~85 ms each):
// hundreds of execs on two cores need that time more.
const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS;

interface Runtime {
  name: string;
  binary: string;
  root: string;
}
const ts: Runtime = { name: 'runc-ts', binary: runcTs, root: sandbox.root };
const reference: Runtime = {
  name: 'runc',
  binary: referenceRunc,
  root: join(sandbox.dir, 'reference-state'),
};
const runtimes = [ts, reference];

afterAll(() => {
  for (const fd of heldNamespaces) release(fd);
  // The reference's containers first: sandbox.cleanup() removes the directory.
  for (const id of cli(reference, ['list', '-q']).stdout.split('\n').filter(Boolean)) {
    const pid = stateOf(reference, id)?.pid;
    cli(reference, ['delete', '--force', id]);
    if (pid) killQuietly(pid);
  }
  sandbox.cleanup();
});

const sleepMs = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

let files = 0;
function outputFile(label: string): string {
  files++;
  return join(outputs, `${files}-${label}`);
}

/**
 * Runs a command to its end. Output goes through files: a container keeps
 * its stdio open, and a process holding one after the command returned is
 * a leftover (see holdersOf).
 */
function cli(runtime: Runtime, args: readonly string[], timeout = 30_000): RunResult {
  const result = runCaptured(runtime.binary, ['--root', runtime.root, ...args], {
    dir: outputs,
    env,
    timeout,
    keep: true,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

interface Finished extends RunResult {
  /** Killed by the test after its timeout: the command hung. */
  hung: boolean;
  /** The files its stdout and stderr went to. */
  files: [string, string];
}

/** Starts a command; `done` settles when it exits, or when it is killed after `timeout` ms. */
function launch(runtime: Runtime, args: readonly string[], timeout = 30_000): Promise<Finished> {
  const out = outputFile('out');
  const err = outputFile('err');
  const outFd = openSync(out, 'w+');
  const errFd = openSync(err, 'w+');
  const child = spawn(runtime.binary, ['--root', runtime.root, ...args], {
    stdio: ['ignore', outFd, errFd],
    env,
  });
  closeSync(outFd);
  closeSync(errFd);
  return new Promise((resolve) => {
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, timeout);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({
        status: code ?? 128 + (signal === 'SIGKILL' ? 9 : 0),
        stdout: readIfThere(out),
        stderr: readIfThere(err),
        hung,
        files: [out, err],
      });
    });
  });
}

/** A hung command may end after a failed test's cleanup removed its files. */
function readIfThere(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** The message of the last error line (`time=… level=error msg="…"`), unquoted. */
function message(stderr: string): string {
  const found = [...stderr.matchAll(/level=(?:error|fatal) msg="((?:[^"\\]|\\.)*)"/g)].pop();
  return found ? JSON.parse(`"${found[1]}"`) : '';
}

function stateOf(runtime: Runtime, id: string): { pid: number; status: string } | undefined {
  const result = cli(runtime, ['state', id]);
  return result.status === 0 ? JSON.parse(result.stdout) : undefined;
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone
  }
}

/** Running (not gone, not a zombie waiting for its parent to reap it). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

function waitFor(what: string, condition: () => boolean, timeoutMs = 20_000): void {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    sleepMs(10);
  }
}

/** Running processes with one of `files` open: leftovers of the commands that wrote them. */
function holdersOf(files: readonly string[]): string[] {
  const wanted = new Set(files);
  const found: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || !alive(Number(pid))) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (wanted.has(readlinkSync(`/proc/${pid}/fd/${fd}`))) {
          found.push(`${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')}`);
          break;
        }
      } catch {
        // closed or exited meanwhile
      }
    }
  }
  return found;
}

/**
 * Running processes in the mount namespace `mnt` (`mnt:[inode]`, the
 * container's): its init and every exec'd process. (/proc/PID/root of a
 * pivoted process does not show the bundle path.)
 */
function processesIn(mnt: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/ns/mnt`) === mnt && alive(Number(entry))) {
        found.push(Number(entry));
      }
    } catch {
      // exited, or a kernel thread
    }
  }
  return found;
}

const withoutPidNamespace = (spec: Spec) => {
  spec.linux!.namespaces = spec.linux!.namespaces!.filter((ns) => ns.type !== 'pid');
};

/** `run -d` of `sleep 1000` (own pid namespace unless `sharedPid`). */
function startContainer(runtime: Runtime, label: string, sharedPid = false): Container {
  const bundle = sandbox.bundle((spec) => {
    spec.process!.args = ['sleep', '1000'];
    if (sharedPid) withoutPidNamespace(spec);
  });
  const id = sandbox.id(label);
  const started = cli(runtime, ['run', '-d', '--bundle', bundle, id]);
  expect(started.status, `${runtime.name} run -d: ${started.stderr}`).toBe(0);
  const pid = stateOf(runtime, id)!.pid;
  // Held open so that the namespace, and with it its inode number, stays
  // until the checks: a freed number is soon another container's.
  const mntFd = openSync(`/proc/${pid}/ns/mnt`, 'r');
  heldNamespaces.add(mntFd);
  return { id, pid, bundle, mnt: readlinkSync(`/proc/${pid}/ns/mnt`), mntFd };
}

const heldNamespaces = new Set<number>();
function release(fd: number): void {
  if (heldNamespaces.delete(fd)) closeSync(fd);
}

interface Container {
  id: string;
  pid: number;
  bundle: string;
  /** Its mount namespace, which every exec joins. */
  mnt: string;
  mntFd: number;
}

/** After `delete`: no process, mount, cgroup or state of the container. */
function expectNothingLeft(runtime: Runtime, container: Container, pids: number[]): void {
  const { id, bundle, mnt } = container;
  try {
    expect(pids.filter(alive), `${runtime.name}: processes of ${id} still running`).toEqual([]);
    expect(processesIn(mnt), `${runtime.name}: processes in the mount namespace of ${id}`).toEqual(
      [],
    );
    expect(leftovers(bundle).mounts).toEqual([]);
    expect(cgroupDirsNamed(id), `${runtime.name}: cgroups of ${id}`).toEqual([]);
    expect(existsSync(join(runtime.root, id)), `${runtime.name}: state of ${id}`).toBe(false);
  } finally {
    release(container.mntFd);
  }
}

describe('concurrent execs', () => {
  it('200 execs into one container all get their own status and output', {
    timeout: 300_000,
  }, async () => {
    const container = startContainer(ts, 'many');
    const { id, pid } = container;
    const stateFiles = readdirSync(join(ts.root, id)).sort();
    const count = 200;
    const wave = 50; // spawned at once; the next wave starts as soon as one ends
    const results: Finished[] = new Array(count);
    let next = 0;
    const worker = async () => {
      while (next < count) {
        const i = next++;
        const script =
          i % 4 === 0 ? `echo out-${i}; echo err-${i} >&2; exit ${i % 256}` : `exit ${i % 256}`;
        results[i] = await launch(ts, ['exec', id, 'sh', '-c', script], 240_000);
      }
    };
    await Promise.all(Array.from({ length: wave }, worker));
    const wrong = results
      .map((result, i) => ({ i, ...result }))
      .filter(
        ({ i, status, stdout, stderr, hung }) =>
          hung ||
          status !== i % 256 ||
          stdout !== (i % 4 === 0 ? `out-${i}\n` : '') ||
          stderr !== (i % 4 === 0 ? `err-${i}\n` : ''),
      );
    expect(wrong).toEqual([]);
    // Nothing of the execs is left: no process (in the container or holding
    // their output), no state beside the container's.
    expect(holdersOf(results.flatMap((result) => result.files))).toEqual([]);
    expect(processesIn(container.mnt)).toEqual([pid]);
    expect(JSON.parse(cli(ts, ['ps', '--format', 'json', id]).stdout)).toEqual([pid]);
    expect(readdirSync(join(ts.root, id)).sort()).toEqual(stateFiles);
    // And the container still works.
    expect(cli(ts, ['exec', id, 'sh', '-c', 'echo still; exit 3'])).toMatchObject({
      status: 3,
      stdout: 'still\n',
    });
    expect(stateOf(ts, id)?.status).toBe('running');
    expect(cli(ts, ['delete', '--force', id]).status).toBe(0);
    expectNothingLeft(ts, container, [pid]);
  });
});

describe('exec while the init exits', () => {
  // runc 1.1.5 answers this race with its status codes 0, 137 or 255 and,
  // for 255, whichever step failed (open /proc/N/ns/ipc, a broken pipe...);
  // runc-ts says that the container stopped.
  const stopped = 'exec failed: cannot exec in a stopped container';
  for (const sharedPid of [false, true]) {
    const variant = sharedPid ? 'shared pid namespace' : 'own pid namespace';
    it(`${variant}: each exec runs or fails cleanly, never hangs, leaves nothing`, {
      timeout: 240_000,
    }, async () => {
      const seen: Record<string, Set<number>> = { 'runc-ts': new Set(), runc: new Set() };
      for (const runtime of runtimes) {
        const iterations = runtime === ts ? 10 : 6;
        for (let i = 0; i < iterations; i++) {
          const container = startContainer(runtime, 'dying', sharedPid);
          const { id, pid } = container;
          const exec = launch(runtime, ['exec', id, 'sh', '-c', 'echo hi'], 30_000);
          // Node starts in ~100 ms: kill before, during and after the executor's work.
          sleepMs((i * 37) % (runtime === ts ? 250 : 60));
          killQuietly(pid);
          const result = await exec;
          expect(result.hung, `${runtime.name} exec hung`).toBe(false);
          seen[runtime.name]!.add(result.status);
          if (result.status === 0) expect(result.stdout).toBe('hi\n');
          else if (result.status === 255) {
            expect(message(result.stderr)).toMatch(/^exec failed: /);
            if (runtime === ts) expect(message(result.stderr)).toBe(stopped);
          } else expect(result.status, result.stderr).toBe(137); // killed with the container
          // No executor or process of the exec outlived it.
          expect(holdersOf(result.files)).toEqual([]);
          waitFor('the init to exit', () => !alive(pid));
          expect(stateOf(runtime, id)?.status).toBe('stopped');
          const exited = cli(runtime, ['exec', id, 'true']);
          expect(exited.status).toBe(255);
          expect(message(exited.stderr)).toBe(stopped);
          expect(cli(runtime, ['delete', id]).status).toBe(0);
          expectNothingLeft(runtime, container, [pid]);
        }
      }
      for (const status of seen['runc-ts']!) expect([0, 137, 255]).toContain(status);
      for (const status of seen.runc!) expect([0, 137, 255]).toContain(status);
    });
  }
});

describe('exec into a stopped or paused container', () => {
  it('stopped: exit 255 with runc’s message, also with --detach and --tty', () => {
    for (const runtime of runtimes) {
      const container = startContainer(runtime, 'stopped');
      const { id, pid } = container;
      expect(cli(runtime, ['kill', id, 'KILL']).status).toBe(0);
      waitFor('the init to exit', () => !alive(pid));
      for (const flags of [[], ['--detach'], ['--tty']]) {
        const result = cli(runtime, ['exec', ...flags, id, 'true']);
        expect(
          { status: result.status, message: message(result.stderr) },
          `${runtime.name} exec ${flags.join(' ')}`,
        ).toEqual({ status: 255, message: 'exec failed: cannot exec in a stopped container' });
      }
      expect(cli(runtime, ['delete', id]).status).toBe(0);
      expectNothingLeft(runtime, container, [pid]);
    }
  });

  it('paused: refused without --ignore-paused; with it the process runs once resumed', {
    timeout: 60_000,
  }, async () => {
    for (const runtime of runtimes) {
      const container = startContainer(runtime, 'paused');
      const { id, pid } = container;
      expect(cli(runtime, ['pause', id]).status).toBe(0);
      for (const flags of [[], ['--detach']]) {
        const result = cli(runtime, ['exec', ...flags, id, 'true']);
        expect(
          { status: result.status, message: message(result.stderr) },
          `${runtime.name} exec ${flags.join(' ')}`,
        ).toEqual({
          status: 255,
          message:
            'exec failed: cannot exec in a paused container (use --ignore-paused to override)',
        });
      }
      // It joins the frozen cgroup, so it waits there (as runc's does) until resumed.
      const ignoring = launch(runtime, [
        'exec',
        '--ignore-paused',
        id,
        'sh',
        '-c',
        'echo resumed; exit 4',
      ]);
      let finished = false;
      void ignoring.then(() => {
        finished = true;
      });
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(finished, `${runtime.name}: exec --ignore-paused ran in a frozen container`).toBe(
        false,
      );
      expect(cli(runtime, ['resume', id]).status).toBe(0);
      expect(await ignoring).toMatchObject({ status: 4, stdout: 'resumed\n', hung: false });
      expect(cli(runtime, ['delete', '--force', id]).status).toBe(0);
      expectNothingLeft(runtime, container, [pid]);
    }
  });
});

/** A detached exec of `sleep <seconds>`; its pid from --pid-file. */
function execDetached(runtime: Runtime, id: string, seconds: number): number {
  const pidFile = outputFile('pid');
  const result = cli(runtime, ['exec', '-d', '--pid-file', pidFile, id, 'sleep', String(seconds)]);
  expect(result.status, result.stderr).toBe(0);
  return Number(readFileSync(pidFile, 'utf8'));
}

/** Pids of the running processes in the container whose command line is `sleep <seconds>`. */
function sleepers(mnt: string, seconds: number): number[] {
  return processesIn(mnt).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8') === `sleep\0${seconds}\0`;
    } catch {
      return false;
    }
  });
}

describe('kill and exec’d processes', () => {
  it('own pid namespace: SIGKILL of the init takes the exec’d processes with it', {
    timeout: 60_000,
  }, async () => {
    for (const runtime of runtimes) {
      const container = startContainer(runtime, 'killns');
      const { id, pid } = container;
      const detached = execDetached(runtime, id, 901);
      const foreground = launch(runtime, ['exec', id, 'sleep', '902']);
      waitFor('the foreground exec', () => sleepers(container.mnt, 902).length === 1);
      const attached = sleepers(container.mnt, 902)[0]!;
      expect(cli(runtime, ['kill', id, 'KILL']).status).toBe(0);
      // The kernel kills every process of a pid namespace whose init dies.
      waitFor('the processes to die', () => ![pid, detached, attached].some(alive));
      expect(await foreground, runtime.name).toMatchObject({ status: 137, hung: false });
      expect(stateOf(runtime, id)?.status).toBe('stopped');
      expect(cli(runtime, ['delete', id]).status).toBe(0);
      expectNothingLeft(runtime, container, [pid, detached, attached]);
    }
  });

  it('shared pid namespace: a plain kill signals the init only (runc 1.1); delete kills the rest', () => {
    const observed: Record<string, unknown> = {};
    for (const runtime of runtimes) {
      const container = startContainer(runtime, 'killshared', true);
      const { id, pid } = container;
      const detached = execDetached(runtime, id, 903);
      expect(cli(runtime, ['kill', id, 'KILL']).status).toBe(0);
      waitFor('the init to die', () => !alive(pid));
      sleepMs(200);
      const again = cli(runtime, ['kill', id, 'KILL']);
      observed[runtime.name] = {
        execAlive: alive(detached),
        status: stateOf(runtime, id)?.status,
        killAgain: { status: again.status, message: message(again.stderr) },
      };
      expect(cli(runtime, ['delete', id]).status).toBe(0);
      expectNothingLeft(runtime, container, [pid, detached]);
    }
    expect(observed['runc-ts']).toEqual({
      execAlive: true,
      status: 'stopped',
      killAgain: { status: 1, message: 'container not running' },
    });
    expect(observed['runc-ts']).toEqual(observed.runc);
  });
});

describe('delete --force with execs running', () => {
  for (const sharedPid of [false, true]) {
    const variant = sharedPid ? 'shared pid namespace' : 'own pid namespace';
    it(`${variant}: nothing is left, foreground execs return 137`, {
      timeout: 60_000,
    }, async () => {
      for (const runtime of runtimes) {
        const container = startContainer(runtime, 'delf', sharedPid);
        const { id, pid } = container;
        const foreground = [
          launch(runtime, ['exec', id, 'sleep', '911']),
          launch(runtime, ['exec', id, 'sh', '-c', 'sleep 912; echo not-killed']),
        ];
        const detached = [execDetached(runtime, id, 913)];
        expect(
          cli(runtime, ['exec', '-d', id, 'sh', '-c', 'sleep 914 & exec sleep 915']).status,
        ).toBe(0);
        waitFor('every sleep', () =>
          [911, 912, 914, 915].every((seconds) => sleepers(container.mnt, seconds).length === 1),
        );
        const pids = processesIn(container.mnt);
        expect(pids.length).toBeGreaterThanOrEqual(7); // init, 5 sleeps, one sh
        expect(pids).toContain(pid);
        expect(pids).toContain(detached[0]);
        expect(cli(runtime, ['delete', '--force', id])).toMatchObject({ status: 0 });
        for (const result of await Promise.all(foreground)) {
          expect(result, runtime.name).toMatchObject({ status: 137, stdout: '', hung: false });
          expect(holdersOf(result.files)).toEqual([]);
        }
        expectNothingLeft(runtime, container, pids);
      }
    });
  }

  it('racing with execs being set up: no exec outlives the container', {
    timeout: 180_000,
  }, async () => {
    // Shared pid namespace: the kernel does not kill these execs with the
    // init, only the cgroup pass of delete does. An exec joining the cgroup
    // after that pass must fail instead of running on.
    const acceptable = [
      'exec failed: cannot exec in a stopped container',
      'exec failed: cannot exec in a paused container (use --ignore-paused to override)',
    ];
    for (let i = 0; i < 10; i++) {
      const container = startContainer(ts, 'delrace', true);
      const { id, pid } = container;
      const execs = Array.from({ length: 6 }, (_, k) =>
        launch(ts, ['exec', ...(k % 2 ? ['-d'] : []), id, 'sh', '-c', 'sleep 100'], 60_000),
      );
      await new Promise((resolve) => setTimeout(resolve, (i * 41) % 300));
      const deleted = cli(ts, ['delete', '--force', id]);
      expect(deleted.status, deleted.stderr).toBe(0);
      const finished = await Promise.all(execs);
      for (const result of finished) {
        expect(result.hung, 'an exec outlived delete --force').toBe(false);
        if (result.status === 255) {
          const said = message(result.stderr);
          if (!said.startsWith('exec failed: container does not exist')) {
            expect(acceptable).toContain(said);
          }
        } else expect([0, 137]).toContain(result.status); // 0: a detached one ran
      }
      // Detached ones that ran were killed with the rest.
      sleepMs(100);
      expectNothingLeft(ts, container, [pid]);
      expect(holdersOf(finished.flatMap((result) => result.files))).toEqual([]);
    }
  });
});
