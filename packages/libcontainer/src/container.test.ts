import { spawn } from 'node:child_process';
import type { CgroupManager } from '@runc-ts/cgroups';
import { describe, expect, it } from 'vitest';
import { nodeHost } from './lifecycle/node-host.js';
import { killAndDestroy } from './process-control.js';

function busy(): Error {
  return Object.assign(new Error('remove /sys/fs/cgroup/x: Device or resource busy'), {
    code: 'BUSY',
  });
}

/** A cgroup whose pids() answers from `passes` in turn and whose destroy() runs `destroy`. */
function fakeCgroup(passes: number[][], destroy: (call: number) => void) {
  const calls = { pids: 0, destroy: 0 };
  const cgroup = {
    pids: () => passes[calls.pids++] ?? [],
    destroy: async () => destroy(++calls.destroy),
  } as unknown as CgroupManager;
  return { cgroup, calls };
}

describe('killAndDestroy (delete)', () => {
  it('kills a process that joined after the kill pass, then removes the cgroup', async () => {
    const late = spawn('sleep', ['1000'], { stdio: 'ignore' });
    const killed = new Promise((resolve) => late.once('exit', (_, signal) => resolve(signal)));
    const { cgroup, calls } = fakeCgroup([[], [late.pid!]], (call) => {
      if (call === 1) throw busy();
    });
    await killAndDestroy(cgroup, nodeHost);
    expect(await killed).toBe('SIGKILL');
    expect(calls).toEqual({ pids: 2, destroy: 2 });
  });

  it('gives up after three busy attempts, and at once on another error', async () => {
    const always = fakeCgroup([], () => {
      throw busy();
    });
    await expect(killAndDestroy(always.cgroup, nodeHost)).rejects.toMatchObject({ code: 'BUSY' });
    expect(always.calls.destroy).toBe(3);
    const other = fakeCgroup([], () => {
      throw Object.assign(new Error('remove: permission denied'), { code: 'CGROUP_REMOVE' });
    });
    await expect(killAndDestroy(other.cgroup, nodeHost)).rejects.toMatchObject({
      code: 'CGROUP_REMOVE',
    });
    expect(other.calls.destroy).toBe(1);
  });
});

describe('OCI_VERSION', () => {
  it("is the spec package's version", async () => {
    const { OCI_VERSION } = await import('./container.js');
    const spec = await import('@runc-ts/spec');
    expect(OCI_VERSION).toBe(spec.OCI_VERSION);
  });
});
