import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { LinuxDeviceCgroup } from '@runc-ts/spec';
import { afterEach, describe, expect, it } from 'vitest';
import { attachDeviceFilterWithFlags } from './attach.js';
import {
  attachDeviceFilter,
  compileDeviceFilter,
  DeviceFilterError,
  detachDeviceFilters,
  listDeviceFilters,
} from './index.js';

/** The cgroup2 mount: /sys/fs/cgroup on a unified host, .../unified on a hybrid one. */
function findCgroup2Mount(): string | undefined {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [mountFields, fsFields] = line.split(' - ');
    if (fsFields?.split(' ')[0] === 'cgroup2') return mountFields?.split(' ')[4];
  }
  return undefined;
}

function findV1DevicesMount(): string | undefined {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [mountFields, fsFields] = line.split(' - ');
    const fs = fsFields?.split(' ');
    if (fs?.[0] === 'cgroup' && fs[2]?.split(',').includes('devices')) {
      return mountFields?.split(' ')[4];
    }
  }
  return undefined;
}

const cgroup2 = findCgroup2Mount();
const v1Devices = findV1DevicesMount();
const notRoot = process.getuid?.() !== 0;
const skipReason = notRoot
  ? 'needs root (bpf(2) and cgroup writes)'
  : cgroup2 === undefined
    ? 'no cgroup2 mount in /proc/self/mountinfo'
    : undefined;
const skipV1Reason =
  skipReason ??
  (v1Devices === undefined ? 'no cgroup v1 devices controller to compare with' : undefined);
if (skipReason) console.warn(`bpf/attach.test.ts: skipping the kernel tests: ${skipReason}`);
else if (skipV1Reason)
  console.warn(`bpf/attach.test.ts: skipping the v1 comparison: ${skipV1Reason}`);

/**
 * A child process that opens device files on request and answers "ok" or the
 * errno code. It is moved into a cgroup after it starts, so nothing it opened
 * before is checked by the filter under test.
 */
const PROBE_SCRIPT = `
const fs = require('node:fs');
const { spawnSync } = require('node:child_process');
const FLAGS = { r: fs.constants.O_RDONLY, w: fs.constants.O_WRONLY, rw: fs.constants.O_RDWR };
require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
  const request = JSON.parse(line);
  let answer;
  try {
    if (request.op === 'open') {
      fs.closeSync(fs.openSync(request.path, FLAGS[request.access]));
      answer = 'ok';
    } else {
      const made = spawnSync('mknod', [request.path, 'c', String(request.major), String(request.minor)], { encoding: 'utf8' });
      if (made.status === 0) { fs.unlinkSync(request.path); answer = 'ok'; }
      else answer = /Operation not permitted/.test(made.stderr) ? 'EPERM' : 'mknod: ' + made.stderr.trim();
    }
  } catch (error) {
    answer = error.code || String(error);
  }
  process.stdout.write(JSON.stringify(answer) + '\\n');
});
process.stdout.write('"ready"\\n');
`;

class Prober {
  private readonly waiting: { resolve(answer: string): void; reject(error: Error): void }[] = [];

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      this.waiting.shift()?.resolve(JSON.parse(line) as string);
    });
    child.on('exit', (code, signal) => {
      for (const waiter of this.waiting.splice(0)) {
        waiter.reject(new Error(`prober exited (${code ?? signal})`));
      }
    });
  }

  static async start(): Promise<Prober> {
    const prober = new Prober(spawn(process.execPath, ['-e', PROBE_SCRIPT]));
    expect(await prober.next()).toBe('ready');
    return prober;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Moves the prober (all its threads) into the cgroup `dir`. */
  moveTo(dir: string): void {
    writeFileSync(join(dir, 'cgroup.procs'), String(this.pid));
  }

  open(path: string, access: 'r' | 'w' | 'rw'): Promise<string> {
    return this.ask({ op: 'open', path, access });
  }

  mknod(path: string, major: number, minor: number): Promise<string> {
    return this.ask({ op: 'mknod', path, major, minor });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await exited;
  }

  private ask(request: object): Promise<string> {
    const answer = this.next();
    this.child.stdin.write(`${JSON.stringify(request)}\n`);
    return answer;
  }

  private next(): Promise<string> {
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }
}

/** Probers to kill, then everything else a test made, undone in reverse order. */
const probers: Prober[] = [];
const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  const errors: unknown[] = [];
  const steps = [
    ...probers.splice(0).map((prober) => () => prober.stop()),
    ...cleanups.splice(0).reverse(),
  ];
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length > 0) throw errors[0];
});

async function removeCgroup(dir: string): Promise<void> {
  // The killed prober leaves the cgroup asynchronously: rmdir is EBUSY until then.
  for (let attempt = 0; ; attempt++) {
    try {
      rmdirSync(dir);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || attempt >= 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

function makeCgroup(mount: string): string {
  const dir = join(mount, `runc-ts-bpf-test-${randomBytes(6).toString('hex')}`);
  mkdirSync(dir);
  cleanups.push(() => removeCgroup(dir));
  return dir;
}

function makeV2Cgroup(): string {
  const dir = makeCgroup(cgroup2!);
  cleanups.push(() => {
    if (existsSync(dir)) detachDeviceFilters(dir);
  });
  return dir;
}

async function startProber(): Promise<Prober> {
  const prober = await Prober.start();
  probers.push(prober);
  return prober;
}

function makeScratchDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'runc-ts-bpf-test-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const BPF_F_ALLOW_MULTI = 2;
const allowAll: LinuxDeviceCgroup = { allow: true, access: 'rwm' };
const denyAll: LinuxDeviceCgroup = { allow: false, access: 'rwm' };
const nullDevice = (allow: boolean, access: string): LinuxDeviceCgroup => ({
  allow,
  type: 'c',
  major: 1,
  minor: 3,
  access,
});

describe('device filter in the kernel', () => {
  it.skipIf(skipReason)(
    'denies /dev/null through an attached filter, then allows it once the filter is replaced',
    async () => {
      const cgroup = makeV2Cgroup();
      const prober = await startProber();
      prober.moveTo(cgroup);
      expect(await prober.open('/dev/null', 'rw')).toBe('ok');

      attachDeviceFilter(cgroup, compileDeviceFilter([allowAll, nullDevice(false, 'rwm')]));
      const [first, ...others] = listDeviceFilters(cgroup);
      expect(others).toEqual([]);
      expect(await prober.open('/dev/null', 'r')).toBe('EPERM');
      expect(await prober.open('/dev/null', 'rw')).toBe('EPERM');
      expect(await prober.open('/dev/zero', 'r')).toBe('ok');

      // The update path: the new filter goes in before the old one comes out.
      attachDeviceFilter(cgroup, compileDeviceFilter([allowAll]));
      const after = listDeviceFilters(cgroup);
      expect(after).toHaveLength(1);
      expect(after[0]).not.toBe(first);
      expect(await prober.open('/dev/null', 'rw')).toBe('ok');

      expect(detachDeviceFilters(cgroup)).toBe(1);
      expect(listDeviceFilters(cgroup)).toEqual([]);
    },
  );

  it.skipIf(skipReason)(
    'replaces every program another manager attached, in either mode',
    async () => {
      const prober = await startProber();
      const denyNull = compileDeviceFilter([allowAll, nullDevice(false, 'rwm')]);
      const denyZero = compileDeviceFilter([allowAll, { ...nullDevice(false, 'rwm'), minor: 5 }]);

      // Multi-program mode: two programs, both consulted.
      const multi = makeV2Cgroup();
      attachDeviceFilterWithFlags(multi, denyNull, BPF_F_ALLOW_MULTI);
      attachDeviceFilterWithFlags(multi, denyZero, BPF_F_ALLOW_MULTI);
      expect(listDeviceFilters(multi)).toHaveLength(2);
      prober.moveTo(multi);
      expect(await prober.open('/dev/zero', 'r')).toBe('EPERM');
      attachDeviceFilter(multi, denyNull);
      expect(listDeviceFilters(multi)).toHaveLength(1);
      expect(await prober.open('/dev/zero', 'r')).toBe('ok');
      expect(await prober.open('/dev/null', 'r')).toBe('EPERM');

      // Single-program mode (flags 0): the kernel refuses a multi attach on top.
      const single = makeV2Cgroup();
      attachDeviceFilterWithFlags(single, denyNull, 0);
      prober.moveTo(single);
      expect(await prober.open('/dev/null', 'r')).toBe('EPERM');
      attachDeviceFilter(single, denyZero);
      expect(listDeviceFilters(single)).toHaveLength(1);
      expect(await prober.open('/dev/null', 'r')).toBe('ok');
      expect(await prober.open('/dev/zero', 'r')).toBe('EPERM');
    },
  );

  it.skipIf(skipReason)(
    "enforces runc's default device list as the interpreter predicts",
    async () => {
      const cgroup = makeV2Cgroup();
      const scratch = makeScratchDir();
      const prober = await startProber();
      prober.moveTo(cgroup);
      const rules: LinuxDeviceCgroup[] = [
        denyAll,
        ...[
          [1, 3],
          [1, 5],
          [1, 7],
          [5, 0],
          [5, 1],
          [5, 2],
          [1, 8],
          [1, 9],
        ].map(([major, minor]) => ({ allow: true, type: 'c', major, minor, access: 'rwm' })),
        { allow: true, type: 'c', major: 136, access: 'rwm' },
        { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' },
        { allow: true, type: 'c', access: 'm' },
        { allow: true, type: 'b', access: 'm' },
      ];
      attachDeviceFilter(cgroup, compileDeviceFilter(rules));
      expect(await prober.open('/dev/null', 'rw')).toBe('ok');
      expect(await prober.open('/dev/zero', 'r')).toBe('ok');
      expect(await prober.open('/dev/full', 'w')).toBe('ok');
      expect(await prober.open('/dev/urandom', 'r')).toBe('ok');
      // c 1:11 (kmsg) is not in the list, but creating its node is ("c *:* m").
      const kmsg = join(scratch, 'kmsg');
      expect(await prober.mknod(kmsg, 1, 11)).toBe('ok');
      expect(await prober.open('/dev/kmsg', 'r')).toBe('EPERM');
    },
  );

  it.skipIf(skipReason)('loads a 30-rule list and reports verifier and cgroup errors', () => {
    const cgroup = makeV2Cgroup();
    const rules: LinuxDeviceCgroup[] = [denyAll];
    for (let i = 0; i < 29; i++) {
      rules.push({
        allow: i % 3 !== 0,
        type: i % 2 ? 'b' : 'c',
        major: i,
        minor: i * 7,
        access: 'rw',
      });
    }
    attachDeviceFilter(cgroup, compileDeviceFilter(rules));
    expect(listDeviceFilters(cgroup)).toHaveLength(1);

    // "exit" with r0 never written: the verifier refuses it and says why.
    const broken = Buffer.from([0x95, 0, 0, 0, 0, 0, 0, 0]);
    const loadError = catchError(() => attachDeviceFilter(cgroup, broken));
    expect(loadError.code).toBe('BPF_LOAD');
    expect(loadError.errno).toBe('EACCES');
    expect(loadError.message).toMatch(/^bpf\(BPF_PROG_LOAD\) for .*: Permission denied \(EACCES\)/);
    expect(loadError.verifierLog).toContain('R0 !read_ok');
    // The failed load left the attached filter alone.
    expect(listDeviceFilters(cgroup)).toHaveLength(1);

    const scratch = makeScratchDir();
    expect(catchError(() => attachDeviceFilter(scratch, compileDeviceFilter([]))).code).toBe(
      'BPF_CGROUP_OPEN',
    );
    expect(catchError(() => listDeviceFilters(join(cgroup, 'missing'))).code).toBe(
      'BPF_CGROUP_OPEN',
    );
    expect(catchError(() => attachDeviceFilter(cgroup, Buffer.alloc(12))).code).toBe(
      'BPF_PROGRAM_INVALID',
    );
  });

  // The same rule lists given to the v1 devices controller (devices.allow /
  // devices.deny of a v1 cgroup) and, compiled, to a v2 cgroup: one prober in
  // each, asking for /dev/null (c 1:3) with every access.
  it.skipIf(skipV1Reason)(
    'decides like the v1 devices controller, except where compile.ts says otherwise',
    async () => {
      const v1Cgroup = makeCgroup(v1Devices!);
      const v2Cgroup = makeV2Cgroup();
      const scratch = makeScratchDir();
      const inV1 = await startProber();
      inV1.moveTo(v1Cgroup);
      const inV2 = await startProber();
      inV2.moveTo(v2Cgroup);

      const lists: {
        rules: LinuxDeviceCgroup[];
        differs?: Record<string, [v1: string, ours: string]>;
      }[] = [
        { rules: [allowAll, nullDevice(false, 'w')] },
        { rules: [allowAll, nullDevice(false, 'rw'), nullDevice(true, 'r')] },
        { rules: [denyAll, nullDevice(true, 'r')] },
        { rules: [denyAll, nullDevice(true, 'r'), nullDevice(true, 'w')] },
        { rules: [denyAll, nullDevice(true, 'rwm'), nullDevice(false, 'w')] },
        {
          rules: [
            denyAll,
            { allow: true, type: 'c', major: 1, access: 'm' },
            nullDevice(true, 'rw'),
          ],
        },
        {
          rules: [
            denyAll,
            { allow: true, type: 'c', major: 1, access: 'r' },
            { allow: true, type: 'c', minor: 3, access: 'w' },
          ],
          differs: { rw: ['EPERM', 'ok'] },
        },
        {
          rules: [
            denyAll,
            { allow: true, type: 'c', major: 1, access: 'rwm' },
            nullDevice(false, 'rwm'),
          ],
          differs: {
            r: ['ok', 'EPERM'],
            w: ['ok', 'EPERM'],
            rw: ['ok', 'EPERM'],
            m: ['ok', 'EPERM'],
          },
        },
      ];
      for (const { rules, differs = {} } of lists) {
        writeV1Rules(v1Cgroup, rules);
        attachDeviceFilter(v2Cgroup, compileDeviceFilter(rules));
        for (const access of ['r', 'w', 'rw', 'm'] as const) {
          const ask = (prober: Prober) =>
            access === 'm'
              ? prober.mknod(join(scratch, `null-${prober.pid}`), 1, 3)
              : prober.open('/dev/null', access);
          const v1 = await ask(inV1);
          const ours = await ask(inV2);
          const [expectedV1, expectedOurs] = differs[access] ?? [v1, v1];
          const label = `${JSON.stringify(rules)} ${access}`;
          expect(v1, label).toBe(expectedV1);
          expect(ours, label).toBe(expectedOurs);
        }
      }
    },
  );
});

function writeV1Rules(dir: string, rules: LinuxDeviceCgroup[]): void {
  for (const rule of rules) {
    const file = join(dir, rule.allow ? 'devices.allow' : 'devices.deny');
    const number = (n: number | undefined) => (n === undefined || n === -1 ? '*' : String(n));
    const line =
      (rule.type ?? 'a') === 'a'
        ? 'a'
        : `${rule.type} ${number(rule.major)}:${number(rule.minor)} ${rule.access ?? 'rwm'}`;
    writeFileSync(file, line);
  }
}

function catchError(body: () => unknown): DeviceFilterError {
  try {
    body();
  } catch (error) {
    expect(error).toBeInstanceOf(DeviceFilterError);
    return error as DeviceFilterError;
  }
  throw new Error('expected an error');
}
