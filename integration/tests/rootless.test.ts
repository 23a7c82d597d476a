// Rootless containers: the built runc run by an unprivileged user
// (integration/support/rootless.ts creates it), checked from inside the
// container and from the host.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isUnified } from '../support/cgroups.js';
import {
  ensureTestUser,
  NO_SUBID_USER,
  ROOTLESS_USER,
  RootlessSandbox,
  rootlessUnavailable,
  shellQuote,
  type TestUser,
} from '../support/rootless.js';
import { leftovers } from '../support/sandbox.js';

const unavailable = rootlessUnavailable();
const title = (name: string) => (unavailable ? `${name} (skipped: ${unavailable})` : name);

let user: TestUser;
let sandbox: RootlessSandbox;

beforeAll(() => {
  if (unavailable) return;
  user = ensureTestUser(ROOTLESS_USER, { subids: true });
  sandbox = new RootlessSandbox(user);
});
afterAll(() => sandbox?.cleanup());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function waitStopped(id: string): void {
  for (let i = 0; i < 300 && sandbox.state(id).status !== 'stopped'; i++) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  }
}

/** The uid and gid the kernel reports for a host process. */
function hostCreds(pid: number): { uid: number; gid: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1]);
  return { uid: field('Uid'), gid: field('Gid') };
}

/** /proc/PID/uid_map as "containerID hostID size" lines. */
const mapLines = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/).join(' '));

describe.skipIf(unavailable)(title('lifecycle as an unprivileged user'), () => {
  it('create, start, state, list, exec, ps, kill and delete', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['sleep', '1000'];
    });
    const id = sandbox.id('life');
    expect(sandbox.runc(['create', '--bundle', bundle, id])).toMatchObject({
      status: 0,
      stderr: '',
    });
    const created = sandbox.state(id);
    expect(created).toMatchObject({ id, status: 'created', bundle });
    // The init: the user's process on the host, root in its user namespace.
    expect(hostCreds(created.pid)).toEqual({ uid: user.uid, gid: user.gid });
    expect(mapLines(readFileSync(`/proc/${created.pid}/uid_map`, 'utf8'))).toEqual([
      `0 ${user.uid} 1`,
    ]);
    expect(readFileSync(`/proc/${created.pid}/setgroups`, 'utf8').trim()).toBe('deny');
    const list = sandbox.runc(['list']);
    expect(list.stdout).toMatch(
      new RegExp(`^${id}\\s+${created.pid}\\s+created\\s.*${user.name}$`, 'm'),
    );

    // exec into the created container: the init let its user open its namespaces.
    expect(sandbox.runc(['exec', id, 'id', '-u'])).toMatchObject({
      status: 0,
      stdout: '0\n',
      stderr: '',
    });
    expect(sandbox.state(id).status).toBe('created');

    expect(sandbox.runc(['start', id])).toMatchObject({ status: 0, stderr: '' });
    expect(sandbox.state(id)).toMatchObject({ status: 'running', pid: created.pid });

    const inside = sandbox.runc(['exec', id, 'sh', '-c', 'id -u; id -g; cat /proc/self/uid_map']);
    expect(inside.stderr).toBe('');
    expect(inside.status).toBe(0);
    const [uid, gid, ...map] = inside.stdout.trim().split('\n');
    expect([uid, gid]).toEqual(['0', '0']);
    expect(mapLines(map.join('\n'))).toEqual([`0 ${user.uid} 1`]);

    // No cgroup of its own on this host: ps finds the processes through the
    // container's pid namespace.
    const ps = sandbox.runc(['ps', '--format', 'json', id]);
    expect(ps.status, ps.stderr).toBe(0);
    expect(JSON.parse(ps.stdout)).toContain(created.pid);

    expect(sandbox.runc(['kill', id, 'KILL']).status).toBe(0);
    waitStopped(id);
    expect(sandbox.state(id)).toMatchObject({ status: 'stopped', pid: 0 });
    expect(sandbox.runc(['delete', id])).toMatchObject({ status: 0, stderr: '' });
    expect(sandbox.runc(['list', '--quiet']).stdout).not.toContain(id);
    expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
  });

  it('run -d, kill --all and delete --force', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['sh', '-c', 'sleep 1000 & sleep 1000'];
    });
    const id = sandbox.id('detached');
    expect(sandbox.runc(['run', '-d', '--bundle', bundle, id])).toMatchObject({ status: 0 });
    const { pid } = sandbox.state(id);
    expect(sandbox.runc(['kill', '--all', id, 'KILL']).status).toBe(0);
    waitStopped(id);
    expect(sandbox.state(id)).toMatchObject({ status: 'stopped' });
    expect(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] ?? 'Z').toMatch(/[ZX]/);
    expect(sandbox.runc(['delete', '--force', id]).status).toBe(0);
    expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
  });

  it('a file the container root creates belongs to the user on the host', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.root!.readonly = false;
      spec.process!.args = ['sh', '-c', 'echo hi > /owned && ls -ln /owned'];
    });
    const result = sandbox.runc(['run', '--bundle', bundle, sandbox.id('owner')]);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^-rw-r--r--\s+1 0\s+0\s+3 /);
    const st = statSync(join(bundle, 'rootfs/owned'));
    expect({ uid: st.uid, gid: st.gid }).toEqual({ uid: user.uid, gid: user.gid });
  });

  it('default --root: $XDG_RUNTIME_DIR/runc-ts, mode 0700 with the sticky bit', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['sleep', '1000'];
    });
    const id = sandbox.id('xdg');
    expect(sandbox.runc(['run', '-d', '--bundle', bundle, id], { root: null }).status).toBe(0);
    const root = join(sandbox.xdg, 'runc-ts');
    const st = statSync(root);
    expect((st.mode & 0o7777).toString(8)).toBe('1700');
    expect(st.uid).toBe(user.uid);
    expect(existsSync(join(root, id, 'state.json'))).toBe(true);
    expect(sandbox.runc(['list', '-q'], { root: null }).stdout).toBe(`${id}\n`);
    expect(sandbox.runc(['delete', '--force', id], { root: null }).status).toBe(0);
  });
});

describe.skipIf(unavailable)(title('terminals as an unprivileged user'), () => {
  it('a foreground run relays the pty and returns the exit status', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.terminal = true;
      spec.process!.args = ['sh', '-c', 'tty; exit 4'];
    });
    const result = sandbox.runc(['run', '--bundle', bundle, sandbox.id('tty')]);
    expect(result.status).toBe(4);
    expect(result.stdout).toBe('/dev/pts/0\n');
  });

  it('exec --tty relays a pty of the container', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['sleep', '1000'];
    });
    const id = sandbox.id('exectty');
    expect(sandbox.runc(['run', '-d', '--bundle', bundle, id]).status).toBe(0);
    const result = sandbox.runc(['exec', '--tty', id, 'sh', '-c', 'tty; exit 5']);
    expect(result.status).toBe(5);
    expect(result.stdout).toMatch(/^\/dev\/pts\/\d+\n$/);
    expect(sandbox.runc(['delete', '--force', id]).status).toBe(0);
  });

  it("runc's README walkthrough, verbatim but for --root, in a terminal (tmux)", async () => {
    // mkdir mycontainer; cd mycontainer; (rootfs); runc spec --rootless;
    // runc --root /tmp/runc run mycontainerid
    const bundle = sandbox.rootfsBundle('mycontainer');
    const root = sandbox.trackRoot(join(sandbox.dir, 'runc'));
    const status = join(sandbox.dir, 'walkthrough.status');
    const session = `runc-ts-rootless-${process.pid}`;
    const tmux = (...args: string[]) => spawnSync('tmux', args, { encoding: 'utf8' });
    const script = [
      `cd ${shellQuote(bundle)}`,
      'runc spec --rootless',
      `runc --root ${shellQuote(root)} run mycontainerid`,
    ].join(' && ');
    const command = sandbox.shellAsUser(`${script}; echo "exit=$?" > ${shellQuote(status)}`, {
      PATH: `${dirname(sandbox.runcBinary)}:/usr/local/bin:/usr/bin:/bin`,
      TERM: 'xterm',
    });
    const started = tmux(
      'new-session',
      '-d',
      '-s',
      session,
      '-x',
      '100',
      '-y',
      '30',
      `${command}; sleep 30`,
    );
    expect(started.status, started.stderr).toBe(0);
    try {
      const screen = () => tmux('capture-pane', '-p', '-t', session).stdout;
      await waitFor(() => /^\/ #/m.test(screen()), 'the shell prompt');
      tmux('send-keys', '-t', session, 'echo $((6*7)); id -u; stty size; hostname', 'Enter');
      await waitFor(() => screen().includes('42'), 'the shell output');
      expect(screen()).toMatch(/42\n0\n30 100\nrunc\n/);
      // The container's init is the user's process.
      const state = readFileSync(join(root, 'mycontainerid', 'state.json'), 'utf8');
      expect(hostCreds(JSON.parse(state).pid).uid, state).toBe(user.uid);
      tmux('send-keys', '-t', session, 'exit 3', 'Enter');
      await waitFor(() => existsSync(status), 'runc run to exit');
      expect(readFileSync(status, 'utf8')).toBe('exit=3\n');
      // run deletes the container when it exits.
      expect(existsSync(join(root, 'mycontainerid'))).toBe(false);
    } finally {
      tmux('kill-session', '-t', session);
    }
  });
});

describe.skipIf(unavailable)(title('id mappings'), () => {
  it('several ranges through newuidmap/newgidmap (/etc/subuid, /etc/subgid)', () => {
    const subuid = user.subuid!;
    const subgid = user.subgid!;
    const bundle = sandbox.bundle((spec) => {
      spec.linux!.uidMappings = [
        { containerID: 0, hostID: user.uid, size: 1 },
        { containerID: 1, hostID: subuid.start, size: subuid.count },
      ];
      spec.linux!.gidMappings = [
        { containerID: 0, hostID: user.gid, size: 1 },
        { containerID: 1, hostID: subgid.start, size: subgid.count },
      ];
      spec.root!.readonly = false;
      spec.process!.args = ['sleep', '1000'];
    });
    const id = sandbox.id('ranges');
    const run = sandbox.runc(['run', '-d', '--bundle', bundle, id]);
    expect(run.stderr).toBe('');
    const { pid } = sandbox.state(id);
    expect(mapLines(readFileSync(`/proc/${pid}/uid_map`, 'utf8'))).toEqual([
      `0 ${user.uid} 1`,
      `1 ${subuid.start} ${subuid.count}`,
    ]);
    expect(mapLines(readFileSync(`/proc/${pid}/gid_map`, 'utf8'))).toEqual([
      `0 ${user.gid} 1`,
      `1 ${subgid.start} ${subgid.count}`,
    ]);
    // Container uid 1000 is host subuid.start + 999.
    const made = sandbox.runc([
      'exec',
      '--user',
      '1000:1000',
      id,
      'sh',
      '-c',
      'id -u; touch /tmp/by-1000',
    ]);
    expect(made).toMatchObject({ status: 0, stdout: '1000\n', stderr: '' });
    const st = statSync(join(bundle, 'rootfs/tmp/by-1000'));
    expect({ uid: st.uid, gid: st.gid }).toEqual({
      uid: subuid.start + 999,
      gid: subgid.start + 999,
    });
    expect(sandbox.runc(['delete', '--force', id]).status).toBe(0);
  });
});

describe.skipIf(unavailable)(title('what an unprivileged user cannot do'), () => {
  it('devices are bind-mounted from the host, not made with mknod', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = [
        'sh',
        '-c',
        'stat -c "%F %t,%T %U" /dev/null && echo ok > /dev/null && grep -c " /dev/null " /proc/self/mountinfo',
      ];
    });
    const result = sandbox.runc(['run', '--bundle', bundle, sandbox.id('dev')]);
    expect(result).toMatchObject({ status: 0, stderr: '' });
    // The host's node: owned by an id the user namespace does not map.
    expect(result.stdout).toBe('character special file 1,3 nobody\n1\n');
  });

  it('sysctls of namespaces the user namespace owns can be set', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.linux!.namespaces!.push({ type: 'network' });
      spec.linux!.sysctl = { 'net.ipv4.ip_unprivileged_port_start': '80' };
      spec.process!.args = ['cat', '/proc/sys/net/ipv4/ip_unprivileged_port_start'];
    });
    const result = sandbox.runc(['run', '--bundle', bundle, sandbox.id('sysctl')]);
    expect(result).toMatchObject({ status: 0, stdout: '80\n', stderr: '' });
  });

  it.skipIf(isUnified())(
    'cgroup v1: cgroups are skipped, said in the --debug log; limits fail clearly',
    () => {
      const bundle = sandbox.bundle((spec) => {
        spec.process!.args = ['true'];
      });
      const result = sandbox.runc(['--debug', 'run', '--bundle', bundle, sandbox.id('cg')]);
      expect(result.status).toBe(0);
      expect(result.stderr).toMatch(
        /level=debug msg="rootless: skipped \d+ cgroup operation\(s\) this user may not do \(not delegated\): create \/sys\/fs\/cgroup\/\S+: Permission denied; .*the container stays in the caller's cgroup, without limits of its own"/,
      );
      expect(result.stderr).not.toContain('level=error');

      const limited = sandbox.bundle((spec) => {
        spec.linux!.resources = { pids: { limit: 10 } };
      });
      const refused = sandbox.runc(['run', '--bundle', limited, sandbox.id('limit')]);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain(
        'cannot set pids limit: container could not join or create cgroup (linux.resources.pids: this user may not create cgroups here',
      );
      // A cgroupsPath the user may not use is an error even when rootless (runc's rule).
      const named = sandbox.bundle((spec) => {
        spec.linux!.cgroupsPath = `/runc-ts-rootless-${process.pid}`;
      });
      const namedRun = sandbox.runc(['run', '--bundle', named, sandbox.id('named')]);
      expect(namedRun.status).toBe(1);
      expect(namedRun.stderr).toMatch(
        /unable to apply cgroup configuration: create cgroup \S+: permission denied \(EACCES\)/,
      );
      // --rootless false: permission errors are not skipped, as in runc.
      const strict = sandbox.runc([
        '--rootless',
        'false',
        'run',
        '--bundle',
        bundle,
        sandbox.id('strict'),
      ]);
      expect(strict.status).toBe(1);
      expect(strict.stderr).toMatch(/create cgroup \S+: permission denied/i);
    },
  );

  it('refuses a config without a user namespace, unmapped uid= options, additional groups', () => {
    const noUserns = sandbox.bundle((spec) => {
      spec.linux!.namespaces = spec.linux!.namespaces!.filter((ns) => ns.type !== 'user');
    });
    const refused = sandbox.runc(['run', '--bundle', noUserns, sandbox.id('nouserns')]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(
      'linux.namespaces: a rootless container requires a user namespace',
    );
    const uidOption = sandbox.bundle((spec) => {
      spec.mounts!.push({ destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['uid=5'] });
    });
    expect(sandbox.runc(['run', '--bundle', uidOption, sandbox.id('uidopt')]).stderr).toMatch(
      /mounts\[\d+\]\.options\[0\]: uid=5 names a uid that is not mapped/,
    );
    const groups = sandbox.bundle((spec) => {
      spec.process!.user = { uid: 0, gid: 0, additionalGids: [0] };
    });
    expect(sandbox.runc(['run', '--bundle', groups, sandbox.id('groups')]).stderr).toContain(
      'cannot set additional groups in a rootless container',
    );
  });

  it("refuses an rlimit above the user's own hard limit", () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.rlimits = [{ type: 'RLIMIT_NOFILE', hard: 2 ** 50, soft: 1024 }];
    });
    const result = sandbox.runc(['run', '--bundle', bundle, sandbox.id('rlimit')]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      `process.rlimits[0]: RLIMIT_NOFILE hard limit ${2 ** 50} is above this user's own hard limit`,
    );
  });
});

describe.skipIf(unavailable)(title('errors that say what to fix'), () => {
  it('user namespaces disabled (max_user_namespaces = 0)', () => {
    const bundle = sandbox.bundle();
    const root = join(sandbox.dir, 'userns-state');
    // In a user namespace of its own, where the limit applies to it alone.
    const result = sandbox.run([
      'unshare',
      '--user',
      '--map-root-user',
      'sh',
      '-c',
      'echo 0 > /proc/sys/user/max_user_namespaces && exec "$@"',
      'sh',
      sandbox.runcBinary,
      '--root',
      root,
      'run',
      '--bundle',
      bundle,
      sandbox.id('nouserns'),
    ]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      'linux.namespaces: cannot create a user namespace: user namespaces are disabled: /proc/sys/user/max_user_namespaces is 0',
    );
    expect(existsSync(root) ? spawnSync('ls', ['-A', root]).stdout.toString() : '').toBe('');
  });

  it('no /etc/subuid entry for the user', () => {
    const other = new RootlessSandbox(ensureTestUser(NO_SUBID_USER, { subids: false }));
    try {
      const bundle = other.bundle((spec) => {
        spec.linux!.uidMappings!.push({ containerID: 1, hostID: 100000, size: 1000 });
      });
      const result = other.runc(['run', '--bundle', bundle, other.id('nosubid')]);
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(
        `linux.uidMappings: /etc/subuid has no entry for user ${NO_SUBID_USER}, so newuidmap refuses to map`,
      );
      expect(result.stderr).toContain(`usermod --add-subuids 100000-165535 ${NO_SUBID_USER}`);
    } finally {
      other.cleanup();
    }
  });

  it('a range outside what /etc/subgid grants', () => {
    const outside = user.subgid!.start + user.subgid!.count;
    const bundle = sandbox.bundle((spec) => {
      spec.linux!.gidMappings!.push({ containerID: 1, hostID: outside, size: 10 });
    });
    const result = sandbox.runc(['run', '--bundle', bundle, sandbox.id('outside')]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      `linux.gidMappings: 1-10 -> ${outside}-${outside + 9} is outside what /etc/subgid grants user ${user.name}`,
    );
  });

  it('newuidmap not installed (not on PATH)', () => {
    const bin = join(sandbox.dir, 'node-only');
    mkdirSync(bin, { recursive: true });
    if (!existsSync(join(bin, 'node'))) symlinkSync(process.execPath, join(bin, 'node'));
    const bundle = sandbox.bundle((spec) => {
      spec.linux!.uidMappings!.push({
        containerID: 1,
        hostID: user.subuid!.start,
        size: 10,
      });
    });
    const result = sandbox.runc(['run', '--bundle', bundle, sandbox.id('notool')], {
      env: { PATH: bin },
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      'which only the setuid helper newuidmap can write, and newuidmap is not on PATH: install it (Debian/Ubuntu: apt-get install uidmap',
    );
  });

  it('XDG_RUNTIME_DIR or --root not writable', () => {
    const xdg = sandbox.runc(['list'], { root: null, env: { XDG_RUNTIME_DIR: '/' } });
    expect(xdg.status).toBe(1);
    expect(xdg.stderr).toContain(
      'cannot create the state directory /runc-ts: permission denied (EACCES). The path in $XDG_RUNTIME_DIR must be a directory this user can write',
    );
    const bundle = sandbox.bundle();
    const noXdg = sandbox.runc(['run', '--bundle', bundle, sandbox.id('noxdg')], {
      root: null,
      env: { XDG_RUNTIME_DIR: undefined },
    });
    expect(noXdg.status).toBe(1);
    expect(noXdg.stderr).toContain('cannot use state directory --root /run/runc-ts');
    expect(noXdg.stderr).toContain(
      'set XDG_RUNTIME_DIR (the default is then $XDG_RUNTIME_DIR/runc-ts) or pass --root DIR',
    );
    const notMine = sandbox.runc(['run', '--bundle', bundle, sandbox.id('root')], {
      root: '/var/lib/runc-ts-not-writable',
    });
    expect(notMine.status).toBe(1);
    expect(notMine.stderr).toContain(
      'cannot use state directory --root /var/lib/runc-ts-not-writable: permission denied (EACCES)',
    );
  });
});

describe.skipIf(unavailable)(
  title('as root of a user namespace it did not make (unshare --map-root-user; rootless podman)'),
  () => {
    /**
     * Runs a bundle without a user namespace of its own with runc-ts and with
     * runc, each as root of a namespace `unshare --map-root-user` made for
     * the user: the user's uid is 0 there and setgroups is denied.
     */
    function unshared(edit: (spec: import('@runc-ts/spec').Spec) => void) {
      const bundle = sandbox.bundle((spec) => {
        spec.linux!.namespaces = spec.linux!.namespaces!.filter((ns) => ns.type !== 'user');
        delete spec.linux!.uidMappings;
        delete spec.linux!.gidMappings;
        edit(spec);
      });
      const once = (binary: string, label: string) => {
        const root = sandbox.trackRoot(join(sandbox.dir, `unshared-${label}`));
        const result = sandbox.run([
          'unshare',
          '--user',
          '--map-root-user',
          binary,
          '--root',
          root,
          'run',
          '--bundle',
          bundle,
          sandbox.id('unshared'),
        ]);
        return { status: result.status, stdout: result.stdout, stderr: result.stderr };
      };
      return { ours: once(sandbox.runcBinary, 'runc-ts'), theirs: once('/usr/sbin/runc', 'runc') };
    }

    it('bind-mounts the devices (mknod is not allowed there) and leaves setgroups out, as runc does', () => {
      const { ours, theirs } = unshared((spec) => {
        spec.process!.args = [
          'sh',
          '-c',
          "stat -c '%u:%g %t,%T %F' /dev/null /dev/tty; grep -E '^(Uid|Groups):' /proc/self/status; cat /proc/self/setgroups",
        ];
      });
      expect(ours).toEqual({
        status: 0,
        // the host's nodes, their owner (host root) not mapped
        stdout:
          '65534:65534 1,3 character special file\n' +
          '65534:65534 5,0 character special file\n' +
          // the caller's own group (its gid, 0 there) stays: it cannot be dropped
          'Uid:\t0\t0\t0\t0\nGroups:\t0 \ndeny\n',
        stderr: '',
      });
      expect(ours).toEqual(theirs);
    });

    it('refuses additionalGids there, saying why (runc drops them silently)', () => {
      const { ours, theirs } = unshared((spec) => {
        spec.process!.user!.additionalGids = [0];
        spec.process!.args = ['grep', '^Groups:', '/proc/self/status'];
      });
      expect(theirs).toEqual({ status: 0, stdout: 'Groups:\t0 \n', stderr: '' });
      expect(ours.status).toBe(1);
      expect(ours.stderr).toContain(
        'process.user.additionalGids: cannot set additional groups: setgroups(2) is denied in the user namespace the runtime runs in (/proc/self/setgroups says deny)',
      );
    });
  },
);

describe.skipIf(unavailable)(title('leftovers'), () => {
  it('no process or mount of the earlier tests is left in the sandbox', () => {
    expect(leftovers(sandbox.dir)).toEqual({ processes: [], mounts: [] });
  });
});
