// --pidfd-socket (runc 1.2) on create, run and exec: the runtime sends a
// pidfd of the container's process over the socket. The receiver
// (native/tests/recvpidfd.c) reports the message and the fdinfo pid of the
// fd, and signals through it, so the tests see that the fd names the right
// process and that the process reacts.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cgroupDirsNamed } from '../support/cgroups.js';
import { repoRoot, runcTs } from '../support/runc.js';
import { leftovers, Sandbox } from '../support/sandbox.js';

const receiverBinary = join(repoRoot, 'native/build/recvpidfd');
const SIGKILL = 9;
const SIGUSR1 = 10;

const sandbox = new Sandbox();
const receivers: Receiver[] = [];
afterAll(() => {
  for (const receiver of receivers) receiver.stop();
  sandbox.cleanup();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** recvpidfd on a socket of the sandbox: one pidfd, then commands on its stdin. */
class Receiver {
  readonly socket: string;
  private readonly child: ChildProcess;
  private buffered = '';
  private readonly waiting: ((line: string) => void)[] = [];
  private readonly lines: string[] = [];
  private stderr = '';

  constructor(name: string) {
    this.socket = join(sandbox.dir, `${name}.sock`);
    this.child = spawn(receiverBinary, ['-t', '20', this.socket], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    receivers.push(this);
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.buffered += chunk;
      for (let end = this.buffered.indexOf('\n'); end >= 0; end = this.buffered.indexOf('\n')) {
        const line = this.buffered.slice(0, end);
        this.buffered = this.buffered.slice(end + 1);
        const waiter = this.waiting.shift();
        if (waiter) waiter(line);
        else this.lines.push(line);
      }
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
  }

  /** Resolves once the socket exists (the receiver listens). */
  listening(): Promise<void> {
    return waitFor(() => existsSync(this.socket), `the receiver's socket ${this.socket}`);
  }

  private next(): Promise<string> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`recvpidfd said nothing (stderr: ${this.stderr})`)),
        20_000,
      );
      this.waiting.push((got) => {
        clearTimeout(timer);
        resolve(got);
      });
    });
  }

  /** The message that came with the pidfd, the fd's `Pid:` and whether the sender closed. */
  async received(): Promise<{ data: string; pid: number; eof: string }> {
    const line = await this.next();
    const match = /^data=(\S*) pid=(\d+) eof=(yes|no)$/.exec(line);
    if (!match) throw new Error(`recvpidfd: unexpected line ${JSON.stringify(line)}`);
    return { data: match[1]!, pid: Number(match[2]), eof: match[3]! };
  }

  /** pidfd_send_signal through the received pidfd. */
  async signal(signal: number): Promise<string> {
    this.child.stdin!.write(`signal ${signal}\n`);
    return this.next();
  }

  /** Waits (polling the pidfd) until the process has exited. */
  async exited(): Promise<string> {
    this.child.stdin!.write('wait\n');
    return this.next();
  }

  stop(): void {
    this.child.stdin!.end();
    this.child.kill('SIGKILL');
  }
}

function containerIsGone(id: string, bundle: string): void {
  expect(sandbox.runc(['list', '-q']).stdout.split('\n')).not.toContain(id);
  expect(existsSync(join(sandbox.root, id))).toBe(false);
  expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
  expect(cgroupDirsNamed(id)).toEqual([]);
}

async function waitForStatus(id: string, status: string): Promise<void> {
  await waitFor(() => sandbox.state(id).status === status, `${id} to be ${status}`);
}

/** A container process that notes SIGUSR1 in /tmp/usr1; /tmp/ready says the trap is set. */
const trapUsr1 = [
  'sh',
  '-c',
  'trap "echo got-usr1 > /tmp/usr1" USR1; touch /tmp/ready; while :; do sleep 0.1; done',
];

describe('--pidfd-socket', () => {
  it('has the receiver built, and the flag in the help of create, run and exec', () => {
    expect(existsSync(receiverBinary), `${receiverBinary}: build it with make -C native`).toBe(
      true,
    );
    for (const command of ['create', 'run', 'exec']) {
      const help = spawnSync(runcTs, [command, '--help'], { encoding: 'utf8' });
      expect(help.stdout, command).toContain('--pidfd-socket <path>');
    }
  });

  it('create: the pidfd names the created init, with "standard"; SIGKILL through it stops it', async () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['sleep', '1000'];
    });
    const receiver = new Receiver('create');
    await receiver.listening();
    const id = sandbox.id('create');
    const pidFile = join(bundle, 'init.pid');
    expect(
      sandbox.runc([
        'create',
        '--pidfd-socket',
        receiver.socket,
        '--pid-file',
        pidFile,
        '-b',
        bundle,
        id,
      ]),
    ).toMatchObject({ status: 0, stderr: '' });
    const state = sandbox.state(id);
    expect(state.status).toBe('created');
    expect(await receiver.received()).toEqual({ data: 'standard', pid: state.pid, eof: 'yes' });
    expect(Number(readFileSync(pidFile, 'utf8'))).toBe(state.pid);
    expect(existsSync(receiver.socket)).toBe(false);

    expect(await receiver.signal(SIGKILL)).toBe(`sent ${SIGKILL}`);
    expect(await receiver.exited()).toBe('exited');
    await waitForStatus(id, 'stopped');
    expect(sandbox.runc(['delete', id]).status).toBe(0);
    containerIsGone(id, bundle);
  });

  it('run -d: the process reacts to a signal sent through the pidfd', async () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = trapUsr1;
      spec.root!.readonly = false;
    });
    const receiver = new Receiver('run-d');
    await receiver.listening();
    const id = sandbox.id('rund');
    expect(
      sandbox.runc(['run', '-d', '--pidfd-socket', receiver.socket, '-b', bundle, id]),
    ).toMatchObject({ status: 0, stderr: '' });
    const state = sandbox.state(id);
    expect(state.status).toBe('running');
    expect(await receiver.received()).toEqual({ data: 'standard', pid: state.pid, eof: 'yes' });

    // pid 1 of its namespace gets only signals it handles: wait for the trap
    await waitFor(() => existsSync(join(bundle, 'rootfs/tmp/ready')), 'the trap');
    expect(await receiver.signal(SIGUSR1)).toBe(`sent ${SIGUSR1}`);
    await waitFor(
      () => sandbox.runc(['exec', id, 'cat', '/tmp/usr1']).stdout === 'got-usr1\n',
      'SIGUSR1 noted inside the container',
    );
    expect(await receiver.signal(SIGKILL)).toBe(`sent ${SIGKILL}`);
    expect(await receiver.exited()).toBe('exited');
    await waitForStatus(id, 'stopped');
    expect(sandbox.runc(['delete', id]).status).toBe(0);
    containerIsGone(id, bundle);
  });

  it('run in the foreground: the pidfd names the init it waits for', async () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = [
        'sh',
        '-c',
        'trap "exit 42" USR1; touch /tmp/ready; while :; do sleep 0.1; done',
      ];
      spec.root!.readonly = false;
    });
    const receiver = new Receiver('run');
    await receiver.listening();
    const id = sandbox.id('runfg');
    const pidFile = join(bundle, 'init.pid');
    const run = spawn(
      runcTs,
      [
        '--root',
        sandbox.root,
        'run',
        '--pidfd-socket',
        receiver.socket,
        '--pid-file',
        pidFile,
        '-b',
        bundle,
        id,
      ],
      { stdio: 'ignore' },
    );
    const exited = new Promise<number | null>((resolve) => run.once('exit', resolve));
    // eof=yes: the executor waiting for the init closed its copy of the connection
    const received = await receiver.received();
    await waitFor(() => existsSync(pidFile), 'the pid file');
    expect(received).toEqual({
      data: 'standard',
      pid: Number(readFileSync(pidFile, 'utf8')),
      eof: 'yes',
    });
    await waitFor(() => existsSync(join(bundle, 'rootfs/tmp/ready')), 'the trap');
    expect(await receiver.signal(SIGUSR1)).toBe(`sent ${SIGUSR1}`);
    expect(await exited).toBe(42);
    containerIsGone(id, bundle);
  });

  describe('exec', () => {
    it('-d: the pidfd names the exec’d process, with "setns"; the container survives its kill', async () => {
      const bundle = sandbox.bundle((spec) => {
        spec.process!.args = ['sleep', '1000'];
      });
      const id = sandbox.id('execd');
      expect(sandbox.runc(['run', '-d', '-b', bundle, id]).status).toBe(0);
      const receiver = new Receiver('exec-d');
      await receiver.listening();
      const pidFile = join(bundle, 'exec.pid');
      expect(
        sandbox.runc([
          'exec',
          '-d',
          '--pidfd-socket',
          receiver.socket,
          '--pid-file',
          pidFile,
          id,
          'sleep',
          '999',
        ]),
      ).toMatchObject({ status: 0, stderr: '' });
      const pid = Number(readFileSync(pidFile, 'utf8'));
      expect(await receiver.received()).toEqual({ data: 'setns', pid, eof: 'yes' });
      expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toBe('sleep\u0000999\u0000');
      expect(pids(id)).toContain(pid);

      expect(await receiver.signal(SIGKILL)).toBe(`sent ${SIGKILL}`);
      expect(await receiver.exited()).toBe('exited');
      await waitFor(() => !pids(id).includes(pid), 'the exec’d process to leave the cgroup');
      // seen from inside: the container's processes are its init and this ps
      const ps = sandbox.runc(['exec', id, 'ps', '-o', 'args']);
      expect(ps.stdout).not.toContain('sleep 999');
      expect(ps.stdout).toContain('sleep 1000');
      expect(sandbox.state(id).status).toBe('running');
      expect(sandbox.runc(['delete', '-f', id]).status).toBe(0);
    });

    it('in the foreground: the exec’d process reacts; runc exec exits with its status', async () => {
      const bundle = sandbox.bundle((spec) => {
        spec.process!.args = ['sleep', '1000'];
        spec.root!.readonly = false;
      });
      const id = sandbox.id('execfg');
      expect(sandbox.runc(['run', '-d', '-b', bundle, id]).status).toBe(0);
      const receiver = new Receiver('exec-fg');
      await receiver.listening();
      const pidFile = join(bundle, 'exec.pid');
      const exec = spawn(
        runcTs,
        [
          '--root',
          sandbox.root,
          'exec',
          '--pidfd-socket',
          receiver.socket,
          '--pid-file',
          pidFile,
          id,
          'sh',
          '-c',
          'trap "exit 42" USR1; touch /tmp/exec-ready; while :; do sleep 0.1; done',
        ],
        { stdio: 'ignore' },
      );
      const exited = new Promise<number | null>((resolve) => exec.once('exit', resolve));
      const received = await receiver.received();
      await waitFor(() => existsSync(pidFile), 'the pid file');
      expect(received).toEqual({
        data: 'setns',
        pid: Number(readFileSync(pidFile, 'utf8')),
        eof: 'yes',
      });
      await waitFor(() => existsSync(join(bundle, 'rootfs/tmp/exec-ready')), 'the trap');
      expect(await receiver.signal(SIGUSR1)).toBe(`sent ${SIGUSR1}`);
      expect(await exited).toBe(42);
      expect(sandbox.state(id).status).toBe('running');
      expect(sandbox.runc(['delete', '-f', id]).status).toBe(0);
    });
  });

  describe('errors: nothing is created', () => {
    /** Paths that are no listening socket, and what connect(2) says about each. */
    function badSockets(label: string): { path: string; reason: string }[] {
      const missing = join(sandbox.dir, `${label}-missing.sock`);
      const file = join(sandbox.dir, `${label}-file`);
      writeFileSync(file, '');
      // bound, never listening: what a receiver that went away leaves behind
      const unbound = join(sandbox.dir, `${label}-stale.sock`);
      const made = spawnSync('python3', [
        '-c',
        'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])',
        unbound,
      ]);
      expect(made.status, String(made.stderr)).toBe(0);
      return [
        { path: missing, reason: 'no such file or directory (ENOENT)' },
        { path: file, reason: 'connection refused (ECONNREFUSED)' },
        { path: unbound, reason: 'connection refused (ECONNREFUSED)' },
      ];
    }

    it('create and run -d exit 1 naming the path; no state, process or cgroup', () => {
      const bundle = sandbox.bundle((spec) => {
        spec.process!.args = ['sleep', '1000'];
      });
      for (const { path, reason } of badSockets('create')) {
        for (const command of [['create'], ['run', '-d']]) {
          const id = sandbox.id('bad');
          const pidFile = join(bundle, `${id}.pid`);
          const result = sandbox.runc([
            ...command,
            '--pidfd-socket',
            path,
            '--pid-file',
            pidFile,
            '-b',
            bundle,
            id,
          ]);
          expect(result.status, `${command[0]} ${path}`).toBe(1);
          expect(result.stderr).toContain(`pidfd socket ${path}: ${reason}`);
          expect(existsSync(pidFile)).toBe(false);
          containerIsGone(id, bundle);
        }
      }
    });

    it('exec exits 255 naming the path; no process is left in the container', () => {
      const bundle = sandbox.bundle((spec) => {
        spec.process!.args = ['sleep', '1000'];
      });
      const id = sandbox.id('badexec');
      expect(sandbox.runc(['run', '-d', '-b', bundle, id]).status).toBe(0);
      const init = sandbox.state(id).pid;
      for (const { path, reason } of badSockets('exec')) {
        for (const detach of [[], ['-d']]) {
          const pidFile = join(bundle, 'exec.pid');
          const result = sandbox.runc([
            'exec',
            ...detach,
            '--pidfd-socket',
            path,
            '--pid-file',
            pidFile,
            id,
            'sleep',
            '999',
          ]);
          expect(result.status, `exec ${detach} ${path}`).toBe(255);
          expect(result.stderr).toContain(`pidfd socket ${path}: ${reason}`);
          expect(existsSync(pidFile)).toBe(false);
          expect(pids(id)).toEqual([init]);
        }
      }
      expect(sandbox.state(id).status).toBe('running');
      expect(sandbox.runc(['delete', '-f', id]).status).toBe(0);
      expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
    });

    it('refuses an empty path', () => {
      const bundle = sandbox.bundle();
      const id = sandbox.id('empty');
      const create = sandbox.runc(['create', '--pidfd-socket', '', '-b', bundle, id]);
      expect(create.status).toBe(1);
      expect(create.stderr).toContain('--pidfd-socket: the path is empty');
      containerIsGone(id, bundle);
      const exec = sandbox.runc(['exec', '--pidfd-socket', '', id, 'true']);
      expect(exec.status).toBe(255);
      expect(exec.stderr).toContain('--pidfd-socket: the path is empty');
    });
  });
});

/** Host pids in the container's cgroup (`runc ps --format json`). */
function pids(id: string): number[] {
  const result = sandbox.runc(['ps', '--format', 'json', id]);
  if (result.status !== 0) throw new Error(`ps ${id}: ${result.stderr}`);
  return JSON.parse(result.stdout);
}
