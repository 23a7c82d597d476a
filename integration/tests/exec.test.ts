import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../support/sandbox.js';

const sandbox = new Sandbox();
let id: string;
let bundle: string;
beforeAll(() => {
  bundle = sandbox.bundle((spec) => {
    spec.process!.args = ['sleep', '1000'];
    spec.process!.env = ['PATH=/bin', 'FROM_CONFIG=1'];
    spec.root!.readonly = false;
  });
  id = sandbox.id('exec');
  const started = sandbox.runc(['run', '-d', '-b', bundle, id]);
  if (started.status !== 0) throw new Error(`run -d failed: ${started.stderr}`);
});
afterAll(() => sandbox.cleanup());

describe('runc exec', () => {
  it("runs in the container's namespaces and returns the exit status", () => {
    const result = sandbox.runc([
      'exec',
      id,
      'sh',
      '-c',
      'hostname; cat /proc/1/cmdline | tr "\\0" " "; exit 7',
    ]);
    expect(result).toMatchObject({ status: 7, stdout: 'runc\nsleep 1000 ', stderr: '' });
  });

  it('keeps options after the command for the command', () => {
    const result = sandbox.runc(['exec', id, 'sh', '-c', 'echo -c -t']);
    expect(result.stdout).toBe('-c -t\n');
  });

  it('--env adds to the config environment, --cwd and --user change the process', () => {
    const result = sandbox.runc([
      'exec',
      '-e',
      'FOO=bar',
      '--cwd',
      '/tmp',
      '-u',
      '1000:1001',
      '-g',
      '5,6',
      id,
      'sh',
      '-c',
      'echo $FROM_CONFIG $FOO; pwd; id -u; id -g; id -G',
    ]);
    expect(result).toMatchObject({ status: 0, stdout: '1 bar\n/tmp\n1000\n1001\n1001 5 6\n' });
  });

  it('--cap adds a capability, --no-new-privs sets no_new_privs', () => {
    const result = sandbox.runc([
      'exec',
      '--cap',
      'CAP_SYS_ADMIN',
      '--no-new-privs',
      id,
      'grep',
      '-E',
      '^(CapEff|NoNewPrivs)',
      '/proc/self/status',
    ]);
    // template caps 0x20000420 plus CAP_SYS_ADMIN (21)
    expect(result.stdout).toBe('CapEff:\t0000000020200420\nNoNewPrivs:\t1\n');
  });

  it('--process runs a process.json', () => {
    const file = join(bundle, 'process.json');
    writeFileSync(
      file,
      JSON.stringify({ cwd: '/', args: ['sh', '-c', 'echo from-file'], env: ['PATH=/bin'] }),
    );
    expect(sandbox.runc(['exec', '--process', file, id]).stdout).toBe('from-file\n');
    const bad = sandbox.runc(['exec', '--process', file, id, 'true']);
    expect(bad.status).toBe(1);
  });

  it('--tty gives the command a terminal', () => {
    const result = sandbox.runc(['exec', '-t', id, 'tty']);
    expect(result).toMatchObject({ status: 0, stdout: '/dev/pts/0\n' });
  });

  it('--detach returns at once and writes the pid file', () => {
    const pidFile = join(bundle, 'exec.pid');
    expect(sandbox.runc(['exec', '-d', '--pid-file', pidFile, id, 'sleep', '30']).status).toBe(0);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    // The executor reports READY before its execve: give the exec a moment to land.
    const deadline = Date.now() + 5000;
    let cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    while (cmdline !== 'sleep\u000030\u0000' && Date.now() < deadline) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    }
    expect(cmdline).toBe('sleep\u000030\u0000');
    process.kill(pid, 'SIGKILL');
  });

  it('fails like runc (exit 255) for a missing command or container or sub-cgroup', () => {
    const missing = sandbox.runc(['exec', id, 'no-such-command']);
    expect(missing.status).toBe(255);
    expect(missing.stderr).toContain(
      'exec: \\"no-such-command\\": executable file not found in $PATH',
    );
    expect(sandbox.runc(['exec', 'no-such-container', 'true']).status).toBe(255);
    const noSubCgroup = sandbox.runc(['exec', '--cgroup', 'no-such-sub', id, 'true']);
    expect(noSubCgroup.status).toBe(255);
    expect(noSubCgroup.stderr).toContain('no-such-sub');
  });
});
