import { exampleSpec, type Process, type Spec } from '@runc-ts/spec';
import { describe, expect, it } from 'vitest';
import { idMask, MAX_CPU, parseIdList } from './cpu-numa.js';
import { dumpPlan, type PlanContext, PlanError, planCreate, planExec } from './index.js';

const parse = (text: string) => parseIdList(text, 'x', MAX_CPU, 'PROCESS_INVALID');

describe('parseIdList (cpu and node lists)', () => {
  it.each([
    ['0', [0]],
    ['0-1', [0, 1]],
    ['0,1', [0, 1]],
    [',0,1,', [0, 1]],
    ['0,1,2-3', [0, 1, 2, 3]],
    ['1, 2, 1-2', [1, 2]],
    ['    , 1   , 3  ,  5-7,    ', [1, 3, 5, 6, 7]],
    ['127-129, 1', [1, 127, 128, 129]],
    ['65536', [65536]],
  ])('%j is %j', (text, ids) => {
    expect(parse(text)).toEqual(ids);
  });

  it.each([
    ['-', 'is not a number or a range N-M'],
    ['1-', 'is not a number or a range N-M'],
    ['-3', 'is not a number or a range N-M'],
    ['1 - 2', 'is not a number or a range N-M'],
    [',', 'it names nothing'],
    [' ', 'it names nothing'],
    ['54-53', 'range 54-53 ends before it starts'],
    ['65537', '65537 is above the maximum 65536'],
    ['0-65537', '65537 is above the maximum 65536'],
  ])('refuses %j', (text, why) => {
    expect(() => parse(text)).toThrow(why);
  });

  it('makes masks of whole unsigned longs, bit n of byte n/8', () => {
    expect([...idMask([0])]).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    expect([...idMask([1, 9, 64])]).toEqual([2, 2, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
    expect(idMask([])).toHaveLength(0);
  });
});

const spec = (mutate: (s: Spec) => void = () => {}): Spec => {
  const s = exampleSpec();
  s.process!.terminal = false;
  mutate(s);
  return s;
};
const ctx: PlanContext = {
  rootfs: '/bundle/rootfs',
  fifoPath: '/run/c1/exec.fifo',
  containerId: 'c1',
  noPivot: false,
  noNewKeyring: false,
  preserveFds: 0,
};
const lines = (ops: ReturnType<typeof planExec>) => dumpPlan(ops).trimEnd().split('\n');
const execLines = (s: Spec, process: Process) =>
  lines(planExec(s, process, { initPid: 7, detach: true, preserveFds: 0, joinCgroup: true }));
const planError = (call: () => unknown): PlanError => {
  try {
    call();
  } catch (error) {
    if (error instanceof PlanError) return error;
    throw error;
  }
  throw new Error('no PlanError');
};

describe('process.execCPUAffinity', () => {
  it('exec: initial before joining anything, final after the cgroup join', () => {
    const s = spec();
    const ops = execLines(s, { ...s.process!, execCPUAffinity: { initial: '1', final: '0-1' } });
    expect(ops[0]).toBe('SCHED_AFFINITY "process.execCPUAffinity.initial" hex:0200000000000000');
    expect(ops[1]).toMatch(/^SETNS_PID /);
    const sync = ops.indexOf('SYNC 3');
    expect(ops[sync + 1]).toBe(
      'SCHED_AFFINITY "process.execCPUAffinity.final" hex:0300000000000000',
    );
    expect(ops.filter((line) => line.startsWith('SCHED_AFFINITY'))).toHaveLength(2);
  });

  it('exec: initial alone leaves the final affinity to the kernel', () => {
    const s = spec();
    const ops = execLines(s, { ...s.process!, execCPUAffinity: { initial: '0' } });
    expect(ops.filter((line) => line.startsWith('SCHED_AFFINITY'))).toEqual([
      'SCHED_AFFINITY "process.execCPUAffinity.initial" hex:0100000000000000',
    ]);
  });

  it("exec: without it, the runtime's affinity is reset to every CPU after the cgroup join", () => {
    const s = spec();
    const ops = execLines(s, s.process!);
    expect(ops[0]).toMatch(/^SETNS_PID /);
    expect(ops[ops.indexOf('SYNC 3') + 1]).toBe('SCHED_AFFINITY "reset" hex:');
    // empty strings are unset (the spec: "omitted or empty")
    const empty = execLines(s, { ...s.process!, execCPUAffinity: { initial: '', final: '' } });
    expect(empty.filter((line) => line.startsWith('SCHED_AFFINITY'))).toEqual([
      'SCHED_AFFINITY "reset" hex:',
    ]);
  });

  it('create: the init (not concerned by it) is reset to every CPU once in its cgroup', () => {
    const ops = lines(
      planCreate(
        spec((s) => {
          s.process!.execCPUAffinity = { initial: '1', final: '1' };
        }),
        ctx,
      ),
    );
    expect(ops.filter((line) => line.startsWith('SCHED_AFFINITY'))).toEqual([
      'SCHED_AFFINITY "reset" hex:',
    ]);
    expect(ops[ops.indexOf('SYNC 3') + 1]).toBe('SCHED_AFFINITY "reset" hex:');
  });

  it('refuses a bad list at create and at exec, naming the field', () => {
    const bad = spec((s) => {
      s.process!.execCPUAffinity = { final: '3-1' };
    });
    const atCreate = planError(() => planCreate(bad, ctx));
    expect(atCreate.code).toBe('PROCESS_INVALID');
    expect(atCreate.message).toBe(
      'process.execCPUAffinity.final: invalid list "3-1": range 3-1 ends before it starts',
    );
    const s = spec();
    const atExec = planError(() =>
      execLines(s, { ...s.process!, execCPUAffinity: { initial: '99999' } }),
    );
    expect(atExec.message).toBe(
      'process.execCPUAffinity.initial: invalid list "99999": 99999 is above the maximum 65536',
    );
  });
});

describe('linux.memoryPolicy', () => {
  const withPolicy = (policy: NonNullable<Spec['linux']>['memoryPolicy']) =>
    spec((s) => {
      s.linux!.memoryPolicy = policy;
    });
  const mempolicy = (s: Spec) =>
    lines(planCreate(s, ctx)).filter((line) => line.startsWith('MEMPOLICY'));

  it('is one MEMPOLICY op (mode | flags, node mask) for the init and each exec', () => {
    const s = withPolicy({ mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_STATIC_NODES'] });
    expect(mempolicy(s)).toEqual([
      `MEMPOLICY "linux.memoryPolicy" ${2 | (1 << 15)} hex:0100000000000000`,
    ]);
    const exec = execLines(s, s.process!);
    expect(exec.filter((line) => line.startsWith('MEMPOLICY'))).toEqual([
      `MEMPOLICY "linux.memoryPolicy" ${2 | (1 << 15)} hex:0100000000000000`,
    ]);
    // before the credentials change, like the other per-process settings
    expect(exec.findIndex((line) => line.startsWith('MEMPOLICY'))).toBeLessThan(
      exec.indexOf('KEEPCAPS 1'),
    );
    expect(mempolicy(withPolicy({ mode: 'MPOL_INTERLEAVE', nodes: '0-1,3' }))).toEqual([
      'MEMPOLICY "linux.memoryPolicy" 3 hex:0b00000000000000',
    ]);
    expect(mempolicy(withPolicy({ mode: 'MPOL_LOCAL' }))).toEqual([
      'MEMPOLICY "linux.memoryPolicy" 4 hex:',
    ]);
    expect(mempolicy(withPolicy({ mode: 'MPOL_PREFERRED' }))).toEqual([
      'MEMPOLICY "linux.memoryPolicy" 1 hex:',
    ]);
    expect(mempolicy(withPolicy({ mode: 'MPOL_DEFAULT', nodes: ' ' }))).toEqual([
      'MEMPOLICY "linux.memoryPolicy" 0 hex:',
    ]);
    expect(mempolicy(spec())).toEqual([]);
  });

  it.each([
    [{}, 'linux.memoryPolicy.mode: is required'],
    [{ mode: 'MPOL_DEFAULT', nodes: '0' }, 'linux.memoryPolicy.nodes: MPOL_DEFAULT takes no nodes'],
    [
      { mode: 'MPOL_LOCAL', flags: ['MPOL_F_STATIC_NODES'] },
      'linux.memoryPolicy.flags: MPOL_LOCAL takes no flags',
    ],
    [{ mode: 'MPOL_BIND' }, 'linux.memoryPolicy.nodes: MPOL_BIND needs at least one node'],
    [
      { mode: 'MPOL_INTERLEAVE', nodes: '1-0' },
      'linux.memoryPolicy.nodes: invalid list "1-0": range 1-0 ends before it starts',
    ],
    [
      { mode: 'MPOL_BIND', nodes: '1024' },
      'linux.memoryPolicy.nodes: invalid list "1024": 1024 is above the maximum 1023',
    ],
    [
      { mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_STATIC_NODES', 'MPOL_F_RELATIVE_NODES'] },
      'linux.memoryPolicy.flags: MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other',
    ],
  ] as const)('refuses %j', (policy, message) => {
    const error = planError(() =>
      planCreate(withPolicy(policy as NonNullable<Spec['linux']>['memoryPolicy']), ctx),
    );
    expect(error.code).toBe('MEMPOLICY_INVALID');
    expect(error.message).toBe(message);
  });
});
