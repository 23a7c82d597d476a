import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunResult } from '../support/runc.js';
import {
  both,
  busyboxImageTar,
  cgroupFileOf,
  EngineDir,
  missingBinaries,
  ok,
  outcome,
  podmanCommandLine,
  podmanEnvironment,
  type RuntimeName,
  removePodmanContainers,
  signalScript,
  uniqueName,
  waitFor,
} from './engine.js';

// podman 4.3 (Debian) as root with runc-ts as its OCI runtime, every scenario
// run again with runc 1.1.5 and compared. All of podman's state is private:
// containers.conf, storage.conf and registries.conf of our own (the
// CONTAINERS_* variables), vfs storage under the test's directory, its own
// --tmpdir (events log, exit files), the runtimes' --root under it, and a
// cgroup parent removed at the end.

const image = 'localhost/runc-ts-busybox:latest';
let dir: EngineDir;
let skip: string | undefined;
let probe = false;
let env: NodeJS.ProcessEnv;

function podmanCommand(runtime: RuntimeName, args: readonly string[]): string[] {
  return podmanCommandLine(dir, runtime, args);
}

function podman(runtime: RuntimeName, args: readonly string[], timeout?: number): RunResult {
  const [binary, ...rest] = podmanCommand(runtime, args);
  return dir.run(binary!, rest, { env, timeout });
}

/** `podman run` with the test's cgroup parent and no network. */
function run(runtime: RuntimeName, flags: readonly string[], command: readonly string[]) {
  return podman(runtime, [
    'run',
    '--network',
    'none',
    '--cgroup-parent',
    `/${dir.cgroupParent}`,
    ...flags,
    image,
    ...command,
  ]);
}

function inspect(runtime: RuntimeName, container: string, format: string): string {
  const result = podman(runtime, ['inspect', '--format', format, container]);
  if (result.status !== 0) throw new Error(`podman inspect ${container}: ${result.stderr}`);
  return result.stdout.trim();
}

describe('podman 4.3 with runc-ts as its OCI runtime (compared with runc 1.1.5)', () => {
  beforeAll(() => {
    skip = missingBinaries('podman', 'conmon');
    if (skip) {
      console.warn(`podman tests skipped: ${skip}`);
      return;
    }
    dir = new EngineDir('podman');
    env = podmanEnvironment(dir);
    const built = busyboxImageTar(dir.path);
    probe = built.probe;
    ok(podman('runc-ts', ['import', built.tar, image]), 'podman import');
  }, 120_000);

  afterAll(() => {
    if (!dir) return;
    removePodmanContainers(dir.path, (runtime, args) => podman(runtime, args));
    dir.cleanup();
  }, 120_000);

  it('runs in the foreground: stdout, stderr and the exit code reach podman; --rm removes it', (context) => {
    if (skip) context.skip(skip);
    const { ours, theirs } = both((runtime) => {
      const container = uniqueName('fg');
      const result = run(
        runtime,
        ['--rm', '--name', container],
        ['sh', '-c', 'echo out; echo err >&2; exit 3'],
      );
      const exists = podman(runtime, ['container', 'exists', container]).status;
      return { ...outcome(result), exists };
    });
    expect(ours).toEqual({ status: 3, stdout: 'out\n', stderr: 'err\n', exists: 1 });
    expect(ours).toEqual(theirs);
  });

  it('runs detached: logs, exec with and without a tty, signals, stop with the trap exit code, events', (context) => {
    if (skip) context.skip(skip);
    const { ours, theirs } = both((runtime) => {
      const container = uniqueName('detached');
      ok(run(runtime, ['-d', '--name', container], ['sh', '-c', signalScript]), 'podman run -d');
      waitFor('started', () =>
        podman(runtime, ['logs', container]).stdout.includes('started') ? true : undefined,
      );
      const status = inspect(runtime, container, '{{.State.Status}}');
      const exec = outcome(
        podman(runtime, ['exec', container, 'sh', '-c', 'echo $((6*7)); exit 4']),
      );
      const execTty = outcome(
        podman(runtime, ['exec', '-t', container, 'sh', '-c', 'tty; exit 2']),
      );
      ok(podman(runtime, ['kill', '--signal', 'USR1', container]), 'podman kill');
      waitFor('got-usr1', () =>
        podman(runtime, ['logs', container]).stdout.includes('got-usr1') ? true : undefined,
      );
      const stop = podman(runtime, ['stop', '--time', '10', container]);
      const logs = podman(runtime, ['logs', container]);
      const exitCode = inspect(runtime, container, '{{.State.ExitCode}}');
      const events = podman(runtime, [
        'events',
        '--stream=false',
        '--filter',
        `container=${container}`,
        '--format',
        '{{.Status}}',
      ]).stdout;
      ok(podman(runtime, ['rm', container]), 'podman rm');
      return {
        status,
        exec,
        execTty: { ...execTty, stdout: execTty.stdout.replace(/\d+/, 'N') },
        stop: stop.status,
        logs: outcome(logs),
        exitCode,
        // which events were logged (podman logs exec_died once or twice, in no fixed order)
        events: [...new Set(events.split('\n').filter(Boolean))].sort(),
      };
    });
    expect(ours).toEqual({
      status: 'running',
      exec: { status: 4, stdout: '42\n', stderr: '' },
      // a tty: one stream, CRLF line ends
      execTty: { status: 2, stdout: '/dev/pts/N\r\n', stderr: '' },
      stop: 0,
      logs: { status: 0, stdout: 'started\ngot-usr1\ngot-term\n', stderr: 'to-stderr\n' },
      exitCode: '5',
      events: theirs.events,
    });
    expect(ours.events).toEqual([
      'cleanup',
      'create',
      'died',
      'exec',
      'exec_died',
      'init',
      'kill',
      'start',
    ]);
    expect(ours).toEqual(theirs);
  });

  it('pauses and unpauses: the cgroup is frozen, exec works again after unpause; kill -9 gives 137', (context) => {
    if (skip) context.skip(skip);
    const { ours, theirs } = both((runtime) => {
      const container = uniqueName('pause');
      ok(run(runtime, ['-d', '--name', container], ['sleep', '1000']), 'podman run -d');
      const pid = Number(inspect(runtime, container, '{{.State.Pid}}'));
      ok(podman(runtime, ['pause', container]), 'podman pause');
      const paused = {
        status: inspect(runtime, container, '{{.State.Status}}'),
        freezer: cgroupFileOf(pid, 'freezer', 'freezer.state'),
        exec: podman(runtime, ['exec', container, 'true']).status,
      };
      ok(podman(runtime, ['unpause', container]), 'podman unpause');
      const resumed = {
        status: inspect(runtime, container, '{{.State.Status}}'),
        freezer: cgroupFileOf(pid, 'freezer', 'freezer.state'),
        exec: outcome(podman(runtime, ['exec', container, 'echo', 'alive'])),
      };
      ok(podman(runtime, ['kill', '--signal', 'KILL', container]), 'podman kill');
      waitFor('exited', () =>
        inspect(runtime, container, '{{.State.Status}}') === 'exited' ? true : undefined,
      );
      const exitCode = inspect(runtime, container, '{{.State.ExitCode}}');
      ok(podman(runtime, ['rm', container]), 'podman rm');
      return { paused, resumed, exitCode };
    });
    expect(ours).toEqual({
      paused: { status: 'paused', freezer: 'FROZEN', exec: 255 },
      resumed: {
        status: 'running',
        freezer: 'THAWED',
        exec: { status: 0, stdout: 'alive\n', stderr: '' },
      },
      exitCode: '137',
    });
    expect(ours).toEqual(theirs);
  });

  it("run -it under a terminal (tmux): the shell gets a pty of the terminal's size, exit code through podman", (context) => {
    if (skip) context.skip(skip);
    const tmuxMissing = missingBinaries('tmux');
    if (tmuxMissing) context.skip(tmuxMissing);
    const { ours, theirs } = both((runtime) => {
      const socket = join(dir.path, `tmux-${runtime}.sock`);
      const tmux = (...args: string[]) =>
        dir.run('tmux', ['-S', socket, '-f', '/dev/null', ...args]);
      const screen = () => tmux('capture-pane', '-p', '-t', 'it').stdout;
      const command = podmanCommand(runtime, [
        'run',
        '-it',
        '--rm',
        '--network',
        'none',
        '--cgroup-parent',
        `/${dir.cgroupParent}`,
        image,
        'sh',
      ]);
      const quoted = command.map((arg) => `'${arg}'`).join(' ');
      try {
        ok(
          tmux(
            'new-session',
            '-d',
            '-s',
            'it',
            '-x',
            '100',
            '-y',
            '30',
            '-e',
            `CONTAINERS_CONF=${env.CONTAINERS_CONF}`,
            '-e',
            `CONTAINERS_STORAGE_CONF=${env.CONTAINERS_STORAGE_CONF}`,
            '-e',
            `CONTAINERS_REGISTRIES_CONF=${env.CONTAINERS_REGISTRIES_CONF}`,
            `${quoted}; echo podman-exit=$?; sleep 60`,
          ),
          'tmux new-session',
        );
        const shown = (what: string, text: string) => {
          try {
            waitFor(what, () => (screen().includes(text) ? true : undefined));
          } catch (error) {
            throw new Error(`${(error as Error).message}; the terminal shows:\n${screen()}`);
          }
        };
        shown('the prompt', '/ #');
        tmux('send-keys', '-t', 'it', 'stty size; tty; echo $TERM; exit 7', 'Enter');
        shown('podman to exit', 'podman-exit=');
        return screen()
          .split('\n')
          .filter((line) => line.trim() !== '')
          .slice(-5);
      } finally {
        tmux('kill-server');
      }
    });
    expect(ours).toEqual([
      '/ # stty size; tty; echo $TERM; exit 7',
      '30 100',
      '/dev/pts/0',
      'xterm',
      'podman-exit=7',
    ]);
    expect(ours).toEqual(theirs);
  });

  it('--uidmap/--gidmap as root: the container runs in a user namespace, host ids shifted', (context) => {
    if (skip) context.skip(skip);
    const { ours, theirs } = both((runtime) => {
      const container = uniqueName('userns');
      ok(
        run(
          runtime,
          ['-d', '--name', container, '--uidmap', '0:100000:65536', '--gidmap', '0:100000:65536'],
          ['sleep', '1000'],
        ),
        'podman run -d',
      );
      const pid = Number(inspect(runtime, container, '{{.State.Pid}}'));
      const hostIds = readFileSync(`/proc/${pid}/status`, 'utf8')
        .split('\n')
        .filter((line) => /^(Uid|Gid):/.test(line));
      const inside = outcome(
        podman(runtime, [
          'exec',
          container,
          'sh',
          '-c',
          'id; cat /proc/self/uid_map /proc/self/gid_map',
        ]),
      );
      podman(runtime, ['rm', '--force', '--time', '0', container]);
      return { hostIds, inside };
    });
    expect(ours).toEqual({
      hostIds: ['Uid:\t100000\t100000\t100000\t100000', 'Gid:\t100000\t100000\t100000\t100000'],
      inside: {
        status: 0,
        stdout:
          'uid=0(root) gid=0(root)\n' +
          '         0     100000      65536\n         0     100000      65536\n',
        stderr: '',
      },
    });
    expect(ours).toEqual(theirs);
  });

  it('reports stats of a running container (podman stats --no-stream)', (context) => {
    if (skip) context.skip(skip);
    const { ours, theirs } = both((runtime) => {
      const container = uniqueName('stats');
      ok(
        run(runtime, ['-d', '--name', container], ['sh', '-c', 'sleep 1000 & sleep 1000']),
        'podman run -d',
      );
      // until sh has started its first sleep
      const entry = waitFor('both processes', () => {
        const stats = podman(runtime, ['stats', '--no-stream', '--format', 'json', container]);
        const [first] = JSON.parse(ok(stats, 'podman stats'));
        return first.pids === '2' ? first : undefined;
      });
      podman(runtime, ['rm', '--force', '--time', '0', container]);
      return {
        name: entry.name,
        pids: entry.pids,
        memoryUsed: Number.parseFloat(entry.mem_usage) > 0,
        keys: Object.keys(entry).sort(),
      };
    });
    expect(ours).toMatchObject({ pids: '2', memoryUsed: true }); // sh execs its last command
    expect({ ...ours, name: '' }).toEqual({ ...theirs, name: '' });
  });

  it('enforces --memory: the limit is written and a process over it is OOM killed', (context) => {
    if (skip) context.skip(skip);
    const { ours, theirs } = both((runtime) =>
      // tail buffers a line that never ends: it grows until the OOM killer
      // stops it (SIGKILL, 137); the shell, small, lives on to say so
      outcome(
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
    );
    expect(ours).toEqual({
      status: 0,
      stdout: '33554432\ntail=137\noom_kill 1\n',
      stderr: 'Killed\n',
    });
    expect(ours).toEqual(theirs);
    // conmon marks an OOM kill with a file `oom` in its working directory,
    // podman's: the engine's private one, not the checkout the tests run in
    expect(existsSync(join(dir.path, 'oom'))).toBe(true);
  });

  it('enforces --pids-limit (fork fails past it) and writes --cpus as a CFS quota', (context) => {
    if (skip) context.skip(skip);
    const { ours, theirs } = both((runtime) => {
      const pids = run(
        runtime,
        ['--rm', '--pids-limit', '5'],
        [
          'sh',
          '-c',
          'cat /sys/fs/cgroup/pids/pids.max; n=0; while [ $n -lt 10 ]; do sleep 5 & n=$((n+1)); echo $n; done',
        ],
      );
      const cpus = run(
        runtime,
        ['--rm', '--cpus', '0.5'],
        ['cat', '/sys/fs/cgroup/cpu/cpu.cfs_quota_us', '/sys/fs/cgroup/cpu/cpu.cfs_period_us'],
      );
      return { pids: outcome(pids), cpus: outcome(cpus) };
    });
    // sh itself is one of the five: four sleeps start, the fifth fork fails and ends the script
    expect(ours.pids.stdout).toBe('5\n1\n2\n3\n4\n');
    expect(ours.pids.stderr).toMatch(/can't fork/);
    expect(ours.pids.status).not.toBe(0);
    expect(ours.cpus).toEqual({ status: 0, stdout: '50000\n100000\n', stderr: '' });
    expect(ours).toEqual(theirs);
  });

  it('--read-only (without the tmpfs mounts): the root and /tmp are read-only, /dev/shm writable', (context) => {
    if (skip) context.skip(skip);
    const { ours, theirs } = both((runtime) =>
      outcome(
        run(
          runtime,
          ['--rm', '--read-only', '--read-only-tmpfs=false'],
          [
            'sh',
            '-c',
            'touch /x; echo $?; touch /tmp/y; echo $?; touch /dev/shm/z && echo shm-writable',
          ],
        ),
      ),
    );
    expect(ours).toEqual({
      status: 0,
      stdout: '1\n1\nshm-writable\n',
      stderr: 'touch: /x: Read-only file system\ntouch: /tmp/y: Read-only file system\n',
    });
    expect(ours).toEqual(theirs);
  });

  it('--read-only with its default tmpfs mounts (/tmp, /var/tmp, /run: tmpcopyup)', (context) => {
    if (skip) context.skip(skip);
    const { ours, theirs } = both((runtime) =>
      outcome(
        run(
          runtime,
          ['--rm', '--read-only'],
          ['sh', '-c', 'touch /x; echo $?; touch /tmp/y && echo tmp-writable'],
        ),
      ),
    );
    expect(theirs).toEqual({
      status: 0,
      stdout: '1\ntmp-writable\n',
      stderr: 'touch: /x: Read-only file system\n',
    });
    expect(ours).toEqual(theirs);
  });

  it('--cap-drop: the capability is gone from every set and its operation fails', (context) => {
    if (skip) context.skip(skip);
    const { ours, theirs } = both((runtime) =>
      outcome(
        run(
          runtime,
          ['--rm', '--cap-drop', 'CHOWN'],
          ['sh', '-c', 'grep -E "^Cap(Eff|Bnd|Prm)" /proc/self/status; chown 1 /tmp; echo $?'],
        ),
      ),
    );
    const eff = /CapEff:\s+([0-9a-f]+)/.exec(ours.stdout)?.[1];
    expect(eff).toBeDefined();
    expect(BigInt(`0x${eff}`) & 1n).toBe(0n); // CAP_CHOWN is bit 0
    expect(ours.stdout).toMatch(/\n1\n$/);
    expect(ours.stderr).toBe('chown: /tmp: Operation not permitted\n');
    expect(ours).toEqual(theirs);
  });

  it("applies podman's default seccomp profile (ENOSYS for a denied call), none with seccomp=unconfined", (context) => {
    if (skip) context.skip(skip);
    if (!probe) context.skip('the seccomp probe could not be built (cc -static)');
    // kexec_load (246) is denied by a rule of the profile (EPERM, 1) and
    // add_key (248) by its default action (ENOSYS, 38); without a filter
    // the kernel answers both itself
    const { ours, theirs } = both((runtime) => ({
      profile: outcome(
        run(
          runtime,
          ['--rm'],
          ['sh', '-c', 'grep ^Seccomp: /proc/self/status; seccomp-probe 246 248 39'],
        ),
      ),
      unconfined: outcome(
        run(
          runtime,
          ['--rm', '--security-opt', 'seccomp=unconfined'],
          ['sh', '-c', 'grep ^Seccomp: /proc/self/status; seccomp-probe 246 248 39'],
        ),
      ),
    }));
    expect(ours).toEqual({
      profile: { status: 0, stdout: 'Seccomp:\t2\n246 errno 1\n248 errno 38\n39 ok\n', stderr: '' },
      // this kernel has no kexec (ENOSYS); add_key(NULL, ...) is EFAULT
      unconfined: {
        status: 0,
        stdout: 'Seccomp:\t0\n246 errno 38\n248 errno 14\n39 ok\n',
        stderr: '',
      },
    });
    expect(ours).toEqual(theirs);
  });
});
