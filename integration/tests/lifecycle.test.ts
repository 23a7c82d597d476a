import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runcTs } from '../support/runc.js';
import { leftovers, Sandbox } from '../support/sandbox.js';

const sandbox = new Sandbox();
afterAll(() => sandbox.cleanup());

describe('create → start → kill → delete', () => {
  it('goes through created, running, stopped with runc-shaped state JSON', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['sleep', '1000'];
    });
    const id = sandbox.id('life');
    expect(sandbox.runc(['create', '--bundle', bundle, id])).toMatchObject({
      status: 0,
      stderr: '',
    });

    const created = sandbox.state(id);
    expect(Object.keys(created)).toEqual([
      'ociVersion',
      'id',
      'pid',
      'status',
      'bundle',
      'rootfs',
      'created',
      'owner',
    ]);
    expect(created).toMatchObject({
      id,
      status: 'created',
      bundle,
      rootfs: join(bundle, 'rootfs'),
    });
    expect(created.pid).toBeGreaterThan(1);
    expect(readFileSync(`/proc/${created.pid}/cmdline`, 'utf8')).not.toContain('sleep');

    expect(sandbox.runc(['start', id]).status).toBe(0);
    const running = sandbox.state(id);
    expect(running).toMatchObject({ status: 'running', pid: created.pid });
    expect(readFileSync(`/proc/${created.pid}/cmdline`, 'utf8')).toBe('sleep\u00001000\u0000');

    const again = sandbox.runc(['start', id]);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('cannot start an already running container');

    const refused = sandbox.runc(['delete', id]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(`cannot delete container ${id} that is not stopped: running`);

    expect(sandbox.runc(['kill', id, 'KILL']).status).toBe(0);
    for (let i = 0; i < 200 && sandbox.state(id).status !== 'stopped'; i++)
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    expect(sandbox.state(id)).toMatchObject({ status: 'stopped', pid: 0 });

    expect(sandbox.runc(['delete', id]).status).toBe(0);
    const gone = sandbox.runc(['state', id]);
    expect(gone.status).toBe(1);
    expect(gone.stderr).toContain('container does not exist');
    expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
  });

  it('list: table, json and quiet', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['sleep', '1000'];
    });
    const id = sandbox.id('list');
    expect(sandbox.runc(['create', '-b', bundle, id]).status).toBe(0);
    const table = sandbox.runc(['list']).stdout.split('\n');
    expect(table[0]).toMatch(/^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER$/);
    expect(table.find((line) => line.startsWith(id))).toMatch(/\s+created\s+/);
    const json = JSON.parse(sandbox.runc(['list', '--format', 'json']).stdout);
    expect(json.find((c: any) => c.id === id)).toMatchObject({ status: 'created', owner: 'root' });
    expect(sandbox.runc(['list', '-q']).stdout.split('\n')).toContain(id);
    expect(sandbox.runc(['delete', '--force', id]).status).toBe(0);
    expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
  });

  it('--pid-file gets the init pid', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['sleep', '1000'];
    });
    const id = sandbox.id('pidfile');
    const pidFile = join(bundle, 'init.pid');
    expect(sandbox.runc(['create', '-b', bundle, '--pid-file', pidFile, id]).status).toBe(0);
    expect(Number(readFileSync(pidFile, 'utf8'))).toBe(sandbox.state(id).pid);
    expect(sandbox.runc(['delete', '-f', id]).status).toBe(0);
  });
  it('kill TERM stops a created container; USR1 does not (as with runc)', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['sleep', '1000'];
    });
    const waitStopped = (id: string) => {
      for (let i = 0; i < 200 && sandbox.state(id).status !== 'stopped'; i++)
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    };
    const terminated = sandbox.id('term');
    expect(sandbox.runc(['create', '-b', bundle, terminated]).status).toBe(0);
    expect(sandbox.runc(['kill', terminated, 'TERM']).status).toBe(0);
    waitStopped(terminated);
    expect(sandbox.state(terminated).status).toBe('stopped');

    const ignored = sandbox.id('usr1');
    expect(sandbox.runc(['create', '-b', bundle, ignored]).status).toBe(0);
    expect(sandbox.runc(['kill', ignored, 'USR1']).status).toBe(0);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    expect(sandbox.state(ignored).status).toBe('created');
    // Once started, the handlers are gone: sleep, pid 1 without a handler,
    // ignores TERM as it does under runc.
    expect(sandbox.runc(['start', ignored]).status).toBe(0);
    expect(sandbox.runc(['kill', ignored, 'TERM']).status).toBe(0);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    expect(sandbox.state(ignored).status).toBe('running');
    expect(sandbox.runc(['delete', '-f', terminated]).status).toBe(0);
    expect(sandbox.runc(['delete', '-f', ignored]).status).toBe(0);
    expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
  });
});

describe('concurrency', () => {
  it('concurrent creates of one id: exactly one wins, the state stays intact', async () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['sleep', '1000'];
    });
    const id = sandbox.id('race');
    const attempts = Array.from({ length: 6 }, () => {
      const child = spawn(runcTs, ['--root', sandbox.root, 'create', '-b', bundle, id], {
        stdio: ['ignore', 'ignore', 'ignore'],
      });
      return new Promise<number | null>((resolve) => child.once('exit', resolve));
    });
    const codes = await Promise.all(attempts);
    expect(codes.filter((code) => code === 0)).toHaveLength(1);
    expect(codes.filter((code) => code === 1)).toHaveLength(5);
    expect(sandbox.state(id).status).toBe('created');
    expect(sandbox.runc(['delete', '-f', id]).status).toBe(0);
    expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
  });
});

describe('run', () => {
  it('exits with the container process status and deletes the container', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['sh', '-c', 'echo out; echo err >&2; exit 3'];
    });
    const id = sandbox.id('exit');
    const result = sandbox.runc(['run', '-b', bundle, id]);
    expect(result).toMatchObject({ status: 3, stdout: 'out\n', stderr: 'err\n' });
    expect(sandbox.runc(['state', id]).status).toBe(1);
    expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
  });

  it('exits 128+signal when the process is killed', async () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['sleep', '1000'];
    });
    const id = sandbox.id('killed');
    const child = spawn(runcTs, ['--root', sandbox.root, 'run', '-b', bundle, id], {
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    for (let i = 0; i < 500; i++) {
      const state = sandbox.runc(['state', id]);
      if (state.status === 0 && JSON.parse(state.stdout).status === 'running') break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(sandbox.runc(['kill', id, 'KILL']).status).toBe(0);
    expect(await exited).toBe(137);
    expect(sandbox.runc(['state', id]).status).toBe(1);
  });

  it('a foreground run and exec forward the SIGTERM they receive to the process', async () => {
    // The process says it is ready once its trap is set, then waits.
    const trapping = 'trap "echo got-term; exit 5" TERM; echo ready; while :; do sleep 0.05; done';
    const signalled = async (args: string[]) => {
      const child = spawn(runcTs, ['--root', sandbox.root, ...args], {
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
      });
      const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
      for (let i = 0; i < 1000 && !out.includes('ready'); i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      child.kill('SIGTERM');
      return { code: await exited, out };
    };
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['sh', '-c', trapping];
    });
    const id = sandbox.id('fwd');
    expect(await signalled(['run', '-b', bundle, id])).toEqual({
      code: 5,
      out: 'ready\ngot-term\n',
    });
    expect(sandbox.runc(['state', id]).status).toBe(1);

    const running = sandbox.bundle((spec) => {
      spec.process!.args = ['sleep', '1000'];
    });
    const target = sandbox.id('fwdexec');
    expect(sandbox.runc(['run', '-d', '-b', running, target]).status).toBe(0);
    try {
      expect(await signalled(['exec', target, 'sh', '-c', trapping])).toEqual({
        code: 5,
        out: 'ready\ngot-term\n',
      });
      expect(sandbox.state(target).status).toBe('running');
    } finally {
      sandbox.runc(['delete', '-f', target]);
    }
  });

  it('--keep leaves the stopped container; -d returns while it runs', () => {
    const keepBundle = sandbox.bundle((spec) => {
      spec.process!.args = ['true'];
    });
    const kept = sandbox.id('keep');
    expect(sandbox.runc(['run', '--keep', '-b', keepBundle, kept]).status).toBe(0);
    expect(sandbox.state(kept).status).toBe('stopped');
    expect(sandbox.runc(['delete', kept]).status).toBe(0);

    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['sleep', '1000'];
    });
    const detached = sandbox.id('detach');
    expect(sandbox.runc(['run', '-d', '-b', bundle, detached]).status).toBe(0);
    expect(sandbox.state(detached).status).toBe('running');
    expect(sandbox.runc(['delete', '-f', detached]).status).toBe(0);
    expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
  });
});

describe('inside the container', () => {
  const check = (script: string, edit?: Parameters<Sandbox['exec']>[1]) => {
    const result = sandbox.exec(['sh', '-c', script], edit);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    return result.stdout;
  };

  it('is pid 1 with the configured hostname, user and working directory', () => {
    const out = check('echo $$; hostname; id -u; id -g; pwd', (spec) => {
      spec.hostname = 'box';
      spec.process!.cwd = '/tmp';
    });
    expect(out).toBe('1\nbox\n0\n0\n/tmp\n');
  });

  it('runs as the configured uid/gid with additional groups', () => {
    const out = check('id -u; id -g; id -G', (spec) => {
      spec.process!.user = { uid: 1000, gid: 1001, additionalGids: [5, 6] };
      spec.root!.readonly = false;
    });
    expect(out).toBe('1000\n1001\n1001 5 6\n');
  });

  it("has exactly the template's capabilities and no new privileges", () => {
    const out = check('grep -E "^(Cap|NoNewPrivs)" /proc/self/status');
    // CAP_KILL(5) CAP_NET_BIND_SERVICE(10) CAP_AUDIT_WRITE(29)
    expect(out).toContain('CapEff:\t0000000020000420');
    expect(out).toContain('CapPrm:\t0000000020000420');
    expect(out).toContain('CapBnd:\t0000000020000420');
    expect(out).toContain('CapInh:\t0000000000000000');
    expect(out).toContain('CapAmb:\t0000000000000000');
    expect(out).toContain('NoNewPrivs:\t1');
  });

  it('has the configured rlimits', () => {
    expect(check('ulimit -n')).toBe('1024\n');
  });

  it('has a read-only root, masked and read-only kernel paths', () => {
    const out = check(
      'touch /x 2>/dev/null && echo root-rw || echo root-ro; ' +
        'wc -c < /proc/keys; ' +
        'ls /sys/firmware | wc -l; ' +
        '(echo 1 > /proc/sys/kernel/hostname) 2>/dev/null && echo sys-rw || echo sys-ro',
    );
    expect(out).toBe('root-ro\n0\n0\nsys-ro\n');
  });

  it('has the default devices and /dev symlinks, and no host devices', () => {
    const out = check('ls /dev | sort | tr "\\n" " "; echo; ls -l /dev/null | cut -c1');
    expect(out).toBe(
      'fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero \nc\n',
    );
  });

  it('inherits no host file descriptors', () => {
    // ls opens the directory itself as fd 3.
    expect(check('ls /proc/self/fd | tr "\\n" " "')).toBe('0 1 2 3 ');
  });

  it('mounts /proc, /dev/pts, /dev/shm, /dev/mqueue and /sys as configured', () => {
    const out = check('cut -d" " -f5,6 /proc/self/mountinfo');
    expect(out).toMatch(/^\/ ro,/m);
    expect(out).toMatch(/^\/proc rw,relatime/m);
    expect(out).toMatch(/^\/dev rw,nosuid/m);
    expect(out).toMatch(/^\/dev\/pts rw,nosuid,noexec/m);
    expect(out).toMatch(/^\/dev\/shm rw,nosuid,nodev,noexec/m);
    expect(out).toMatch(/^\/sys ro,nosuid,nodev,noexec/m);
  });

  it('runs with --no-pivot', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['sh', '-c', 'echo $$; ls /'];
    });
    const result = sandbox.runc(['run', '--no-pivot', '-b', bundle, sandbox.id('nopivot')]);
    expect(result.status).toBe(0);
    expect(result.stdout.startsWith('1\n')).toBe(true);
  });

  it('applies sysctls, oom_score_adj, umask, domainname', () => {
    const out = check(
      'cat /proc/sys/net/ipv4/ip_forward /proc/self/oom_score_adj; grep Umask /proc/self/status; cat /proc/sys/kernel/domainname',
      (spec) => {
        spec.linux!.sysctl = { 'net.ipv4.ip_forward': '1' };
        spec.process!.oomScoreAdj = 123;
        spec.process!.user = { uid: 0, gid: 0, umask: 0o27 };
        spec.domainname = 'example.test';
      },
    );
    expect(out).toBe('1\n123\nUmask:\t0027\nexample.test\n');
  });

  it('bind-mounts host paths read-only and with the requested propagation', () => {
    const source = join(sandbox.dir, `share-${Date.now()}`);
    mkdirSync(source);
    writeFileSync(join(source, 'hello'), 'from the host\n');
    const out = check(
      'cat /mnt/share/hello; (echo x > /mnt/share/new) 2>/dev/null && echo rw || echo ro; grep " /mnt/share " /proc/self/mountinfo | cut -d" " -f6-7',
      (spec) => {
        spec.mounts!.push({
          destination: '/mnt/share',
          type: 'bind',
          source,
          options: ['rbind', 'ro', 'nosuid', 'rprivate'],
        });
      },
    );
    expect(out).toMatch(/^from the host\nro\nro,nosuid\S* (?!shared)/);
    expect(existsSync(join(source, 'new'))).toBe(false);
  });

  it('passes the environment and finds the program on $PATH', () => {
    const out = check('echo $FOO; which sh', (spec) => {
      spec.process!.env = ['PATH=/bin', 'FOO=bar baz'];
    });
    expect(out).toBe('bar baz\n/bin/sh\n');
  });
});

describe('failures leave nothing behind', () => {
  const failing = (
    args: (bundle: string, id: string) => string[],
    edit?: Parameters<Sandbox['bundle']>[0],
  ) => {
    const bundle = sandbox.bundle(edit);
    const id = sandbox.id('fail');
    const result = sandbox.runc(args(bundle, id));
    expect(result.status).toBe(1);
    expect(existsSync(join(sandbox.root, id))).toBe(false);
    expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
    return result.stderr;
  };

  it('a missing executable', () => {
    const stderr = failing(
      (b, id) => ['create', '-b', b, id],
      (spec) => {
        spec.process!.args = ['no-such-program'];
      },
    );
    expect(stderr).toContain('exec: \\"no-such-program\\": executable file not found in $PATH');
  });

  const systemdIsInit = readFileSync('/proc/1/comm', 'utf8').trim() === 'systemd';
  it.skipIf(systemdIsInit)(
    '--systemd-cgroup without systemd (this host: PID 1 is not systemd)',
    () => {
      const stderr = failing((b, id) => ['--systemd-cgroup', 'create', '-b', b, id]);
      expect(stderr).toContain('cannot reach systemd over D-Bus');
      expect(stderr).toContain('needs systemd running as the init system');
      expect(stderr).not.toContain('Warning');
    },
  );

  const hostRunsLsm =
    existsSync('/sys/fs/selinux/enforce') ||
    (existsSync('/sys/module/apparmor/parameters/enabled') &&
      readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').trim() === 'Y');
  it.skipIf(hostRunsLsm)(
    'an AppArmor profile or SELinux label on a host without that module (skipped on a host that runs AppArmor or SELinux)',
    () => {
      for (const [field, value, module] of [
        ['apparmorProfile', 'runc-ts-test', 'AppArmor'],
        ['selinuxLabel', 'system_u:system_r:container_t:s0', 'SELinux'],
      ] as const) {
        const stderr = failing(
          (b, id) => ['create', '-b', b, id],
          (spec) => {
            (spec.process as any)[field] = value;
          },
        );
        expect(stderr).toContain(`process.${field}: ${module} is not enabled on this host`);
      }
    },
  );

  it('a bad container id', () => {
    expect(failing((b) => ['create', '-b', b, 'a/b'])).toContain('invalid container ID format');
  });

  it('a duplicate id', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['sleep', '1000'];
    });
    const id = sandbox.id('dup');
    expect(sandbox.runc(['create', '-b', bundle, id]).status).toBe(0);
    const second = sandbox.runc(['create', '-b', bundle, id]);
    expect(second.status).toBe(1);
    expect(second.stderr).toContain('container with given ID already exists');
    expect(sandbox.state(id).status).toBe('created');
    expect(sandbox.runc(['delete', '-f', id]).status).toBe(0);
  });

  it('a missing rootfs', () => {
    const stderr = failing(
      (b, id) => ['create', '-b', b, id],
      (spec) => {
        spec.root!.path = 'no-such-rootfs';
      },
    );
    expect(stderr).toMatch(/root\.path: rootfs \/.*no-such-rootfs: no such file or directory/);
  });

  it('an invalid config names the JSON path', () => {
    const stderr = failing(
      (b, id) => ['create', '-b', b, id],
      (spec) => {
        (spec.linux!.namespaces![0] as any).type = 'bogus';
      },
    );
    expect(stderr).toMatch(/config\.json:\d+:\d+: linux\.namespaces\[0\]\.type: expected one of/);
  });

  it('a failing prestart hook', () => {
    const stderr = failing(
      (b, id) => ['create', '-b', b, id],
      (spec) => {
        spec.hooks = {
          prestart: [{ path: '/bin/sh', args: ['sh', '-c', 'echo hook-failed >&2; exit 7'] }],
        };
      },
    );
    expect(stderr).toContain('prestart hook #0 (/bin/sh): exit status 7: hook-failed');
  });
});

describe('hooks', () => {
  it('prestart, createRuntime, poststart and poststop get the state on stdin', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['true'];
    });
    const log = join(bundle, 'hooks.log');
    const hook = (name: string) => ({
      path: '/bin/sh',
      args: ['sh', '-c', `printf '${name} ' >> ${log}; cat >> ${log}; echo >> ${log}`],
    });
    const edit = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
    edit.hooks = {
      prestart: [hook('prestart')],
      createRuntime: [hook('createRuntime')],
      poststart: [hook('poststart')],
      poststop: [hook('poststop')],
    };
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(edit));
    const id = sandbox.id('hooks');
    expect(sandbox.runc(['run', '-b', bundle, id]).status).toBe(0);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines.map((line) => line.split(' ')[0])).toEqual([
      'prestart',
      'createRuntime',
      'poststart',
      'poststop',
    ]);
    const states = lines.map((line) => JSON.parse(line.slice(line.indexOf(' ') + 1)));
    expect(states[0]).toMatchObject({ id, status: 'creating', bundle });
    expect(states[0].pid).toBeGreaterThan(0);
    expect(states[2]).toMatchObject({ status: 'running' });
    expect(states[3]).toMatchObject({ status: 'stopped' });
  });

  it('a failing poststart or poststop hook is a logged warning; the command succeeds', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['true'];
      spec.hooks = {
        poststart: [{ path: '/bin/sh', args: ['sh', '-c', 'echo no-start >&2; exit 3'] }],
        poststop: [{ path: '/bin/sh', args: ['sh', '-c', 'echo no-stop >&2; exit 4'] }],
      };
    });
    const result = sandbox.runc(['run', '-b', bundle, sandbox.id('posthooks')]);
    expect(result.status).toBe(0);
    // runc's log format, not a Node.js process warning.
    expect(result.stderr).toContain(
      'level=warning msg="poststart hook #0 (/bin/sh): exit status 3: no-start"',
    );
    expect(result.stderr).toContain(
      'level=warning msg="poststop hook #0 (/bin/sh): exit status 4: no-stop"',
    );
    expect(result.stderr).not.toContain('Warning:');
  });
});

describe('hooks inside the container', () => {
  it('createContainer runs in the container namespaces before pivot_root, startContainer inside it', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['true'];
      spec.hostname = 'hooked';
      spec.root!.readonly = false;
    });
    const log = join(bundle, 'inside.log');
    const edit = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
    edit.hooks = {
      // Runs on the host filesystem view (path resolves there), but in the
      // container's mount namespace.
      createContainer: [
        {
          path: '/bin/sh',
          args: ['sh', '-c', `echo "create $(readlink /proc/self/ns/mnt) $(cat)" >> ${log}`],
        },
      ],
      // Runs inside the container's root: writes to the rootfs.
      startContainer: [
        { path: '/bin/sh', args: ['sh', '-c', 'echo "start $(hostname)" > /started'] },
      ],
    };
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(edit));
    const id = sandbox.id('inside');
    const result = sandbox.runc(['run', '-b', bundle, id]);
    expect(result).toMatchObject({ status: 0, stderr: '' });
    const [word, mountNs, ...state] = readFileSync(log, 'utf8').trim().split(' ');
    expect(word).toBe('create');
    expect(mountNs).toMatch(/^mnt:\[\d+\]$/);
    expect(mountNs).not.toBe(readlinkSync('/proc/self/ns/mnt'));
    expect(JSON.parse(state.join(' '))).toMatchObject({ id, status: 'creating' });
    expect(readFileSync(join(bundle, 'rootfs/started'), 'utf8')).toBe('start hooked\n');
  });

  it('a failing createContainer hook fails create and leaves nothing behind', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['true'];
      spec.hooks = { createContainer: [{ path: '/bin/false' }] };
    });
    const id = sandbox.id('badhook');
    const result = sandbox.runc(['create', '-b', bundle, id]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('createContainer hook #0 (/bin/false): exit status 1');
    expect(existsSync(join(sandbox.root, id))).toBe(false);
    expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
  });

  it('a hook that outlives its timeout is killed', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['true'];
      spec.hooks = { createRuntime: [{ path: '/bin/sleep', args: ['sleep', '30'], timeout: 1 }] };
    });
    const started = Date.now();
    const result = sandbox.runc(['create', '-b', bundle, sandbox.id('slowhook')]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('createRuntime hook #0 (/bin/sleep): timed out after 1s');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
  });
});
