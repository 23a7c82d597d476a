import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Process, parseProcess, type Spec, validateConfig } from '@runc-ts/spec';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  configSeeds,
  get,
  type Json,
  type Path,
  paths,
  processSeeds,
} from '../../spec/test/fuzz-seeds.js';
import { PlanError } from './errors.js';
import { dumpPlan, encodeFrame, encodePlan, MessageType, type Op } from './plan.js';
import { type PlanContext, planCreate } from './plan-create.js';
import { planExec } from './plan-exec.js';

// Property tests of the planner (issue 12, "Fuzzing"): configs that pass
// validation, randomly varied, must give a plan or a PlanError naming the
// field, never another exception; and every plan must encode and decode
// through the C executor's decoder (`runc-ts-init --dump`, the same check the
// golden vectors use) to exactly the dump the TypeScript side expects, so the
// executor's input is always well-formed. Seeded and bounded; FUZZ_SEED and
// FUZZ_RUNS override for a longer local run.
const SEED = Number(process.env.FUZZ_SEED ?? 0x91a2);
const RUNS = Number(process.env.FUZZ_RUNS ?? 200);
const TIMEOUT = 60_000;

const executor = new URL('../../../native/build/runc-ts-init', import.meta.url).pathname;
const executorMissing = (() => {
  try {
    accessSync(executor, constants.X_OK);
    return undefined;
  } catch {
    return `${executor} is not built (pnpm -s build)`;
  }
})();

const scratch = mkdtempSync(join(tmpdir(), 'runc-ts-plan-fuzz-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Encodes `ops` as a PLAN frame and checks the C decoder reads back the same plan. */
function roundTrip(ops: readonly Op[]): void {
  const frame = encodeFrame(MessageType.PLAN, encodePlan(ops));
  if (executorMissing !== undefined) return;
  const file = join(scratch, 'plan');
  writeFileSync(file, frame);
  const dumped = spawnSync(executor, ['--dump', file], { encoding: 'utf8' });
  expect(dumped.stderr).toBe('');
  expect(dumped.status).toBe(0);
  expect(dumped.stdout).toBe(dumpPlan(ops));
}

const seeds = configSeeds();

const strings = fc.oneof(
  fc.constantFrom(
    '',
    '/',
    '.',
    '..',
    '/a/../../..',
    'relative/path',
    '/proc',
    '/proc/self/fd/3',
    '/sys/fs/cgroup',
    '/dev/null',
    'a\nb',
    '\0',
    '/x\0y',
    'CAP_SYS_ADMIN',
    'CAP_NOPE',
    'RLIMIT_NOFILE',
    'RLIMIT_NOPE',
    'ro',
    'rbind',
    'nosuid',
    'idmap',
    'tmpfs',
    'bind',
    'proc',
    'PATH=/bin',
    'HOME',
    '=',
    'net.ipv4.ip_forward',
    'kernel.shmmax',
    'fs.nope',
    '\u{1F600}',
  ),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom(65_535, 65_536, 70_000).map((n) => `/${'x'.repeat(n)}`),
);

const integers = fc.oneof(
  fc.constantFrom(0, 1, -1, 2, 65535, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53),
  fc.integer(),
  fc.nat({ max: 5000 }),
);

/**
 * One type-preserving change at `path`: a string for a string, an integer for
 * an integer, a flipped boolean, a removed or duplicated array item or object
 * key. Most results still pass validation, so the planner sees them.
 */
function change(
  value: Json,
  path: Path,
  how: number,
  text: string,
  n: number,
  repeat: number,
): Json | undefined {
  const copy = structuredClone(value);
  if (path.length === 0) return copy;
  const parent = get(copy, path.slice(0, -1)) as Record<string | number, Json>;
  const key = path[path.length - 1]!;
  const node = parent[key]!;
  if (how === 0) {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
  } else if (how === 1 && Array.isArray(parent)) {
    for (let i = 0; i < repeat; i++) parent.push(structuredClone(node));
  } else if (typeof node === 'string') parent[key] = text;
  else if (typeof node === 'number') parent[key] = n;
  else if (typeof node === 'boolean') parent[key] = !node;
  else if (Array.isArray(node) && node.length > 0) {
    node.push(...Array.from({ length: repeat }, () => structuredClone(node[0]!)));
  } else return undefined;
  return copy;
}

const edit = fc.record({
  pick: fc.nat(),
  how: fc.nat({ max: 5 }),
  text: strings,
  n: integers,
  repeat: fc.oneof(
    { weight: 9, arbitrary: fc.constant(1) },
    { weight: 1, arbitrary: fc.constant(4097) },
  ),
});

/** A valid-seeming document: a seed with one to four type-preserving changes. */
function varied(from: fc.Arbitrary<Json>): fc.Arbitrary<Json> {
  return fc.tuple(from, fc.array(edit, { minLength: 1, maxLength: 4 })).map(([seed, edits]) => {
    let doc = seed;
    for (const { pick, how, text, n, repeat } of edits) {
      const all = paths(doc);
      doc = change(doc, all[pick % all.length]!, how, text, n, repeat) ?? doc;
    }
    return doc;
  });
}

const contexts = fc.record({
  terminal: fc.boolean(),
  noPivot: fc.boolean(),
  noNewKeyring: fc.boolean(),
  preserveFds: fc.nat({ max: 5 }),
  rootless: fc.boolean(),
  hostHasKcore: fc.boolean(),
  selinuxEnabled: fc.boolean(),
  lastCap: fc.option(fc.constantFrom(37, 40, 63), { nil: undefined }),
});

type ContextChoice = typeof contexts extends fc.Arbitrary<infer T> ? T : never;

function context(c: ContextChoice): PlanContext {
  return {
    rootfs: '/bundle/rootfs',
    fifoPath: '/run/runc-ts/c1/exec.fifo',
    containerId: 'c1',
    noPivot: c.noPivot,
    noNewKeyring: c.noNewKeyring,
    preserveFds: c.preserveFds,
    consoleSocket: c.terminal ? '/tmp/console.sock' : undefined,
    bundle: '/bundle',
    sourceIsFile: (path) => path.endsWith('.conf'),
    rootless: c.rootless,
    hostHasKcore: c.hostHasKcore,
    selinuxEnabled: c.selinuxEnabled,
    lastCap: c.lastCap,
    warn: () => {},
  };
}

/** The seeds the planner accepts as they are, so each run plans a variation of a working config. */
const createSeeds = seeds.filter((doc) => {
  const spec = validated(doc);
  if (spec === undefined) return false;
  const ctx = context({
    terminal: true,
    noPivot: false,
    noNewKeyring: false,
    preserveFds: 0,
    rootless: false,
    hostHasKcore: true,
    selinuxEnabled: false,
    lastCap: undefined,
  });
  try {
    planCreate(spec, ctx);
    return true;
  } catch {
    return false;
  }
});

/**
 * Runs the planner; passes on a plan (which must round-trip) or on a
 * PlanError naming the field; any other exception fails the property.
 */
function planOrPlanError(plan: () => Op[]): 'plan' | 'error' {
  let ops: Op[];
  try {
    ops = plan();
  } catch (error) {
    if (!(error instanceof PlanError)) throw error;
    expect(error.path).not.toBe('');
    expect(error.message.startsWith(`${error.path}: `)).toBe(true);
    expect(error.code).toMatch(/^[A-Z_]+$/);
    return 'error';
  }
  roundTrip(ops);
  return 'plan';
}

function validated(doc: Json): Spec | undefined {
  try {
    return validateConfig(structuredClone(doc), { forCreate: true });
  } catch {
    return undefined;
  }
}

describe('planner under random valid configs', () => {
  it(
    'planCreate gives a plan that round-trips through the C decoder, or a PlanError naming the field',
    () => {
      const seen = { plan: 0, error: 0, invalid: 0 };
      fc.assert(
        fc.property(varied(fc.constantFrom(...createSeeds)), contexts, (doc, c) => {
          const spec = validated(doc);
          if (spec === undefined) {
            seen.invalid++;
            return;
          }
          const ctx = context(c);
          seen[planOrPlanError(() => planCreate(spec, ctx))]++;
        }),
        { seed: SEED, numRuns: RUNS },
      );
      // the generator must reach the planner, not just the validator
      expect(seen.plan).toBeGreaterThan(RUNS / 10);
    },
    TIMEOUT,
  );

  it(
    'planExec gives a plan that round-trips through the C decoder, or a PlanError naming the field',
    () => {
      const processes = processSeeds(seeds);
      const seen = { plan: 0, error: 0, invalid: 0 };
      fc.assert(
        fc.property(
          fc.constantFrom(...seeds.map(validated).filter((s): s is Spec => s !== undefined)),
          varied(fc.constantFrom(...processes)),
          fc.record({
            initPid: fc.integer({ min: 1, max: 2 ** 22 }),
            initStartTime: fc.option(fc.nat().map(String), { nil: undefined }),
            detach: fc.boolean(),
            preserveFds: fc.nat({ max: 5 }),
            rootless: fc.boolean(),
            joinCgroup: fc.boolean(),
            tty: fc.boolean(),
          }),
          (spec, doc, c) => {
            let process: Process;
            try {
              process = parseProcess(JSON.stringify(doc));
            } catch {
              seen.invalid++;
              return;
            }
            if (c.tty) process.terminal = true;
            seen[
              planOrPlanError(() =>
                planExec(spec, process, {
                  initPid: c.initPid,
                  initStartTime: c.initStartTime,
                  detach: c.detach,
                  consoleSocket: process.terminal ? '/tmp/console.sock' : undefined,
                  preserveFds: c.preserveFds,
                  rootless: c.rootless,
                  joinCgroup: c.joinCgroup,
                  warn: () => {},
                }),
              )
            ]++;
          },
        ),
        { seed: SEED, numRuns: RUNS },
      );
      expect(seen.plan).toBeGreaterThan(RUNS / 10);
    },
    TIMEOUT,
  );
});
