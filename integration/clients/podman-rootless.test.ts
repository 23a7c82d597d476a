import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rootlessUnavailable } from '../support/rootless.js';
import type { RunResult } from '../support/runc.js';
import {
  both,
  busyboxImageTar,
  missingBinaries,
  ok,
  outcome,
  RootlessPodman,
  type RuntimeName,
  signalScript,
  uniqueName,
  waitFor,
} from './engine.js';

// Rootless podman 4.3 (Debian): an ordinary user's podman (the test user of
// integration/support/rootless.ts, through setpriv) with runc-ts as its OCI
// runtime, every scenario run again with runc 1.1.5 and compared. podman
// makes a user namespace from the user's /etc/subuid and /etc/subgid ranges
// (newuidmap/newgidmap), kept by its pause process, and runs the runtime in
// it as that namespace's root. Everything is the user's and private: HOME and
// XDG_RUNTIME_DIR in a sandbox under /tmp, containers.conf, storage.conf and
// registries.conf of our own (the CONTAINERS_* variables), vfs storage,
// --tmpdir and the runtimes' --root in the sandbox; no network (--network
// none: no slirp4netns needed), the image imported from the busybox tar.

const image = 'localhost/runc-ts-busybox:latest';
/** cgroup v2 (unified) host: rootless podman may get delegated cgroups there. */
const unified = existsSync('/sys/fs/cgroup/cgroup.controllers');
let podmanUser: RootlessPodman | undefined;
let skip: string | undefined;
let probe = false;

/**
 * podman's warning when it makes its user namespace on a host whose / is not
 * a shared mount (this machine, a container): printed by whichever command
 * comes first, so left out of what is compared.
 */
const sharedMountWarning = /^time=\S+ level=warning msg="\\"\/\\" is not a shared mount.*\n/gm;

function podman(runtime: RuntimeName, args: readonly string[]): RunResult {
  const result = podmanUser!.run(runtime, args);
  return { ...outcome(result), stderr: result.stderr.replace(sharedMountWarning, '') };
}

function run(runtime: RuntimeName, flags: readonly string[], command: readonly string[]) {
  return podman(runtime, ['run', '--network', 'none', ...flags, image, ...command]);
}

function inspect(runtime: RuntimeName, container: string, format: string): string {
  return ok(podman(runtime, ['inspect', '--format', format, container]), 'podman inspect').trim();
}

/** A line of /proc/PID/uid_map: three right-aligned numbers, ten wide. */
function mapLine(inside: number, outside: number, count: number): string {
  return [inside, outside, count].map((value) => String(value).padStart(10)).join(' ');
}

/** The Uid: or Gid: line of a host process's status (real, effective, saved, fs). */
function hostIds(pid: number, which: 'Uid' | 'Gid'): string {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith(`${which}:`));
  return line!.split(/\s+/).slice(1).join(' ');
}

describe('rootless podman 4.3 (an ordinary user) with runc-ts as its OCI runtime (compared with runc 1.1.5)', () => {
  beforeAll(() => {
    skip = missingBinaries('podman', 'conmon') ?? rootlessUnavailable();
    if (skip) {
      console.warn(`rootless podman tests skipped: ${skip}`);
      return;
    }
    podmanUser = new RootlessPodman();
    // podman's user namespace (newuidmap with the user's subordinate ranges)
    const userns = podmanUser.run('runc', ['unshare', 'cat', '/proc/self/uid_map']);
    if (userns.status !== 0) {
      skip = `rootless podman cannot make its user namespace here (podman unshare exited ${userns.status}): ${userns.stderr.trim()}`;
      console.warn(`rootless podman tests skipped: ${skip}`);
      return;
    }
    const built = busyboxImageTar(podmanUser.dir);
    probe = built.probe;
    ok(podman('runc-ts', ['import', built.tar, image]), 'podman import');
  }, 180_000);

  afterAll(() => {
    podmanUser?.cleanup();
  }, 120_000);

  it('runs in the foreground: output and exit code reach podman, --rm removes it; the user is root inside', (context) => {
    if (skip) context.skip(skip);
    const { ours, theirs } = both((runtime) => {
      const container = uniqueName('fg');
      const result = run(
        runtime,
        ['--rm', '--name', container],
        [
          'sh',
          '-c',
          "id; cat /proc/self/uid_map; echo err >&2; stat -c '%u:%g %t,%T %F' /dev/null; exit 3",
        ],
      );
      const exists = podman(runtime, ['container', 'exists', container]).status;
      return { ...outcome(result), exists };
    });
    const { uid, gid } = podmanUser!.sandbox.user;
    const subuid = podmanUser!.sandbox.user.subuid!;
    const subgid = podmanUser!.sandbox.user.subgid!;
    // /dev/null is the host's, bind-mounted (mknod is not allowed in podman's
    // user namespace): its host owner as that namespace sees it
    const host = statSync('/dev/null');
    const inside = (id: number, own: number, sub: { start: number; count: number }) =>
      id === own ? 0 : id >= sub.start && id < sub.start + sub.count ? 1 + id - sub.start : 65534;
    const devNull = `${inside(host.uid, uid, subuid)}:${inside(host.gid, gid, subgid)}`;
    expect(ours).toEqual({
      status: 3,
      stdout:
        'uid=0(root) gid=0(root)\n' +
        // podman's user namespace: root is the user, then the subordinate ids
        `${mapLine(0, uid, 1)}\n${mapLine(1, subuid.start, subuid.count)}\n` +
        `${devNull} 1,3 character special file\n`,
      stderr: 'err\n',
      exists: 1,
    });
    expect(ours).toEqual(theirs);
  });

  it('runs detached: the host sees the user, logs, exec with and without a tty, a signal, stop with the trap exit code', (context) => {
    if (skip) context.skip(skip);
    const { ours, theirs } = both((runtime) => {
      const container = uniqueName('detached');
      ok(run(runtime, ['-d', '--name', container], ['sh', '-c', signalScript]), 'podman run -d');
      waitFor('started', () =>
        podman(runtime, ['logs', container]).stdout.includes('started') ? true : undefined,
      );
      const pid = Number(inspect(runtime, container, '{{.State.Pid}}'));
      const host = { uid: hostIds(pid, 'Uid'), gid: hostIds(pid, 'Gid') };
      const exec = outcome(
        podman(runtime, ['exec', container, 'sh', '-c', 'echo $((6*7)) $(id -u); exit 4']),
      );
      const execTty = outcome(
        podman(runtime, ['exec', '-t', container, 'sh', '-c', 'tty; exit 2']),
      );
      ok(podman(runtime, ['kill', '--signal', 'USR1', container]), 'podman kill');
      waitFor('got-usr1', () =>
        podman(runtime, ['logs', container]).stdout.includes('got-usr1') ? true : undefined,
      );
      const stop = podman(runtime, ['stop', '--time', '10', container]);
      const logs = outcome(podman(runtime, ['logs', container]));
      const exitCode = inspect(runtime, container, '{{.State.ExitCode}}');
      ok(podman(runtime, ['rm', container]), 'podman rm');
      return {
        host,
        exec,
        execTty: { ...execTty, stdout: execTty.stdout.replace(/\d+/, 'N') },
        stop: { status: stop.status, stderr: stop.stderr },
        logs,
        exitCode,
      };
    });
    const { uid, gid } = podmanUser!.sandbox.user;
    expect(ours).toEqual({
      // container root is the user itself
      host: { uid: `${uid} ${uid} ${uid} ${uid}`, gid: `${gid} ${gid} ${gid} ${gid}` },
      exec: { status: 4, stdout: '42 0\n', stderr: '' },
      execTty: { status: 2, stdout: '/dev/pts/N\r\n', stderr: '' },
      stop: { status: 0, stderr: '' },
      logs: { status: 0, stdout: 'started\ngot-usr1\ngot-term\n', stderr: 'to-stderr\n' },
      exitCode: '5',
    });
    expect(ours).toEqual(theirs);
  });

  it('--memory, --pids-limit, pause and stats: as podman allows on this cgroup setup, the same with both runtimes', (context) => {
    if (skip) context.skip(skip);
    const { ours, theirs } = both((runtime) => {
      const memory = run(
        runtime,
        ['--rm', '--memory', '32m', '--memory-swap', '32m'],
        [
          'sh',
          '-c',
          'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max',
        ],
      );
      const pids = run(
        runtime,
        ['--rm', '--pids-limit', '5'],
        [
          'sh',
          '-c',
          'n=0; while [ $n -lt 10 ]; do sleep 5 & n=$((n+1)); done; echo forked=$n; kill $(jobs -p)',
        ],
      );
      const container = uniqueName('pause');
      ok(run(runtime, ['-d', '--name', container], ['sleep', '1000']), 'podman run -d');
      const pause = outcome(podman(runtime, ['pause', container]));
      const stats = outcome(
        podman(runtime, ['stats', '--no-stream', '--format', 'json', container]),
      );
      ok(podman(runtime, ['rm', '--force', '--time', '0', container]), 'podman rm');
      return {
        memory: { ...outcome(memory), stdout: memory.stdout.split('\n')[0] },
        pids: outcome(pids),
        pause,
        stats: { ...stats, stdout: stats.status === 0 ? 'JSON' : stats.stdout },
      };
    });
    if (!unified) {
      // cgroup v1: nothing is delegated to a user; podman itself drops the
      // limits with a warning and refuses pause and stats, whatever the runtime
      const ignored =
        'Resource limits are not supported and ignored on cgroups V1 rootless systems\n';
      expect(ours.memory.status).toBe(0);
      expect(ours.memory.stderr).toMatch(new RegExp(`^${ignored}`));
      expect(ours.memory.stdout).not.toBe('33554432');
      expect(ours.pids).toEqual({ status: 0, stdout: 'forked=10\n', stderr: ignored });
      expect(ours.pause).toEqual({
        status: 125,
        stdout: '',
        stderr:
          'Error: can not pause containers on rootless containers with cgroup V1: this container does not have a cgroup\n',
      });
      expect(ours.stats).toEqual({
        status: 125,
        stdout: '',
        stderr: 'Error: stats is not supported in rootless mode without cgroups v2\n',
      });
    } else {
      console.warn(
        `rootless podman on cgroup v2: limits, pause and stats compared between the runtimes only: ${JSON.stringify(ours)}`,
      );
    }
    expect(ours).toEqual(theirs);
  });

  it("--userns=keep-id: the user keeps its uid inside; its files on a volume are the user's on the host", (context) => {
    if (skip) context.skip(skip);
    const sandbox = podmanUser!.sandbox;
    const { ours, theirs } = both((runtime) => {
      const volume = join(podmanUser!.dir, `volume-${runtime}`);
      ok(sandbox.run(['mkdir', volume]), 'mkdir');
      const result = outcome(
        run(
          runtime,
          ['--rm', '--userns=keep-id', '--volume', `${volume}:/vol`],
          ['sh', '-c', "id; cat /proc/self/uid_map; touch /vol/made && stat -c '%u:%g' /vol/made"],
        ),
      );
      const made = statSync(join(volume, 'made'));
      return { result, owner: `${made.uid}:${made.gid}` };
    });
    const { uid, gid, name } = sandbox.user;
    const subuid = sandbox.user.subuid!;
    expect(ours).toEqual({
      result: {
        status: 0,
        stdout:
          `uid=${uid}(${name}) gid=${gid}(${name}) groups=${gid}(${name})\n` +
          // podman maps the user to itself and container root to the first subordinate id
          `${mapLine(0, 1, uid)}\n${mapLine(uid, 0, 1)}\n` +
          `${mapLine(uid + 1, uid + 1, subuid.count - uid)}\n` +
          `${uid}:${gid}\n`,
        stderr: '',
      },
      owner: `${uid}:${gid}`,
    });
    expect(ours).toEqual(theirs);
  });

  it('--read-only and --cap-drop: the root is read-only, the dropped capability gone and its operation refused', (context) => {
    if (skip) context.skip(skip);
    const { ours, theirs } = both((runtime) =>
      outcome(
        run(
          runtime,
          ['--rm', '--read-only', '--read-only-tmpfs=false', '--cap-drop', 'CHOWN'],
          [
            'sh',
            '-c',
            'touch /x; echo $?; grep ^CapEff: /proc/self/status; touch /dev/shm/f; chown 1 /dev/shm/f; echo $?',
          ],
        ),
      ),
    );
    expect(ours.status).toBe(0);
    expect(ours.stdout).toMatch(/^1\nCapEff:\t[0-9a-f]+\n1\n$/);
    const eff = BigInt(`0x${/CapEff:\t([0-9a-f]+)/.exec(ours.stdout)![1]}`);
    expect(eff & 1n).toBe(0n); // CAP_CHOWN is bit 0
    expect(ours.stderr).toBe(
      'touch: /x: Read-only file system\nchown: /dev/shm/f: Operation not permitted\n',
    );
    expect(ours).toEqual(theirs);
  });

  it("applies podman's default seccomp profile (a denied call fails), none with seccomp=unconfined", (context) => {
    if (skip) context.skip(skip);
    if (!probe) context.skip('the seccomp probe could not be built (cc -static)');
    // kexec_load (246) is denied by a rule of the profile (EPERM, 1) and
    // add_key (248) by its default action (ENOSYS, 38)
    const probeScript = 'grep ^Seccomp: /proc/self/status; seccomp-probe 246 248 39';
    const { ours, theirs } = both((runtime) => ({
      profile: outcome(run(runtime, ['--rm'], ['sh', '-c', probeScript])),
      unconfined: outcome(
        run(runtime, ['--rm', '--security-opt', 'seccomp=unconfined'], ['sh', '-c', probeScript]),
      ),
    }));
    expect(ours.profile).toEqual({
      status: 0,
      stdout: 'Seccomp:\t2\n246 errno 1\n248 errno 38\n39 ok\n',
      stderr: '',
    });
    expect(ours.unconfined.stdout).toMatch(/^Seccomp:\t0\n/);
    expect(ours).toEqual(theirs);
  });
});
