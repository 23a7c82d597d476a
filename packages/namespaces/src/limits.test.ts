import { exampleSpec, type Spec } from '@runc-ts/spec';
import { describe, expect, it } from 'vitest';
import { PlanError } from './errors.js';
import { MAX_LIST, MAX_OPS } from './limits.js';
import { encodePlan, type Op } from './plan.js';
import { type PlanContext, planCreate } from './plan-create.js';
import { planExec } from './plan-exec.js';

// Found by the planner property test (fuzz.test.ts): these configs used to
// be planned and then rejected by the executor's decoder ("list count 4097
// exceeds 4096", "string length ... exceeds 65536"), or made encodePlan
// throw a plain Error (a NUL byte). The planner now refuses them, naming the field.
const ctx: PlanContext = {
  rootfs: '/bundle/rootfs',
  fifoPath: '/run/runc-ts/c1/exec.fifo',
  containerId: 'c1',
  noPivot: false,
  noNewKeyring: false,
  preserveFds: 0,
};

function spec(change: (s: Spec) => void): Spec {
  const s = exampleSpec();
  s.process!.terminal = false;
  change(s);
  return s;
}

function planError(plan: () => Op[]): PlanError {
  try {
    encodePlan(plan());
  } catch (error) {
    expect(error).toBeInstanceOf(PlanError);
    return error as PlanError;
  }
  throw new Error('planned and encoded without an error');
}

describe('the planner refuses what the executor protocol cannot carry', () => {
  it('a NUL byte in a string', () => {
    const error = planError(() =>
      planCreate(
        spec((s) => {
          s.process!.args = ['sh', '-c', 'a\0b'];
        }),
        ctx,
      ),
    );
    expect([error.code, error.message]).toEqual([
      'STRING_INVALID',
      'process.args[2]: contains a NUL byte',
    ]);
    const mount = planError(() =>
      planCreate(
        spec((s) => {
          s.mounts![0]!.destination = '/pro\0c';
        }),
        ctx,
      ),
    );
    expect(mount.message).toBe('mounts[0].destination: contains a NUL byte');
  });

  it('a NUL byte in runc exec --process', () => {
    const error = planError(() =>
      planExec(
        spec(() => {}),
        { cwd: '/x\0y', args: ['true'] },
        {
          initPid: 1,
          detach: false,
          preserveFds: 0,
        },
      ),
    );
    expect([error.code, error.message]).toEqual([
      'STRING_INVALID',
      'process.cwd: contains a NUL byte',
    ]);
  });

  it('more arguments or environment variables than a list carries', () => {
    const args = planError(() =>
      planExec(
        spec(() => {}),
        { cwd: '/', args: Array(MAX_LIST + 1).fill('true') },
        {
          initPid: 1,
          detach: false,
          preserveFds: 0,
        },
      ),
    );
    expect([args.code, args.message]).toEqual([
      'TOO_LARGE',
      `process.args: ${MAX_LIST + 1} entries, the executor takes at most ${MAX_LIST}`,
    ]);
    const env = planError(() =>
      planCreate(
        spec((s) => {
          s.process!.env = Array.from({ length: MAX_LIST + 1 }, (_, i) => `V${i}=x`);
        }),
        ctx,
      ),
    );
    expect([env.code, env.path]).toEqual(['TOO_LARGE', 'process.env']);
  });

  it('a string longer than the protocol carries', () => {
    const error = planError(() =>
      planCreate(
        spec((s) => {
          s.process!.env = ['PATH=/bin', `BIG=${'x'.repeat(64 << 10)}`];
        }),
        ctx,
      ),
    );
    expect([error.code, error.path]).toEqual(['TOO_LARGE', 'process.env[1]']);
  });

  it('more steps than a plan carries', () => {
    const error = planError(() =>
      planCreate(
        spec((s) => {
          s.linux!.maskedPaths = Array.from({ length: MAX_OPS }, (_, i) => `/m${i}`);
        }),
        ctx,
      ),
    );
    expect([error.code, error.path]).toEqual(['TOO_LARGE', 'linux.maskedPaths']);
    expect(error.message).toMatch(/needs \d+ executor steps, at most 4096 are allowed$/);
  });

  it('still plans a config at the limits', () => {
    const ops = planCreate(
      spec((s) => {
        s.process!.args = Array(MAX_LIST).fill('true');
      }),
      ctx,
    );
    expect(() => encodePlan(ops)).not.toThrow();
  });
});
