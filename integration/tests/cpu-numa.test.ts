// process.execCPUAffinity and linux.memoryPolicy on real containers: the
// affinity and NUMA policy the container's processes really end up with.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Spec } from '@runc-ts/spec';
import { afterAll, describe, expect, it } from 'vitest';
import { runCaptured, runcTs } from '../support/runc.js';
import { Sandbox } from '../support/sandbox.js';

const sandbox = new Sandbox();
afterAll(() => sandbox.cleanup());

const allowed = (status: string) => /Cpus_allowed_list:\s*(\S+)/.exec(status)?.[1];
/** The CPUs this test may use: what the container gets after a reset. */
const ownCpus = allowed(readFileSync('/proc/self/status', 'utf8'));
const twoCpus = availableParallelism() >= 2 && ownCpus === `0-${availableParallelism() - 1}`;
const numa = existsSync('/proc/self/numa_maps');

/** Our runc under `taskset -c <cpus>`: the runtime's own affinity. */
function runcPinned(cpus: string, args: readonly string[]) {
  return runCaptured('taskset', ['-c', cpus, runcTs, '--root', sandbox.root, ...args], {
    dir: sandbox.dir,
    input: '',
    timeout: 20_000,
  });
}

const SHOW = [
  'sh',
  '-c',
  'grep Cpus_allowed_list /proc/self/status | tr -d "\\t"; head -n1 /proc/self/numa_maps | cut -d" " -f2',
];

function runningContainer(edit: (spec: Spec) => void = () => {}): string {
  const bundle = sandbox.bundle((spec) => {
    spec.process!.args = ['sleep', '1000'];
    edit(spec);
  });
  const id = sandbox.id('cpu');
  const started = runcPinned('0', ['run', '-d', '-b', bundle, id]);
  if (started.status !== 0) throw new Error(`run -d: ${started.stderr}`);
  return id;
}

describe('process.execCPUAffinity', () => {
  it("the init does not keep the runtime's affinity (taskset -c 0 runc run)", (context) => {
    if (!twoCpus) context.skip(`needs 2 CPUs, all usable (have ${ownCpus})`);
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = SHOW;
    });
    const result = runcPinned('0', ['run', '-b', bundle, sandbox.id('run')]);
    expect(result.stderr).toBe('');
    expect(result.stdout.split('\n')[0]).toBe(`Cpus_allowed_list:${ownCpus}`);
  });

  it('exec: final from config.json, initial applied before joining (a bad one fails)', (context) => {
    if (!twoCpus) context.skip(`needs 2 CPUs, all usable (have ${ownCpus})`);
    const id = runningContainer((spec) => {
      spec.process!.execCPUAffinity = { initial: '0', final: '1' };
    });
    const final = runcPinned('0', ['exec', id, ...SHOW]);
    expect(final.status).toBe(0);
    expect(final.stdout.split('\n')[0]).toBe('Cpus_allowed_list:1');
    // the init is not concerned by execCPUAffinity
    const init = runcPinned('0', ['exec', id, 'grep', 'Cpus_allowed_list', '/proc/1/status']);
    expect(allowed(init.stdout)).toBe(ownCpus);

    // process.json: no execCPUAffinity at all resets the runtime's affinity
    const processFile = join(sandbox.dir, `process-${id}.json`);
    writeFileSync(processFile, JSON.stringify({ args: SHOW, cwd: '/' }));
    const reset = runcPinned('1', ['exec', '--process', processFile, id]);
    expect(reset.stdout.split('\n')[0]).toBe(`Cpus_allowed_list:${ownCpus}`);

    // an initial CPU that does not exist: refused by the kernel before anything is joined
    writeFileSync(
      processFile,
      JSON.stringify({ args: SHOW, cwd: '/', execCPUAffinity: { initial: '63' } }),
    );
    const missing = runcPinned('0', ['exec', '--process', processFile, id]);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain(
      'sched affinity process.execCPUAffinity.initial: cpus 63: invalid argument',
    );
    expect(sandbox.state(id).status).toBe('running');
  });

  it('refuses a malformed list naming the field, leaving nothing behind', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.execCPUAffinity = { final: '1 - 2' };
    });
    const id = sandbox.id('bad');
    const result = sandbox.runc(['run', '-d', '-b', bundle, id]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      'process.execCPUAffinity.final: invalid list \\"1 - 2\\": \\"1 - 2\\" is not a number or a range N-M',
    );
    expect(sandbox.runc(['list', '-q']).stdout).not.toContain(id);
  });
});

describe('linux.memoryPolicy', () => {
  it('is the policy of the init and of exec’d processes (set_mempolicy)', (context) => {
    if (!numa) context.skip('no /proc/self/numa_maps (kernel without NUMA)');
    const bound = sandbox.exec(SHOW, (spec) => {
      spec.linux!.memoryPolicy = { mode: 'MPOL_BIND', nodes: '0' };
    });
    expect(bound.stderr).toBe('');
    expect(bound.stdout.split('\n')[1]).toBe('bind:0');
    const id = runningContainer((spec) => {
      spec.linux!.memoryPolicy = {
        mode: 'MPOL_INTERLEAVE',
        nodes: '0',
        flags: ['MPOL_F_STATIC_NODES'],
      };
    });
    const exec = sandbox.runc(['exec', id, ...SHOW]);
    expect(exec.stdout.split('\n')[1]).toBe('interleave=static:0');
  });

  it('fails create on a node the kernel refuses, and on a config that cannot work', (context) => {
    if (!numa) context.skip('no /proc/self/numa_maps (kernel without NUMA)');
    const nodes = readFileSync('/sys/devices/system/node/online', 'utf8').trim();
    if (nodes !== '0') context.skip(`needs a machine with NUMA node 0 only (has ${nodes})`);
    for (const [policy, message] of [
      [
        { mode: 'MPOL_BIND', nodes: '1' },
        'mempolicy linux.memoryPolicy: mode 0x2 nodes 1: invalid argument',
      ],
      [{ mode: 'MPOL_PREFERRED_MANY' }, 'linux.memoryPolicy.nodes: MPOL_PREFERRED_MANY needs'],
      [{ mode: 'MPOL_LOCAL', nodes: '0' }, 'linux.memoryPolicy.nodes: MPOL_LOCAL takes no nodes'],
    ] as const) {
      const bundle = sandbox.bundle((spec) => {
        spec.linux!.memoryPolicy = policy as NonNullable<Spec['linux']>['memoryPolicy'];
      });
      const id = sandbox.id('mpol');
      const result = sandbox.runc(['run', '-d', '-b', bundle, id]);
      expect(result.status, JSON.stringify(policy)).toBe(1);
      expect(result.stderr).toContain(message);
      expect(sandbox.runc(['list', '-q']).stdout).not.toContain(id);
    }
  });
});
