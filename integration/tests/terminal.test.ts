import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, runcTs } from '../support/runc.js';
import { Sandbox } from '../support/sandbox.js';

const sandbox = new Sandbox();
afterAll(() => sandbox.cleanup());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('--console-socket', () => {
  it('sends the pty master to the socket; the process runs on the pty', async () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.terminal = true;
      spec.process!.consoleSize = { height: 33, width: 111 };
      spec.process!.args = ['sh', '-c', 'tty; stty size; echo done'];
    });
    const socketPath = join(bundle, 'console.sock');
    const output = join(bundle, 'console.out');
    const receiver = spawn(
      'python3',
      [join(repoRoot, 'integration/support/console-receiver.py'), socketPath, output],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const received = new Promise((resolve) => receiver.once('exit', resolve));
    await waitFor(() => existsSync(socketPath), 'the console socket');
    const id = sandbox.id('console');
    expect(
      sandbox.runc(['create', '--console-socket', socketPath, '-b', bundle, id]),
    ).toMatchObject({
      status: 0,
      stderr: '',
    });
    expect(sandbox.runc(['start', id]).status).toBe(0);
    await received;
    const text = readFileSync(output, 'utf8');
    expect(text).toMatch(/^name=\/dev\/pts\/\d+\n/);
    expect(text).toContain('/dev/pts/0\r\n33 111\r\ndone\r\n');
    expect(sandbox.runc(['delete', '--force', id]).status).toBe(0);
  });

  it('refuses a terminal without a console socket when detaching, like runc', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.terminal = true;
    });
    for (const args of [['create'], ['run', '-d']]) {
      const result = sandbox.runc([...args, '-b', bundle, sandbox.id('notty')]);
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(
        'cannot allocate tty if runc will detach without setting console socket',
      );
    }
  });

  it('refuses a console socket without a terminal, like runc', () => {
    const bundle = sandbox.bundle();
    const result = sandbox.runc([
      'create',
      '--console-socket',
      '/tmp/none.sock',
      '-b',
      bundle,
      sandbox.id('nosock'),
    ]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      'cannot use console socket if runc will not detach or allocate tty',
    );
  });
});

describe('foreground run with a terminal', () => {
  it('relays the pty when stdio are pipes and returns the exit status', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.terminal = true;
      spec.process!.args = ['sh', '-c', 'tty; exit 4'];
    });
    const result = sandbox.runc(['run', '-b', bundle, sandbox.id('ttypipe')]);
    expect(result.status).toBe(4);
    expect(result.stdout).toBe('/dev/pts/0\n');
  });

  it('gives an interactive shell: `runc spec && runc run` under tmux', async () => {
    const bundle = sandbox.bundle();
    // The unmodified template: terminal true, `sh`.
    const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
    spec.process.terminal = true;
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
    const id = sandbox.id('tmux');
    const session = `runc-ts-${id}`;
    const tmux = (...args: string[]) => spawnSync('tmux', args, { encoding: 'utf8' });
    const status = join(bundle, 'status');
    const started = tmux(
      'new-session',
      '-d',
      '-s',
      session,
      '-x',
      '100',
      '-y',
      '30',
      `cd ${bundle} && ${runcTs} --root ${sandbox.root} run ${id}; echo "exit=$?" > ${status}; sleep 30`,
    );
    expect(started.status, started.stderr).toBe(0);
    try {
      const screen = () => tmux('capture-pane', '-p', '-t', session).stdout;
      await waitFor(() => /^\/ #/m.test(screen()), 'the shell prompt');
      tmux('send-keys', '-t', session, 'echo $((6*7)); stty size; hostname', 'Enter');
      await waitFor(() => screen().includes('42'), 'the shell output');
      expect(screen()).toMatch(/42\n30 100\nrunc\n/);
      // A resized terminal reaches the container (SIGWINCH to the relay).
      tmux('resize-window', '-t', session, '-x', '120', '-y', '40');
      await sleep(300);
      tmux('send-keys', '-t', session, 'stty size', 'Enter');
      await waitFor(() => screen().includes('40 120'), 'the new window size');
      tmux('send-keys', '-t', session, 'exit 3', 'Enter');
      await waitFor(() => existsSync(status), 'runc run to exit');
      expect(readFileSync(status, 'utf8')).toBe('exit=3\n');
    } finally {
      tmux('kill-session', '-t', session);
    }
  });
});
