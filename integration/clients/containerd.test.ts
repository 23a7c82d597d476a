import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunResult } from '../support/runc.js';
import {
  alive,
  both,
  busyboxImageTar,
  cgroupFileOf,
  ctrRuntimeFlags,
  deleteRuntimeContainers,
  EngineDir,
  missingBinaries,
  ociArchive,
  ok,
  outcome,
  type RuntimeName,
  signalScript,
  startContainerd,
  uniqueName,
  waitFor,
} from './engine.js';

// containerd 1.6 (Debian) started by the test with a private config.toml
// (root, state, sockets, the opt plugin's directory), driven by ctr. Its runc
// v2 shim is pointed at runc-ts by the runc options ctr sends with every
// container (BinaryName and Root: `--runc-binary`, `--runc-root`); every
// scenario runs again with runc 1.1.5 and the two must agree. The one path
// containerd 1.6 does not let a config move is the shims' socket directory
// (/run/containerd/s): the shims remove their sockets when they exit, and
// integration/support/global-setup.ts removes the directories after the run
// when it created them.

const image = 'localhost/runc-ts-busybox:latest';
const namespace = 'runc-ts';
let dir: EngineDir;
let skip: string | undefined;
let socket: string;

function ctr(args: readonly string[], timeout?: number): RunResult {
  return dir.run('ctr', ['--address', socket, '--namespace', namespace, ...args], { timeout });
}

function run(runtime: RuntimeName, flags: readonly string[], container: string, command: string[]) {
  return ctr([
    'run',
    ...ctrRuntimeFlags(dir.path, runtime),
    '--cgroup',
    `/${dir.cgroupParent}/${container}`,
    ...flags,
    image,
    container,
    ...command,
  ]);
}

/** `ctr task ls` as { pid, status } of `container`, or undefined when it has no task. */
function task(container: string): { pid: number; status: string } | undefined {
  const line = ok(ctr(['task', 'ls']), 'ctr task ls')
    .split('\n')
    .map((entry) => entry.trim().split(/\s+/))
    .find((fields) => fields[0] === container);
  return line ? { pid: Number(line[1]), status: line[2]! } : undefined;
}

describe('containerd 1.6 (runc v2 shim) with runc-ts as its runtime (compared with runc 1.1.5)', () => {
  beforeAll(() => {
    skip = missingBinaries('containerd', 'ctr', 'containerd-shim-runc-v2');
    if (skip) {
      console.warn(`containerd tests skipped: ${skip}`);
      return;
    }
    dir = new EngineDir('containerd');
    for (const sub of ['fifo', 'runc-root-runc-ts', 'runc-root-runc'])
      mkdirSync(join(dir.path, sub));
    socket = startContainerd(dir, dir.path);
    const { tar } = busyboxImageTar(dir.path);
    ok(
      ctr(['images', 'import', '--snapshotter', 'native', ociArchive(dir.path, tar, image)]),
      'ctr images import',
    );
  }, 120_000);

  afterAll(() => {
    if (!dir) return;
    if (dir.daemonRunning('containerd')) {
      for (const container of ctr(['containers', 'ls', '-q']).stdout.split('\n').filter(Boolean)) {
        ctr(['task', 'kill', '--signal', 'SIGKILL', container]);
        ctr(['task', 'delete', '--force', container]);
        ctr(['containers', 'rm', container]);
      }
    }
    dir.stopDaemon('containerd');
    for (const runtime of ['runc-ts', 'runc'] as const) {
      deleteRuntimeContainers(runtime, join(dir.path, `runc-root-${runtime}`), dir.path);
    }
    dir.cleanup();
  }, 120_000);

  it('ctr run in the foreground: stdout, stderr and exit code; --rm removes the container', (context) => {
    if (skip) context.skip(skip);
    const { ours, theirs } = both((runtime) => {
      const container = uniqueName('fg');
      const result = run(runtime, ['--rm'], container, [
        'sh',
        '-c',
        'echo out; echo err >&2; exit 3',
      ]);
      const listed = ctr(['containers', 'ls', '-q']).stdout.split('\n').includes(container);
      return { ...outcome(result), listed };
    });
    expect(ours).toEqual({ status: 3, stdout: 'out\n', stderr: 'err\n', listed: false });
    expect(ours).toEqual(theirs);
  });

  it('ctr run -d: task exec with and without a tty, kill with signals, pause/resume, metrics, delete', (context) => {
    if (skip) context.skip(skip);
    const { ours, theirs } = both((runtime) => {
      const container = uniqueName('detached');
      const log = join(dir.path, `${container}.log`);
      ok(
        run(runtime, ['--detach', '--log-uri', `file://${log}`], container, [
          'sh',
          '-c',
          signalScript,
        ]),
        'ctr run -d',
      );
      const readLog = () => (existsSync(log) ? readFileSync(log, 'utf8') : '');
      waitFor('started', () => (readLog().includes('to-stderr') ? true : undefined));
      const running = task(container)!;
      const exec = outcome(
        ctr([
          'task',
          'exec',
          '--fifo-dir',
          join(dir.path, 'fifo'),
          '--exec-id',
          'plain',
          container,
          'sh',
          '-c',
          'echo $((6*7)); exit 4',
        ]),
      );
      // ctr wants a terminal on its stdin for -t: script(1) gives it one
      const execTty = dir.run('script', [
        '--quiet',
        '--return',
        '--command',
        `ctr --address ${socket} --namespace ${namespace} task exec --fifo-dir ${join(dir.path, 'fifo')} ` +
          `--tty --exec-id tty ${container} sh -c 'tty; exit 2'`,
        '/dev/null',
      ]);
      ok(ctr(['task', 'kill', '--signal', 'SIGUSR1', container]), 'ctr task kill');
      waitFor('got-usr1', () => (readLog().includes('got-usr1') ? true : undefined));
      ok(ctr(['task', 'pause', container]), 'ctr task pause');
      const paused = {
        status: task(container)?.status,
        freezer: cgroupFileOf(running.pid, 'freezer', 'freezer.state'),
      };
      const metrics = ok(ctr(['task', 'metrics', container]), 'ctr task metrics');
      ok(ctr(['task', 'resume', container]), 'ctr task resume');
      const resumed = {
        status: task(container)?.status,
        freezer: cgroupFileOf(running.pid, 'freezer', 'freezer.state'),
      };
      ok(ctr(['task', 'kill', container]), 'ctr task kill'); // SIGTERM
      waitFor('stopped', () => (task(container)?.status === 'STOPPED' ? true : undefined));
      const deleted = ctr(['task', 'delete', container]);
      ok(ctr(['containers', 'rm', container]), 'ctr containers rm');
      const metric = (name: string) =>
        metrics
          .split('\n')
          .map((line) => line.trim().split(/\s+/))
          .find((fields) => fields[0] === name)?.[1];
      return {
        running: running.status,
        exec,
        execTty: {
          status: execTty.status,
          // the terminal's first line, without the NUL and escapes ctr's own resize errors can add
          tty: /\/dev\/pts\/\d+/.exec(execTty.stdout)?.[0].replace(/\d+/, 'N'),
        },
        paused,
        // sh, and its sleep of the moment if any
        pids: ['1', '2'].includes(metric('pids.current') ?? ''),
        memoryUsed: Number(metric('memory.usage_in_bytes')) > 0,
        resumed,
        // stdout and stderr reach the log through two pipes: their order is not kept
        log: readLog().split('\n').filter(Boolean).sort(),
        deleted: { status: deleted.status, exitCode: /exit code (\d+)/.exec(deleted.stderr)?.[1] },
        remains: task(container) !== undefined || alive(running.pid),
      };
    });
    expect(ours).toEqual({
      running: 'RUNNING',
      exec: { status: 4, stdout: '42\n', stderr: '' },
      execTty: { status: 2, tty: '/dev/pts/N' },
      paused: { status: 'PAUSED', freezer: 'FROZEN' },
      pids: true,
      memoryUsed: true,
      resumed: { status: 'RUNNING', freezer: 'THAWED' },
      log: ['got-term', 'got-usr1', 'started', 'to-stderr'],
      deleted: { status: 0, exitCode: '5' },
      remains: false,
    });
    expect(ours).toEqual(theirs);
  });

  it('containerd restarted while a container runs finds its task again (exec, kill, delete)', (context) => {
    if (skip) context.skip(skip);
    const { ours, theirs } = both((runtime) => {
      const container = uniqueName('restart');
      ok(run(runtime, ['--detach', '--null-io'], container, ['sleep', '1000']), 'ctr run -d');
      const before = task(container)!;
      dir.stopDaemon('containerd');
      const survived = alive(before.pid);
      startContainerd(dir, dir.path);
      const after = task(container);
      const exec = outcome(
        ctr([
          'task',
          'exec',
          '--fifo-dir',
          join(dir.path, 'fifo'),
          '--exec-id',
          'again',
          container,
          'echo',
          'found-again',
        ]),
      );
      ok(ctr(['task', 'kill', '--signal', 'SIGKILL', container]), 'ctr task kill');
      waitFor('stopped', () => (task(container)?.status === 'STOPPED' ? true : undefined));
      const deleted = ctr(['task', 'delete', container]);
      ok(ctr(['containers', 'rm', container]), 'ctr containers rm');
      return {
        survived,
        samePid: after?.pid === before.pid,
        status: after?.status,
        exec,
        exitCode: /exit code (\d+)/.exec(deleted.stderr)?.[1],
        processGone: !alive(before.pid),
      };
    });
    expect(ours).toEqual({
      survived: true,
      samePid: true,
      status: 'RUNNING',
      exec: { status: 0, stdout: 'found-again\n', stderr: '' },
      exitCode: '137',
      processGone: true,
    });
    expect(ours).toEqual(theirs);
  });

  it('--memory-limit is enforced: the limit is written and a process over it is OOM killed', (context) => {
    if (skip) context.skip(skip);
    const { ours, theirs } = both((runtime) => {
      const container = uniqueName('memory');
      const log = join(dir.path, `${container}.log`);
      // tail buffers a line that never ends: it grows until the OOM killer
      // stops it; the shell, small, lives on to say so (ctr mounts no
      // cgroupfs in the container: the host reads the cgroup)
      ok(
        run(
          runtime,
          ['--detach', '--log-uri', `file://${log}`, '--memory-limit', String(32 * 1024 * 1024)],
          container,
          ['sh', '-c', 'tail /dev/zero; echo tail=$?; sleep 1000'],
        ),
        'ctr run -d',
      );
      const readLog = () => (existsSync(log) ? readFileSync(log, 'utf8') : '');
      waitFor('the OOM kill', () => (readLog().includes('tail=') ? true : undefined), 30_000);
      const { pid } = task(container)!;
      const limit = cgroupFileOf(pid, 'memory', 'memory.limit_in_bytes');
      const oomKills = /^oom_kill (\d+)$/m.exec(
        cgroupFileOf(pid, 'memory', 'memory.oom_control'),
      )?.[1];
      ok(ctr(['task', 'kill', '--signal', 'SIGKILL', container]), 'ctr task kill');
      waitFor('stopped', () => (task(container)?.status === 'STOPPED' ? true : undefined));
      ctr(['task', 'delete', container]);
      ok(ctr(['containers', 'rm', container]), 'ctr containers rm');
      return { log: readLog().split('\n').filter(Boolean).sort(), limit, oomKills };
    });
    expect(ours).toEqual({ log: ['Killed', 'tail=137'], limit: '33554432', oomKills: '1' });
    expect(ours).toEqual(theirs);
  });
});
