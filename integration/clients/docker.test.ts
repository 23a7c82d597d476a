import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunResult } from '../support/runc.js';
import {
  both,
  busyboxImageTar,
  cgroupFileOf,
  deleteRuntimeContainers,
  EngineDir,
  missingBinaries,
  ok,
  outcome,
  type RuntimeName,
  signalScript,
  startDockerd,
  uniqueName,
  waitFor,
} from './engine.js';

// dockerd 20.10 (Debian) started by the test with private state: its own
// --data-root, --exec-root, --pidfile, unix socket, daemon.json (the trust
// key's path), cgroup parent and containerd (started by the test with the
// containerd test's private config.toml); no bridge, no iptables rules, containers with --network none.
// runc-ts is added with --add-runtime; the reference is docker's default
// runtime `runc` (runc 1.1.5 from PATH). Every scenario runs with both and
// the two must agree.

const image = 'localhost/runc-ts-busybox:latest';
let dir: EngineDir;
let skip: string | undefined;
let probe = false;
let env: NodeJS.ProcessEnv;

/** The name docker knows each runtime by. */
const dockerRuntime: Record<RuntimeName, string> = { 'runc-ts': 'runc-ts', runc: 'runc' };

function docker(args: readonly string[], timeout?: number): RunResult {
  return dir.run('docker', args, { env, timeout });
}

function run(runtime: RuntimeName, flags: readonly string[], command: readonly string[]) {
  return docker([
    'run',
    '--runtime',
    dockerRuntime[runtime],
    '--network',
    'none',
    ...flags,
    image,
    ...command,
  ]);
}

function inspect(container: string, format: string): string {
  return ok(
    docker(['inspect', '--format', format, container]),
    `docker inspect ${container}`,
  ).trim();
}

describe('dockerd 20.10 with runc-ts added as a runtime (compared with its default runc 1.1.5)', () => {
  beforeAll(() => {
    skip = missingBinaries('dockerd', 'docker', 'containerd', 'containerd-shim-runc-v2');
    if (skip) {
      console.warn(`docker tests skipped: ${skip}`);
      return;
    }
    dir = new EngineDir('docker');
    env = startDockerd(dir);
    const built = busyboxImageTar(dir.path);
    probe = built.probe;
    if (!probe) console.warn('docker: seccomp probe not built (cc -static): seccomp not checked');
    ok(docker(['import', built.tar, image]), 'docker import');
  }, 120_000);

  afterAll(() => {
    if (!dir) return;
    if (dir.daemonRunning('dockerd')) {
      const all = docker(['ps', '--all', '--quiet']).stdout.split('\n').filter(Boolean);
      if (all.length > 0) docker(['rm', '--force', ...all]);
    }
    dir.stopDaemon('dockerd');
    dir.stopDaemon('containerd');
    // what a dockerd that failed to stop its containers left (the shims: dir.cleanup)
    deleteRuntimeContainers('runc-ts', join(dir.path, 'exec/runtime-runc/moby'), dir.path);
    deleteRuntimeContainers('runc', join(dir.path, 'exec/runtime-runc/moby'), dir.path);
    dir.cleanup();
  }, 120_000);

  it('docker run: stdout, stderr and exit code; --rm removes the container', (context) => {
    if (skip) context.skip(skip);
    const { ours, theirs } = both((runtime) => {
      const container = uniqueName('fg');
      const result = run(
        runtime,
        ['--rm', '--name', container],
        ['sh', '-c', 'echo out; echo err >&2; exit 3'],
      );
      const listed = docker(['ps', '--all', '--quiet', '--filter', `name=${container}`]).stdout;
      return { ...outcome(result), listed };
    });
    expect(ours).toEqual({ status: 3, stdout: 'out\n', stderr: 'err\n', listed: '' });
    expect(ours).toEqual(theirs);
  });

  it('docker run -d: logs, exec with and without a tty, kill with a signal, pause, stats, stop', (context) => {
    if (skip) context.skip(skip);
    const { ours, theirs } = both((runtime) => {
      const container = uniqueName('detached');
      ok(
        run(runtime, ['--detach', '--name', container], ['sh', '-c', signalScript]),
        'docker run -d',
      );
      waitFor('started', () =>
        docker(['logs', container]).stdout.includes('started') ? true : undefined,
      );
      const pid = Number(inspect(container, '{{.State.Pid}}'));
      const exec = outcome(docker(['exec', container, 'sh', '-c', 'echo $((6*7)); exit 4']));
      const execTty = outcome(docker(['exec', '--tty', container, 'sh', '-c', 'tty; exit 2']));
      ok(docker(['kill', '--signal', 'USR1', container]), 'docker kill');
      waitFor('got-usr1', () =>
        docker(['logs', container]).stdout.includes('got-usr1') ? true : undefined,
      );
      ok(docker(['pause', container]), 'docker pause');
      const paused = {
        status: inspect(container, '{{.State.Status}}'),
        freezer: cgroupFileOf(pid, 'freezer', 'freezer.state'),
      };
      ok(docker(['unpause', container]), 'docker unpause');
      const resumed = {
        status: inspect(container, '{{.State.Status}}'),
        freezer: cgroupFileOf(pid, 'freezer', 'freezer.state'),
      };
      const stats = JSON.parse(
        ok(docker(['stats', '--no-stream', '--format', '{{json .}}', container]), 'docker stats'),
      );
      const stop = docker(['stop', '--time', '10', container]);
      const logs = outcome(docker(['logs', container]));
      const exitCode = inspect(container, '{{.State.ExitCode}}');
      ok(docker(['rm', container]), 'docker rm');
      return {
        exec,
        execTty: { ...execTty, stdout: execTty.stdout.replace(/\d+/, 'N') },
        paused,
        resumed,
        stats: {
          name: stats.Name === container,
          memoryUsed: !stats.MemUsage.startsWith('0B'),
          keys: Object.keys(stats).sort(),
        },
        stop: stop.status,
        logs,
        exitCode,
      };
    });
    expect(ours).toEqual({
      exec: { status: 4, stdout: '42\n', stderr: '' },
      execTty: { status: 2, stdout: '/dev/pts/N\r\n', stderr: '' },
      paused: { status: 'paused', freezer: 'FROZEN' },
      resumed: { status: 'running', freezer: 'THAWED' },
      stats: { name: true, memoryUsed: true, keys: theirs.stats.keys },
      stop: 0,
      logs: { status: 0, stdout: 'started\ngot-usr1\ngot-term\n', stderr: 'to-stderr\n' },
      exitCode: '5',
    });
    expect(ours).toEqual(theirs);
  });

  it('docker update changes the memory and pids limits of a running container (written and enforced)', (context) => {
    if (skip) context.skip(skip);
    const { ours, theirs } = both((runtime) => {
      const container = uniqueName('update');
      ok(run(runtime, ['--detach', '--name', container], ['sleep', '1000']), 'docker run -d');
      const pid = Number(inspect(container, '{{.State.Pid}}'));
      const update = docker([
        'update',
        '--memory',
        '64m',
        '--memory-swap',
        '64m',
        '--pids-limit',
        '3',
        container,
      ]);
      const limits = {
        memory: cgroupFileOf(pid, 'memory', 'memory.limit_in_bytes'),
        pids: cgroupFileOf(pid, 'pids', 'pids.max'),
      };
      // sleep and sh are two; the third fork fails
      const forks = outcome(
        docker(['exec', container, 'sh', '-c', 'sleep 5 & sleep 5 & echo forked; wait']),
      );
      docker(['rm', '--force', container]);
      return { update: update.status, limits, forks };
    });
    expect(ours.update).toBe(0);
    expect(ours.limits).toEqual({ memory: '67108864', pids: '3' });
    expect(ours.forks.stderr).toMatch(/can't fork/);
    expect(ours).toEqual(theirs);
  });

  it('restart policies: on-failure:2 restarts a failing container twice, then leaves it exited', (context) => {
    if (skip) context.skip(skip);
    const { ours, theirs } = both((runtime) => {
      const container = uniqueName('restart');
      ok(
        run(
          runtime,
          ['--detach', '--name', container, '--restart', 'on-failure:2'],
          ['sh', '-c', 'echo run; exit 7'],
        ),
        'docker run -d',
      );
      waitFor(
        'the last restart to exit',
        () =>
          inspect(container, '{{.State.Status}} {{.RestartCount}}') === 'exited 2'
            ? true
            : undefined,
        30_000,
      );
      const result = {
        exitCode: inspect(container, '{{.State.ExitCode}}'),
        logs: docker(['logs', container]).stdout,
      };
      docker(['rm', '--force', container]);
      return result;
    });
    expect(ours).toEqual({ exitCode: '7', logs: 'run\nrun\nrun\n' });
    expect(ours).toEqual(theirs);
  });

  it('--memory is enforced (OOM kill), --read-only, --cap-drop and the default seccomp profile', (context) => {
    if (skip) context.skip(skip);
    const { ours, theirs } = both((runtime) => ({
      memory: outcome(
        run(
          runtime,
          ['--rm', '--memory', '32m', '--memory-swap', '32m'],
          [
            'sh',
            '-c',
            'cat /sys/fs/cgroup/memory/memory.limit_in_bytes; tail /dev/zero; echo tail=$?; ' +
              'grep "^oom_kill " /sys/fs/cgroup/memory/memory.oom_control',
          ],
        ),
      ),
      readOnly: outcome(
        run(
          runtime,
          ['--rm', '--read-only'],
          ['sh', '-c', 'touch /x; echo $?; touch /dev/shm/y && echo shm'],
        ),
      ),
      capDrop: outcome(
        run(runtime, ['--rm', '--cap-drop', 'CHOWN'], ['sh', '-c', 'chown 1 /tmp; echo $?']),
      ),
      seccomp: probe
        ? outcome(
            run(
              runtime,
              ['--rm'],
              ['sh', '-c', 'grep ^Seccomp: /proc/self/status; seccomp-probe 246 248 39'],
            ),
          )
        : undefined,
    }));
    expect(ours.memory).toEqual({
      status: 0,
      stdout: '33554432\ntail=137\noom_kill 1\n',
      stderr: 'Killed\n',
    });
    expect(ours.readOnly).toEqual({
      status: 0,
      stdout: '1\nshm\n',
      stderr: 'touch: /x: Read-only file system\n',
    });
    expect(ours.capDrop).toEqual({
      status: 0,
      stdout: '1\n',
      stderr: 'chown: /tmp: Operation not permitted\n',
    });
    if (probe) {
      // docker's built-in profile: kexec_load and add_key denied (EPERM)
      expect(ours.seccomp).toEqual({
        status: 0,
        stdout: 'Seccomp:\t2\n246 errno 1\n248 errno 1\n39 ok\n',
        stderr: '',
      });
    }
    expect(ours).toEqual(theirs);
  });
});
