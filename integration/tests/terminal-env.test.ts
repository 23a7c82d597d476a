import { chmodSync, chownSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Spec } from '@runc-ts/spec';
import { afterAll, describe, expect, it } from 'vitest';
import { referenceRunc, runCaptured } from '../support/runc.js';
import { Sandbox } from '../support/sandbox.js';

// Issue 13, "Terminal and environment": what runc (1.5) does with the
// process' terminal, environment, exec errors, --debug, capabilities and
// personality, checked directly (and against runc 1.1.5 where it agrees).

const sandbox = new Sandbox();
const referenceRoot = join(sandbox.dir, 'reference-state');
afterAll(() => {
  const listed = runCaptured(referenceRunc, ['--root', referenceRoot, 'list', '-q'], {
    dir: sandbox.dir,
  });
  for (const id of listed.stdout.split('\n').filter(Boolean)) {
    runCaptured(referenceRunc, ['--root', referenceRoot, 'delete', '--force', id], {
      dir: sandbox.dir,
    });
  }
  sandbox.cleanup();
});

/** The reference runc 1.1.5 on the same bundle (its own --root). */
function reference(args: readonly string[]) {
  return runCaptured(referenceRunc, ['--root', referenceRoot, ...args], {
    dir: sandbox.dir,
    input: '',
  });
}

/** A bundle whose /etc/passwd has a user 1000 with a home of its own. */
function bundleWithUser(edit: (spec: Spec) => void): string {
  const bundle = sandbox.bundle(edit);
  const passwd = join(bundle, 'rootfs/etc/passwd');
  writeFileSync(passwd, `${readFileSync(passwd, 'utf8')}app:x:1000:1000::/home/app:/bin/sh\n`);
  return bundle;
}

/** Runs a detached container of `bundle` for exec tests; its id. */
function detached(bundle: string, label: string): string {
  const id = sandbox.id(label);
  const started = sandbox.runc(['run', '-d', '-b', bundle, id]);
  if (started.status !== 0) throw new Error(`run -d failed: ${started.stderr}`);
  return id;
}

describe('1. terminal: true with a captured stdout', () => {
  it('run and exec -t end lines in \\n (ONLCR off on the pty), as runc', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.terminal = true;
      spec.process!.args = ['sh', '-c', "printf 'a\\nb\\n'; tty"];
    });
    const run = sandbox.runc(['run', '-b', bundle, sandbox.id('onlcr')]);
    expect(run).toMatchObject({ status: 0, stdout: 'a\nb\n/dev/pts/0\n' });

    const id = detached(
      sandbox.bundle((spec) => {
        spec.process!.args = ['sleep', '1000'];
      }),
      'onlcr-exec',
    );
    const exec = sandbox.runc(['exec', '-t', id, 'sh', '-c', "printf 'x\\ny\\n'"]);
    expect(exec).toMatchObject({ status: 0, stdout: 'x\ny\n' });
    sandbox.runc(['delete', '--force', id]);
  });
});

describe('2. HOME from the container /etc/passwd', () => {
  it.each([
    [[], 0, '/root'],
    [['HOME='], 0, '/root'],
    [['HOME=/kept'], 0, '/kept'],
    [[], 1000, '/home/app'],
    [[], 4242, '/'],
  ])('run: env %j as uid %i gets HOME=%s', (env, uid, home) => {
    const bundle = bundleWithUser((spec) => {
      spec.process!.args = ['sh', '-c', 'echo "$HOME"'];
      spec.process!.env = ['PATH=/bin', ...env];
      spec.process!.user = { uid, gid: uid };
    });
    expect(sandbox.runc(['run', '-b', bundle, sandbox.id('home')])).toMatchObject({
      status: 0,
      stdout: `${home}\n`,
    });
  });

  it('exec, exec --user, exec --env HOME= and exec -p get it too; a non-empty HOME is kept', () => {
    const bundle = bundleWithUser((spec) => {
      spec.process!.args = ['sleep', '1000'];
      spec.process!.env = ['PATH=/bin'];
    });
    const id = detached(bundle, 'home-exec');
    const home = (...args: string[]) => sandbox.runc(['exec', ...args]).stdout;
    const echo = [id, 'sh', '-c', 'echo "$HOME"'];
    expect(home(...echo)).toBe('/root\n');
    expect(home('--user', '1000:1000', ...echo)).toBe('/home/app\n');
    expect(home('--user', '4242', ...echo)).toBe('/\n');
    expect(home('--env', 'HOME=', ...echo)).toBe('/root\n');
    expect(home('--env', 'HOME=/mine', '--user', '1000', ...echo)).toBe('/mine\n');
    const processJson = join(bundle, 'process.json');
    writeFileSync(
      processJson,
      JSON.stringify({
        cwd: '/',
        args: ['sh', '-c', 'echo "$HOME"'],
        env: ['PATH=/bin'],
        user: { uid: 1000, gid: 1000 },
      }),
    );
    expect(home('-p', processJson, id)).toBe('/home/app\n');
    sandbox.runc(['delete', '--force', id]);
  });
});

describe('3. repeated environment keys', () => {
  it('the last value wins, in the first place, once; newlines pass unchanged (as runc)', () => {
    const bundle = sandbox.bundle((spec) => {
      // exactly what execve got (a shell would rewrite its own)
      spec.process!.args = ['cat', '/proc/self/environ'];
      spec.process!.env = ['A=1', 'HOME=/h', 'A=2', 'B=x\ny', 'A=3', 'PATH=/bin'];
    });
    const ours = sandbox.runc(['run', '-b', bundle, sandbox.id('env')]);
    expect(ours).toMatchObject({ status: 0, stdout: 'A=3\0HOME=/h\0B=x\ny\0PATH=/bin\0' });
    // (runc 1.1.5 may add "cannot start a container that has stopped" when
    // the process is this quick: only its output is compared)
    const theirs = reference(['run', '-b', bundle, sandbox.id('env-ref')]);
    expect(theirs.stdout).toBe(ours.stdout);
  });

  it('an entry without "=" fails the create, as runc', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.env = ['PATH=/bin', 'NOEQ'];
    });
    const ours = sandbox.runc(['run', '-b', bundle, sandbox.id('noeq')]);
    expect(ours.status).toBe(1);
    expect(ours.stderr).toContain('invalid environment variable: \\"NOEQ\\"');
    const theirs = reference(['run', '-b', bundle, sandbox.id('noeq-ref')]);
    expect(theirs.status).toBe(1);
    expect(theirs.stderr).toContain('invalid environment variable: \\"NOEQ\\"');
    expect(sandbox.runc(['list', '-q']).stdout).not.toContain('noeq');
  });
});

describe('4. startContainer hooks', () => {
  it("run with the container process' environment when they have none of their own", () => {
    const bundle = sandbox.bundle((spec) => {
      spec.root!.readonly = false;
      spec.process!.args = ['true'];
      spec.process!.env = ['PATH=/bin', 'ONE=two', 'FOO=bar'];
      spec.hooks = {
        startContainer: [
          { path: '/check-env.sh' },
          { path: '/check-env.sh', args: ['check-env.sh', 'own'], env: ['ONE=mine'] },
        ],
      };
    });
    const script = join(bundle, 'rootfs/check-env.sh');
    writeFileSync(
      script,
      '#!/bin/sh\n[ -n "$1" ] || set -- inherited\necho "$1 ONE=$ONE FOO=$FOO HOME=$HOME" >> /hooks.out\n',
    );
    chmodSync(script, 0o755);
    expect(sandbox.runc(['run', '-b', bundle, sandbox.id('hookenv')]).status).toBe(0);
    expect(readFileSync(join(bundle, 'rootfs/hooks.out'), 'utf8')).toBe(
      'inherited ONE=two FOO=bar HOME=/root\nown ONE=mine FOO= HOME=\n',
    );
  });
});

describe('5. exec errors', () => {
  const firstLine = (text: string) => text.split('\n')[0];

  it('a missing program: "exec <path>: no such file or directory", 127, for run and exec', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['/run.sh'];
    });
    const run = sandbox.runc(['run', '-b', bundle, sandbox.id('enoent')]);
    expect(run.status).toBe(127);
    expect(firstLine(run.stderr)).toBe('exec /run.sh: no such file or directory');

    const id = detached(
      sandbox.bundle((spec) => {
        spec.process!.args = ['sleep', '1000'];
      }),
      'enoent-exec',
    );
    const exec = sandbox.runc(['exec', id, '/run.sh']);
    expect(exec.status).toBe(127);
    expect(firstLine(exec.stderr)).toBe('exec /run.sh: no such file or directory');
    const notExecutable = sandbox.runc(['exec', id, '/etc/passwd']);
    expect(notExecutable.status).toBe(126);
    expect(firstLine(notExecutable.stderr)).toBe('exec /etc/passwd: permission denied');
    sandbox.runc(['delete', '--force', id]);
  });

  it('the kernel decides: root with CAP_DAC_OVERRIDE runs a file only its owner may run', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['/owner-only.sh'];
      spec.process!.capabilities!.bounding!.push('CAP_DAC_OVERRIDE');
      spec.process!.capabilities!.effective!.push('CAP_DAC_OVERRIDE');
      spec.process!.capabilities!.permitted!.push('CAP_DAC_OVERRIDE');
    });
    const file = join(bundle, 'rootfs/owner-only.sh');
    writeFileSync(file, '#!/bin/sh\necho ran\n');
    chownSync(file, 1000, 1000);
    chmodSync(file, 0o700);
    expect(sandbox.runc(['run', '-b', bundle, sandbox.id('dac')])).toMatchObject({
      status: 0,
      stdout: 'ran\n',
    });
    // No execute bit at all: the kernel refuses even root.
    chmodSync(file, 0o600);
    const refused = sandbox.runc(['run', '-b', bundle, sandbox.id('noexec')]);
    expect(refused.status).toBe(126);
    expect(firstLine(refused.stderr)).toBe('exec /owner-only.sh: permission denied');
  });
});

describe('6. tty ownership', () => {
  it('the pty belongs to process.user (uid) and the tty group, for run and exec', () => {
    const stat = ['sh', '-c', 'stat -c "%u %g" "$(tty)"'];
    const bundle = sandbox.bundle((spec) => {
      spec.process!.terminal = true;
      spec.process!.args = stat;
      spec.process!.user = { uid: 1000, gid: 1000 };
    });
    expect(sandbox.runc(['run', '-b', bundle, sandbox.id('ttyown')])).toMatchObject({
      status: 0,
      stdout: '1000 5\n',
    });
    const id = detached(
      sandbox.bundle((spec) => {
        spec.process!.args = ['sleep', '1000'];
      }),
      'ttyown-exec',
    );
    expect(sandbox.runc(['exec', '-t', '--user', '1000:1000', id, ...stat])).toMatchObject({
      status: 0,
      stdout: '1000 5\n',
    });
    expect(sandbox.runc(['exec', '-t', id, ...stat]).stdout).toBe('0 5\n');
    sandbox.runc(['delete', '--force', id]);
  });
});

describe('7. --debug', () => {
  const runcStages = (text: string) => {
    expect(text).toContain('nsexec started');
    expect(text).toContain('child process in init()');
    expect(text).toContain('executor op #0: OPEN_FIFO');
  };

  it('run: debug lines on stderr, as text; stdout untouched', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['echo', 'hello'];
    });
    const result = sandbox.runc(['--debug', 'run', '-b', bundle, sandbox.id('debug')]);
    expect(result).toMatchObject({ status: 0, stdout: 'hello\n' });
    expect(result.stderr).toContain('level=debug');
    runcStages(result.stderr);
    expect(result.stderr).toContain('run: process exited');
  });

  it('run, create and exec to --log, text and JSON; nothing on stderr', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['sleep', '1000'];
    });
    for (const format of ['text', 'json'] as const) {
      const log = join(sandbox.dir, `debug-${format}.log`);
      const id = sandbox.id(`debug-${format}`);
      const global = ['--log', log, '--log-format', format, '--debug'];
      const created = sandbox.runc([...global, 'create', '-b', bundle, id]);
      expect(created).toMatchObject({ status: 0, stderr: '' });
      expect(sandbox.runc([...global, 'start', id]).status).toBe(0);
      expect(sandbox.runc([...global, 'exec', id, 'true'])).toMatchObject({
        status: 0,
        stderr: '',
      });
      const text = readFileSync(log, 'utf8');
      runcStages(text);
      expect(text).toContain('exec: executor op #0: SETNS');
      expect(text).toContain('start: released the init');
      if (format === 'json') {
        expect(text).toContain('"level":"debug"');
        for (const line of text.trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
      } else {
        expect(text).toContain('level=debug');
      }
      sandbox.runc(['delete', '--force', id]);
    }
  });
});

describe('8. unknown capability names', () => {
  it('are skipped with one warning, as runc does; the known ones apply', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['grep', 'CapBnd', '/proc/self/status'];
      spec.process!.capabilities!.bounding!.push('CAP_FOO_BAR');
      spec.process!.capabilities!.effective!.push('CAP_BLAH');
    });
    const ours = sandbox.runc(['run', '-b', bundle, sandbox.id('caps')]);
    expect(ours.status).toBe(0);
    expect(ours.stderr).toContain(
      'level=warning msg="ignoring unknown or unavailable capabilities: [CAP_BLAH CAP_FOO_BAR]"',
    );
    const theirs = reference(['run', '-b', bundle, sandbox.id('caps-ref')]);
    expect(ours.stdout).toBe(theirs.stdout);
    expect(theirs.stderr).toContain(
      'ignoring unknown or unavailable capabilities: [CAP_BLAH CAP_FOO_BAR]',
    );
  });
});

describe('9. linux.personality', () => {
  it('applies to run and to exec (an i686 container says i686)', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['sh', '-c', 'uname -m; sleep 1000'];
      spec.linux!.personality = { domain: 'LINUX32' };
    });
    const id = detached(bundle, 'i686');
    expect(sandbox.runc(['exec', id, 'uname', '-m'])).toMatchObject({
      status: 0,
      stdout: 'i686\n',
    });
    sandbox.runc(['delete', '--force', id]);
    const run = sandbox.runc([
      'run',
      '-b',
      sandbox.bundle((spec) => {
        spec.process!.args = ['uname', '-m'];
        spec.linux!.personality = { domain: 'LINUX32' };
      }),
      sandbox.id('i686-run'),
    ]);
    expect(run).toMatchObject({ status: 0, stdout: 'i686\n' });
  });

  // runc only warns "ignoring unsupported personality flags"; runc-ts applies them.
  it('applies flags: ADDR_NO_RANDOMIZE really turns ASLR off, for run and exec', () => {
    const stacks =
      'cat /proc/self/personality; grep stack /proc/self/maps; grep stack /proc/self/maps';
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['sh', '-c', `${stacks}; sleep 1000`];
      spec.linux!.personality = { domain: 'LINUX', flags: ['ADDR_NO_RANDOMIZE'] };
    });
    const id = detached(bundle, 'norandom');
    const { pid } = JSON.parse(sandbox.runc(['state', id]).stdout) as { pid: number };
    const initPersona = readFileSync(`/proc/${pid}/personality`, 'utf8');
    const exec = sandbox.runc(['exec', id, 'sh', '-c', stacks]);
    sandbox.runc(['delete', '--force', id]);
    expect(initPersona).toBe('00040000\n');
    const [persona, first, second] = exec.stdout.split('\n');
    expect(persona).toBe('00040000');
    expect(first).toMatch(/\[stack\]$/);
    expect(second).toBe(first); // two processes, one stack address: no randomization
    // The control: without the flag, two processes' stacks differ.
    const control = sandbox.runc([
      'run',
      '-b',
      sandbox.bundle((spec) => {
        spec.process!.args = ['sh', '-c', stacks];
      }),
      sandbox.id('random'),
    ]);
    const [persona0, first0, second0] = control.stdout.split('\n');
    expect(persona0).toBe('00000000');
    expect(second0).not.toBe(first0);
  });

  it('refuses an unknown flag, naming it, and leaves nothing behind', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.linux!.personality = { flags: ['ADDR_NO_RANDOMIZE', 'NO_SUCH_FLAG'] };
    });
    const id = sandbox.id('badflag');
    const run = sandbox.runc(['run', '-b', bundle, id]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      'msg="linux.personality.flags[1]: unknown personality flag \\"NO_SUCH_FLAG\\" (known: UNAME26,',
    );
    expect(sandbox.runc(['state', id]).status).not.toBe(0);
  });
});
