// `runc checkpoint` / `runc restore` with CRIU (scripts/setup-criu provides
// one that works on this kernel). A container counts into /count of its
// rootfs; a checkpoint must stop the count where it was, a restore must go
// on from there (not start again at 0), in the same cgroup-managed way as
// a created container.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  createReadStream,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
} from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { ContainerError, Runtime, type RuntimeWarning } from '@runc-ts/libcontainer';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { cgroupDirsNamed } from '../support/cgroups.js';
import { repoRoot, runcTs } from '../support/runc.js';
import { leftovers, Sandbox } from '../support/sandbox.js';

const sandbox = new Sandbox();
const receivers: ChildProcess[] = [];
afterAll(() => {
  for (const receiver of receivers) receiver.kill('SIGKILL');
  sandbox.cleanup();
});

const criuCheck = spawnSync('criu', ['check'], { encoding: 'utf8' });
const noCriu =
  criuCheck.status === 0
    ? undefined
    : `no working criu on PATH (criu check: ${(criuCheck.error?.message ?? criuCheck.stderr).trim().split('\n')[0]}); scripts/setup-criu installs one`;

const memoryTracking = spawnSync('criu', ['check', '--feature', 'mem_dirty_track'], {
  encoding: 'utf8',
});
const noMemoryTracking =
  memoryTracking.status === 0
    ? undefined
    : 'this kernel has no soft-dirty memory tracking (criu check --feature mem_dirty_track fails): pre-dump cannot work, with runc either';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function counter(bundle: string): number {
  try {
    return Number(readFileSync(join(bundle, 'rootfs/count'), 'utf8').trim());
  } catch {
    return -1;
  }
}

async function waitFor(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** A detached container counting into /count every 50 ms (exits `exitAfter` counts, if given). */
function countingContainer(label: string, exitAfter?: number) {
  const bundle = sandbox.bundle((spec) => {
    spec.root!.readonly = false;
    const stop = exitAfter === undefined ? '' : `[ $i -ge ${exitAfter} ] && exit 3; `;
    spec.process!.args = [
      'sh',
      '-c',
      `i=0; while :; do echo $i > /count; ${stop}i=$((i+1)); sleep 0.05; done`,
    ];
  });
  const id = sandbox.id(label);
  // stdio on /dev/null: CRIU cannot dump a container whose stdio are host
  // files (as with runc); errors go to a log file instead.
  const log = join(sandbox.dir, `${id}.log`);
  const run = spawnSync(
    runcTs,
    ['--root', sandbox.root, '--log', log, 'run', '-d', '--bundle', bundle, id],
    { stdio: 'ignore', timeout: 20_000 },
  );
  expect(run.status, existsSync(log) ? readFileSync(log, 'utf8') : '').toBe(0);
  return { bundle, id };
}

/** `runc checkpoint` of `id` into `<id>-images` (or `images`), asserted to succeed; the image directory. */
function checkpoint(id: string, flags: string[] = [], images = join(sandbox.dir, `${id}-images`)) {
  const dumped = sandbox.runc(['checkpoint', ...flags, '--image-path', images, id]);
  expect(dumped, dumped.stderr).toMatchObject({ status: 0 });
  return images;
}

/** `runc restore` of `id` from `images` with `bundle`, `flags` (e.g. `-d`) first. */
function restore(
  id: string,
  bundle: string,
  images: string,
  flags: string[] = [],
  options: { input?: string; timeout?: number } = {},
) {
  return sandbox.runc(
    ['restore', ...flags, '--image-path', images, '--bundle', bundle, id],
    options,
  );
}

function expectGone(id: string, bundle: string): void {
  expect(sandbox.runc(['state', id]).status).toBe(1);
  expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
  expect(cgroupDirsNamed(id)).toEqual([]);
}

describe('checkpoint and restore (CRIU)', () => {
  beforeEach((context) => {
    if (noCriu) context.skip(noCriu);
  });

  it('checkpoint stops the container where it was; restore -d goes on counting from there', {
    timeout: 60_000,
  }, async () => {
    const { bundle, id } = countingContainer('cr');
    await waitFor(() => counter(bundle) >= 5, 'the count');
    const images = checkpoint(id);
    // As with runc: the checkpointed container is gone, its processes too.
    expectGone(id, bundle);
    const at = counter(bundle);
    await sleep(300);
    expect(counter(bundle)).toBe(at);
    expect(readdirSync(images)).toContain('inventory.img');

    const restored = restore(id, bundle, images, ['-d']);
    expect(restored, restored.stderr).toMatchObject({ status: 0, stdout: '' });
    expect(sandbox.state(id)).toMatchObject({ id, status: 'running', bundle });
    await waitFor(() => counter(bundle) > at + 2, 'the count to go on');
    // It went on from where it stopped: the first values after the restore follow `at`.
    expect(counter(bundle)).toBeLessThan(at + 200);
    // A restored container is a container: exec, ps, its cgroup, delete.
    const exec = sandbox.runc(['exec', id, 'cat', '/count']);
    expect(exec.status).toBe(0);
    expect(Number(exec.stdout)).toBeGreaterThan(at);
    const pid = sandbox.state(id).pid as number;
    expect(readFileSync(`/proc/${pid}/cgroup`, 'utf8')).toContain(id);
    expect(sandbox.runc(['delete', '--force', id]).status).toBe(0);
    expectGone(id, bundle);
  });

  it('--leave-running keeps the container running; a restore needs the id free', {
    timeout: 60_000,
  }, async () => {
    const { bundle, id } = countingContainer('lr');
    await waitFor(() => counter(bundle) >= 3, 'the count');
    const work = join(sandbox.dir, `${id}-work`);
    const images = checkpoint(id, ['--leave-running', '--work-path', work]);
    expect(sandbox.state(id).status).toBe('running');
    const at = counter(bundle);
    await waitFor(() => counter(bundle) > at + 2, 'the count to go on');
    expect(existsSync(join(work, 'dump.log'))).toBe(true);
    const clash = restore(id, bundle, images, ['-d']);
    expect(clash.status).toBe(1);
    expect(clash.stderr).toContain('container with given ID already exists');
    expect(sandbox.runc(['delete', '--force', id]).status).toBe(0);
    expectGone(id, bundle);
  });

  it('pre-dump, then a dump on top of it, restores', { timeout: 60_000 }, async (context) => {
    if (noMemoryTracking) context.skip(noMemoryTracking);
    const { bundle, id } = countingContainer('pd');
    await waitFor(() => counter(bundle) >= 3, 'the count');
    const parent = checkpoint(id, ['--pre-dump'], join(sandbox.dir, `${id}-parent`));
    expect(sandbox.state(id).status).toBe('running');
    const images = checkpoint(id, ['--parent-path', `../${parent.split('/').pop()}`]);
    expectGone(id, bundle);
    const at = counter(bundle);
    const restored = restore(id, bundle, images, ['-d']);
    expect(restored, restored.stderr).toMatchObject({ status: 0 });
    await waitFor(() => counter(bundle) > at + 2, 'the count to go on');
    expect(sandbox.runc(['delete', '--force', id]).status).toBe(0);
    expectGone(id, bundle);
  });

  it('pre-dump without memory tracking fails as runc does, the container untouched', {
    timeout: 60_000,
  }, async (context) => {
    if (!noMemoryTracking) context.skip('this kernel tracks memory: pre-dump works (tested above)');
    const { bundle, id } = countingContainer('nopd');
    const pre = sandbox.runc([
      'checkpoint',
      '--pre-dump',
      '--image-path',
      join(sandbox.dir, id),
      id,
    ]);
    expect(pre.status).toBe(1);
    expect(pre.stderr).toContain(
      'CRIU is missing features on this host: memory tracking (soft-dirty pages), which --pre-dump needs',
    );
    expect(sandbox.state(id).status).toBe('running');
    const at = counter(bundle);
    await waitFor(() => counter(bundle) > at, 'the count to go on');
    expect(sandbox.runc(['delete', '--force', id]).status).toBe(0);
  });

  it('a terminal container: restore sends the restored pty to --console-socket', {
    timeout: 60_000,
  }, async () => {
    const bundle = sandbox.bundle((spec) => {
      spec.root!.readonly = false;
      spec.process!.terminal = true;
      spec.process!.args = [
        'sh',
        '-c',
        'i=0; while :; do echo "tick $i"; echo $i > /count; i=$((i+1)); sleep 0.05; done',
      ];
    });
    const id = sandbox.id('tty');
    const console = (name: string) => {
      const socket = join(bundle, `${name}.sock`);
      const output = join(bundle, `${name}.out`);
      const receiver = spawn(
        'python3',
        [join(repoRoot, 'integration/support/console-receiver.py'), socket, output],
        {
          stdio: ['ignore', 'ignore', 'inherit'],
        },
      );
      receivers.push(receiver);
      return { socket, output, receiver };
    };
    const first = console('first');
    await waitFor(() => existsSync(first.socket), 'the console socket');
    const run = sandbox.runc([
      'run',
      '-d',
      '--console-socket',
      first.socket,
      '--bundle',
      bundle,
      id,
    ]);
    expect(run, run.stderr).toMatchObject({ status: 0 });
    await waitFor(() => counter(bundle) >= 3, 'the count');
    const images = checkpoint(id);
    const at = counter(bundle);

    const second = console('second');
    await waitFor(() => existsSync(second.socket), 'the second console socket');
    const restored = restore(id, bundle, images, ['-d', '--console-socket', second.socket]);
    expect(restored, restored.stderr).toMatchObject({ status: 0 });
    // The restored process writes on the pty the second receiver got.
    await waitFor(
      () => readFileSync(second.output, 'utf8').includes(`tick ${at + 2}\r\n`),
      'the restored output on the new console',
    );
    expect(readFileSync(second.output, 'utf8')).not.toContain('tick 0\r\n');
    expect(sandbox.runc(['delete', '--force', id]).status).toBe(0);
    expectGone(id, bundle);
  });

  it('a terminal container restored in the foreground: the pty is relayed to restore’s stdio', {
    timeout: 60_000,
  }, async () => {
    // Counts on its terminal, then waits for a line typed on it.
    const bundle = sandbox.bundle((spec) => {
      spec.root!.readonly = false;
      spec.process!.terminal = true;
      spec.process!.args = [
        'sh',
        '-c',
        'i=0; while [ $i -lt 5 ]; do echo "tick $i"; i=$((i+1)); sleep 0.05; done; touch /reading; read l; echo "got $l"; exit 3',
      ];
    });
    const id = sandbox.id('ttyfg');
    const socket = join(bundle, 'first.sock');
    const receiver = spawn(
      'python3',
      [
        join(repoRoot, 'integration/support/console-receiver.py'),
        socket,
        join(bundle, 'first.out'),
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    receivers.push(receiver);
    await waitFor(() => existsSync(socket), 'the console socket');
    const run = sandbox.runc(['run', '-d', '--console-socket', socket, '--bundle', bundle, id]);
    expect(run, run.stderr).toMatchObject({ status: 0 });
    await waitFor(() => existsSync(join(bundle, 'rootfs/reading')), 'the process to read');
    const images = checkpoint(id);

    // runc refuses a console socket in the foreground: the terminal is relayed.
    const refused = restore(id, bundle, images, ['--console-socket', socket]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('cannot use console socket if runc will not detach');
    expect(sandbox.runc(['state', id]).status).toBe(1);

    const restored = restore(id, bundle, images, [], { input: 'hello\n', timeout: 30_000 });
    // The typed line reached the restored process through the pty, its
    // answer came back on stdout (a pipe: \n line ends), its status is ours.
    expect(restored, restored.stderr).toMatchObject({ status: 3 });
    expect(restored.stdout).toContain('got hello\n');
    expect(restored.stdout).not.toContain('\r\n');
    expect(restored.stdout).not.toContain('tick');
    expectGone(id, bundle);
  });

  it('restore in the foreground waits for the process and exits with its status', {
    timeout: 60_000,
  }, async () => {
    const { bundle, id } = countingContainer('fg', 60);
    await waitFor(() => counter(bundle) >= 5, 'the count');
    const images = checkpoint(id);
    const restored = restore(id, bundle, images, [], { timeout: 30_000 });
    expect(restored, restored.stderr).toMatchObject({ status: 3 });
    expect(counter(bundle)).toBe(60);
    expectGone(id, bundle);
  });

  it('--lazy-pages: --status-fd announces the page server, the container stays frozen until a client is done', {
    timeout: 60_000,
  }, async () => {
    // The whole lazy migration (criu lazy-pages + restore --lazy-pages) does
    // not work with this CRIU here, for runc either (docs/checkpoint-restore.md,
    // "Lazy pages"); what runc-ts does around it is checked here.
    const { bundle, id } = countingContainer('lazy');
    await waitFor(() => counter(bundle) >= 3, 'the count');
    const images = join(sandbox.dir, `${id}-images`);
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    // A pipe (CRIU reopens the status fd through /proc: not a socket, as with runc).
    const fifo = join(sandbox.dir, `${id}.status`);
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const statusReader = openSync(fifo, 'r+');
    const statusWriter = openSync(fifo, 'w');
    const checkpoint = spawn(
      runcTs,
      [
        '--root',
        sandbox.root,
        'checkpoint',
        '--lazy-pages',
        '--page-server',
        `127.0.0.1:${port}`,
        '--status-fd',
        '3',
        '--image-path',
        images,
        id,
      ],
      { stdio: ['ignore', 'ignore', 'pipe', statusWriter] },
    );
    closeSync(statusWriter);
    receivers.push(checkpoint);
    let stderr = '';
    checkpoint.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolveExit) => checkpoint.on('exit', resolveExit));
    const statusStream = createReadStream('', { fd: statusReader });
    const status = await new Promise<Buffer>((resolveStatus, reject) => {
      const timer = setTimeout(() => reject(new Error(`no status on fd 3: ${stderr}`)), 20_000);
      statusStream.once('data', (chunk) => {
        clearTimeout(timer);
        resolveStatus(chunk as Buffer);
      });
    });
    statusStream.destroy();
    // CRIU writes one \0 once the dump is written and the page server listens.
    expect(status).toEqual(Buffer.from([0]));
    expect(existsSync(join(images, 'inventory.img'))).toBe(true);
    const at = counter(bundle);
    await sleep(300);
    expect(counter(bundle)).toBe(at);
    expect(sandbox.state(id).status).toBe('running');
    // A lazy-pages client that has every page it wants leaves; then the dump is done.
    await new Promise<void>((resolveClient, reject) => {
      const client = connect(port, '127.0.0.1', () => {
        client.end();
        resolveClient();
      });
      client.on('error', reject);
    });
    expect(await exited, stderr).toBe(0);
    expectGone(id, bundle);
  });

  it('a failing checkpoint leaves the container running and names CRIU’s log', {
    timeout: 60_000,
  }, async () => {
    const { bundle, id } = countingContainer('fail');
    const images = join(sandbox.dir, `${id}-images`);
    // Nothing listens there: CRIU cannot send the pages.
    const failed = sandbox.runc([
      'checkpoint',
      '--page-server',
      '127.0.0.1:1',
      '--image-path',
      images,
      id,
    ]);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain('criu failed: type DUMP');
    expect(failed.stderr).toContain(`log file: ${images}/dump.log`);
    expect(sandbox.state(id).status).toBe('running');
    const at = counter(bundle);
    await waitFor(() => counter(bundle) > at, 'the count to go on');
    expect(sandbox.runc(['delete', '--force', id]).status).toBe(0);
  });

  it('bad options are refused naming the flag, and a failed restore leaves nothing', {
    timeout: 60_000,
  }, async () => {
    const { bundle, id } = countingContainer('bad');
    const mode = sandbox.runc(['checkpoint', '--manage-cgroups-mode', 'bogus', id]);
    expect(mode.status).toBe(1);
    expect(mode.stderr).toContain('--manage-cgroups-mode: invalid value \\"bogus\\"');
    const ns = sandbox.runc(['checkpoint', '--empty-ns', 'pid', id]);
    expect(ns.stderr).toContain('--empty-ns: \\"pid\\" cannot be left empty');
    expect(sandbox.state(id).status).toBe('running');
    expect(sandbox.runc(['delete', '--force', id]).status).toBe(0);

    const other = sandbox.id('none');
    const missing = join(sandbox.dir, 'no-images');
    const restored = restore(other, bundle, missing, ['-d']);
    expect(restored.status).toBe(1);
    expect(restored.stderr).toContain(`--image-path ${missing}: no checkpoint there`);
    expectGone(other, bundle);
  });
});

describe('a restore killed midway', () => {
  it('delete detaches the rootfs bind it left in the state directory, never emptying the bundle', () => {
    // A killed `restore` leaves <root>/<id>/criu-root bound on the rootfs;
    // a recursive removal through it used to delete the bundle's files.
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['sleep', '1000'];
    });
    const id = sandbox.id('killed');
    expect(sandbox.runc(['run', '-d', '--bundle', bundle, id]).status).toBe(0);
    const criuRoot = join(sandbox.root, id, 'criu-root');
    mkdirSync(criuRoot);
    const bound = spawnSync('mount', ['--bind', join(bundle, 'rootfs'), criuRoot]);
    try {
      expect(bound.status, String(bound.stderr)).toBe(0);
      const deleted = sandbox.runc(['delete', '--force', id]);
      expect(deleted, deleted.stderr).toMatchObject({ status: 0 });
      expect(existsSync(join(bundle, 'rootfs/bin/busybox'))).toBe(true);
      expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(criuRoot);
      expect(existsSync(join(sandbox.root, id))).toBe(false);
    } finally {
      spawnSync('umount', ['-l', criuRoot]);
    }
  });
});

describe('checkpoint and restore through the Runtime API', () => {
  beforeEach((context) => {
    if (noCriu) context.skip(noCriu);
  });

  function signalListeners(): number {
    return ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH']
      .map((signal) => process.listenerCount(signal))
      .reduce((a, b) => a + b, 0);
  }

  /** A Writable collecting what is written to it as text. */
  function collector(): { stream: Writable; text: () => string } {
    const chunks: Buffer[] = [];
    const stream = new Writable({
      write: (chunk, _encoding, done) => done(void chunks.push(chunk)),
    });
    return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
  }

  /**
   * An anonymous pipe whose write end is an fd of this process and whose
   * output is collected (Node's 'pipe' stdio are socketpairs): the one
   * between `sleep` and `cat` in a shell pipeline, opened through /proc.
   */
  async function anonymousPipe() {
    const pipeline = spawn('sh', ['-c', 'sleep 120 | cat'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    receivers.push(pipeline);
    let text = '';
    pipeline.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
    });
    const sleeper = () =>
      readFileSync(`/proc/${pipeline.pid}/task/${pipeline.pid}/children`, 'utf8')
        .trim()
        .split(/\s+/)
        .find((pid) => pid && readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep');
    await waitFor(() => sleeper() !== undefined, 'the pipeline');
    const sleeperPid = Number(sleeper());
    const writeEnd = openSync(`/proc/${sleeperPid}/fd/1`, 'w');
    let closed = false;
    return {
      writeEnd,
      text: () => text,
      /** Leaves the write end to whoever else has it. */
      closeWriteEnd: () => {
        if (closed) return;
        closed = true;
        closeSync(writeEnd);
        process.kill(sleeperPid, 'SIGKILL');
      },
      ended: () => pipeline.exitCode !== null,
    };
  }

  /** A container printing 0, 1, 2... to its stdout every 50 ms, exiting 3 after `last`. */
  function printingBundle(
    last: number,
    edit: (spec: import('@runc-ts/spec').Spec) => void = () => {},
  ) {
    return sandbox.bundle((spec) => {
      spec.root!.readonly = false;
      spec.process!.args = [
        'sh',
        '-c',
        `i=0; while [ $i -le ${last} ]; do echo $i; i=$((i+1)); sleep 0.05; done; exit 3`,
      ];
      edit(spec);
    });
  }

  it("a library restore: the restored pipe reconnected to the caller's fd (a stream refused), no signal handler, no process warning, the failed poststart hook to `warn`", {
    timeout: 60_000,
  }, async () => {
    const warnings: RuntimeWarning[] = [];
    const runtime = new Runtime({
      root: sandbox.root,
      warn: (_message, warning) => warnings.push(warning),
    });
    const bundle = printingBundle(40, (spec) => {
      spec.hooks = { poststart: [{ path: '/bin/false' }] };
    });
    const id = sandbox.id('api');
    const before = await anonymousPipe();
    try {
      await runtime.run(id, { bundle, detach: true, stdio: ['ignore', before.writeEnd, 'ignore'] });
    } finally {
      before.closeWriteEnd();
    }
    await waitFor(() => before.text().split('\n').length > 6, 'the first lines');
    const images = join(sandbox.dir, `${id}-images`);
    await runtime.checkpoint(id, { imagePath: images });
    expect(runtime.list().map((state) => state.id)).not.toContain(id);
    const printedBefore = before.text().trim().split('\n').map(Number);
    const lastBefore = printedBefore.at(-1)!;

    const processWarnings: Error[] = [];
    const onWarning = (warning: Error) => processWarnings.push(warning);
    process.on('warning', onWarning);
    const listenersBefore = signalListeners();
    const warningsBefore = warnings.length;
    let listenersDuring = -1;
    // A stream cannot stand for a pipe CRIU reopens: refused, nothing made.
    const refused = await runtime
      .restore(id, { bundle, imagePath: images, stdio: ['ignore', collector().stream, 'ignore'] })
      .catch((error: unknown) => error);
    expect(refused).toMatchObject({
      code: 'OPTION_INVALID',
      message: expect.stringContaining('stdio.stdout'),
    });
    expect(runtime.list().map((state) => state.id)).not.toContain(id);
    const after = await anonymousPipe();
    try {
      const restoring = runtime.restore(id, {
        bundle,
        imagePath: images,
        noSubreaper: true,
        stdio: ['ignore', after.writeEnd, 'ignore'],
      });
      await waitFor(() => after.text().length > 0, 'output of the restored process');
      // CRIU has given the restored process its copy.
      after.closeWriteEnd();
      listenersDuring = signalListeners();
      expect(await restoring).toBe(3);
    } finally {
      process.off('warning', onWarning);
      after.closeWriteEnd();
    }
    await waitFor(after.ended, 'the end of the restored output');
    // The count went on from where it stopped, into the stream given to restore.
    const printedAfter = after.text().trim().split('\n').map(Number);
    expect(printedAfter[0]).toBeGreaterThan(lastBefore);
    expect(printedAfter.at(-1)).toBe(40);
    expect(listenersDuring).toBe(listenersBefore);
    expect(signalListeners()).toBe(listenersBefore);
    expect(processWarnings).toEqual([]);
    expect(warnings.slice(warningsBefore)).toEqual([
      expect.objectContaining({ code: 'HOOK', message: expect.stringContaining('poststart') }),
    ]);
    expect(runtime.list().map((state) => state.id)).not.toContain(id);
    expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
    expect(cgroupDirsNamed(id)).toEqual([]);
  });

  it("a terminal container restored in the foreground: the pty relayed to the caller's streams", {
    timeout: 60_000,
  }, async () => {
    const runtime = new Runtime({ root: sandbox.root });
    const bundle = sandbox.bundle((spec) => {
      spec.root!.readonly = false;
      spec.process!.terminal = true;
      spec.process!.args = ['sh', '-c', 'touch /reading; read l; echo "got $l"; exit 3'];
    });
    const id = sandbox.id('ttyapi');
    const socket = join(bundle, 'console.sock');
    const receiver = spawn(
      'python3',
      [
        join(repoRoot, 'integration/support/console-receiver.py'),
        socket,
        join(bundle, 'console.out'),
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    receivers.push(receiver);
    await waitFor(() => existsSync(socket), 'the console socket');
    await runtime.run(id, { bundle, detach: true, consoleSocket: socket });
    await waitFor(() => existsSync(join(bundle, 'rootfs/reading')), 'the process to read');
    const images = join(sandbox.dir, `${id}-images`);
    await runtime.checkpoint(id, { imagePath: images });
    const before = signalListeners();
    const input = new PassThrough();
    const out = collector();
    const restoring = runtime.restore(id, {
      bundle,
      imagePath: images,
      noSubreaper: true,
      stdio: [input, out.stream, 'ignore'],
    });
    input.end('hello\n');
    expect(await restoring).toBe(3);
    expect(out.text()).toContain('got hello');
    expect(signalListeners()).toBe(before);
    expect(runtime.list().map((state) => state.id)).not.toContain(id);
    expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
  });

  it("without `stdio`, a restored process' pipe becomes /dev/null", {
    timeout: 60_000,
  }, async () => {
    const runtime = new Runtime({ root: sandbox.root });
    const bundle = printingBundle(100_000);
    const id = sandbox.id('null');
    const pipe = await anonymousPipe();
    try {
      await runtime.run(id, { bundle, detach: true, stdio: ['ignore', pipe.writeEnd, 'ignore'] });
    } finally {
      pipe.closeWriteEnd();
    }
    await waitFor(() => pipe.text().length > 0, 'the first line');
    const images = join(sandbox.dir, `${id}-images`);
    await runtime.checkpoint(id, { imagePath: images });
    await runtime.restore(id, { bundle, imagePath: images, detach: true });
    try {
      const { pid } = runtime.state(id);
      expect(readlinkSync(`/proc/${pid}/fd/1`)).toBe('/dev/null');
      // The pipe the process had is gone with the checkpoint: cat saw its end.
      await waitFor(pipe.ended, 'the end of the old pipe');
    } finally {
      await runtime.delete(id, { force: true });
    }
    expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
  });

  it('an aborted foreground restore kills the restored process and deletes the container (ABORTED)', {
    timeout: 60_000,
  }, async () => {
    const runtime = new Runtime({ root: sandbox.root });
    const bundle = printingBundle(100_000);
    const id = sandbox.id('abort');
    await runtime.run(id, { bundle, detach: true });
    const images = join(sandbox.dir, `${id}-images`);
    await runtime.checkpoint(id, { imagePath: images });
    const controller = new AbortController();
    const restoring = runtime.restore(id, {
      bundle,
      imagePath: images,
      noSubreaper: true,
      signal: controller.signal,
    });
    await waitFor(
      () => runtime.list().some((state) => state.id === id && state.status === 'running'),
      'the restored container',
    );
    controller.abort();
    const error = await restoring.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ContainerError);
    expect(error).toMatchObject({ code: 'ABORTED' });
    expect(runtime.list().map((state) => state.id)).not.toContain(id);
    expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
    expect(cgroupDirsNamed(id)).toEqual([]);
  });
});
