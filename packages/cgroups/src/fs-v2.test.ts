import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LinuxResources } from '@runc-ts/spec';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeV2, makeFakeV2, recordWrites } from '../test/test-cgroupfs.js';
import { CgroupError } from './errors.js';
import {
  blkioWeightToIoWeight,
  checkUnifiedKey,
  FsV2Manager,
  sharesToWeight,
  swapMaxValue,
} from './fs-v2.js';
import { observeCgroupWrites } from './fsutil.js';

let fake: FakeV2;
let dir: string;

beforeEach(() => {
  fake = makeFakeV2();
  dir = fake.makeCgroup('ctr');
});

afterEach(() => {
  observeCgroupWrites(undefined);
  fake.cleanup();
});

const read = (file: string, at = dir) => readFileSync(join(at, file), 'utf8');

async function set(resources: LinuxResources, at = dir): Promise<[string, string][]> {
  const recorder = recordWrites(at);
  observeCgroupWrites(recorder.observe);
  await new FsV2Manager(at, { mountPoint: fake.root }).set(resources);
  observeCgroupWrites(undefined);
  return recorder.writes;
}

async function failure(promise: Promise<unknown>): Promise<CgroupError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(CgroupError);
    return error as CgroupError;
  }
  throw new Error('expected a CgroupError');
}

describe('conversions', () => {
  it("maps cpu shares to cpu.weight with runc's formula", () => {
    expect(sharesToWeight(2)).toBe(1);
    expect(sharesToWeight(1024)).toBe(39);
    expect(sharesToWeight(262144)).toBe(10000);
  });

  it('maps blkio weight to io.weight', () => {
    expect(blkioWeightToIoWeight(10)).toBe(1);
    expect(blkioWeightToIoWeight(500)).toBe(4950);
    expect(blkioWeightToIoWeight(1000)).toBe(10000);
  });

  it('turns memory+swap into swap alone', () => {
    expect(swapMaxValue({ limit: 100, swap: 300 })).toBe('200');
    expect(swapMaxValue({ limit: 100, swap: 100 })).toBe('0');
    expect(swapMaxValue({ limit: 100, swap: -1 })).toBe('max');
    expect(swapMaxValue({ limit: 100 })).toBeUndefined();
    expect(() => swapMaxValue({ swap: 300 })).toThrow(
      /^linux\.resources\.memory\.swap: cannot be set without/,
    );
    expect(() => swapMaxValue({ limit: 300, swap: 100 })).toThrow(
      /is below linux\.resources\.memory\.limit/,
    );
    expect(() => swapMaxValue({ limit: -1, swap: 100 })).toThrow(CgroupError);
  });
});

describe('FsV2Manager.apply', () => {
  it('enables the available controllers in every ancestor and joins the leaf', async () => {
    const leaf = fake.makeCgroup('a/b');
    await new FsV2Manager(leaf, { mountPoint: fake.root }).apply(42);
    const all = '+cpuset +cpu +io +memory +hugetlb +pids +rdma';
    expect(read('cgroup.subtree_control', fake.root)).toBe(all);
    expect(read('cgroup.subtree_control', join(fake.root, 'a'))).toBe(all);
    expect(read('cgroup.subtree_control', leaf)).toBe('\n');
    expect(read('cgroup.procs', leaf)).toBe('42');
  });

  it('creates missing directories', async () => {
    const leaf = join(fake.root, 'x', 'y');
    const manager = new FsV2Manager(leaf, { mountPoint: fake.root });
    await manager.apply(0);
    expect(existsSync(leaf)).toBe(true);
    expect(manager.exists()).toBe(true);
  });

  it('refuses a directory outside the mount', async () => {
    expect(
      (await failure(new FsV2Manager('/elsewhere/c', { mountPoint: fake.root }).apply(1))).code,
    ).toBe('INVALID');
    expect(
      (await failure(new FsV2Manager(fake.root, { mountPoint: fake.root }).apply(1))).code,
    ).toBe('INVALID');
  });
});

describe('FsV2Manager.set', () => {
  it('converts cpu values', async () => {
    await set({
      cpu: {
        shares: 1024,
        quota: 50000,
        period: 100000,
        burst: 1000,
        idle: 1,
        cpus: '0-1',
        mems: '0',
      },
    });
    expect(read('cpu.weight')).toBe('39');
    expect(read('cpu.max')).toBe('50000 100000');
    expect(read('cpu.max.burst')).toBe('1000');
    expect(read('cpu.idle')).toBe('1');
    expect(read('cpuset.cpus')).toBe('0-1');
    expect(read('cpuset.mems')).toBe('0');
  });

  it('writes "max" for an unlimited quota and keeps the quota when only the period changes', async () => {
    await set({ cpu: { quota: -1 } });
    expect(read('cpu.max')).toBe('max');
    writeFileSync(join(dir, 'cpu.max'), '20000 100000\n');
    await set({ cpu: { period: 250000 } });
    expect(read('cpu.max')).toBe('20000 250000');
  });

  it('refuses what cgroup v2 does not have', async () => {
    for (const [resources, field] of [
      [{ cpu: { realtimeRuntime: 1000 } }, 'linux.resources.cpu.realtimeRuntime'],
      [{ memory: { kernel: 1 } }, 'linux.resources.memory.kernel'],
      [{ memory: { kernelTCP: 1 } }, 'linux.resources.memory.kernelTCP'],
      [{ memory: { swappiness: 10 } }, 'linux.resources.memory.swappiness'],
      [{ memory: { disableOOMKiller: true } }, 'linux.resources.memory.disableOOMKiller'],
      [{ blockIO: { leafWeight: 10 } }, 'linux.resources.blockIO.leafWeight'],
      [{ network: { classID: 1 } }, 'linux.resources.network.classID'],
    ] as [LinuxResources, string][]) {
      const error = await failure(set(resources));
      expect(error.code).toBe('UNSUPPORTED');
      expect(error.message.startsWith(`${field}: `)).toBe(true);
    }
  });

  it('writes memory, swap and low', async () => {
    const writes = await set({
      memory: { limit: 104857600, swap: 209715200, reservation: 52428800 },
    });
    expect(writes).toEqual([
      ['memory.swap.max', '104857600'],
      ['memory.max', '104857600'],
      ['memory.low', '52428800'],
    ]);
    await set({ memory: { limit: -1, swap: -1 } });
    expect(read('memory.max')).toBe('max');
    expect(read('memory.swap.max')).toBe('max');
  });

  it('skips an unlimited swap without swap accounting, and fails for a finite one', async () => {
    rmSync(join(dir, 'memory.swap.max'));
    await set({ memory: { limit: 1048576, swap: -1 } });
    const error = await failure(set({ memory: { limit: 1048576, swap: 2097152 } }));
    expect(error.message).toMatch(/memory\.swap\.max does not exist/);
  });

  it('writes pids, io, hugetlb and rdma', async () => {
    await set({
      pids: { limit: 0 },
      blockIO: {
        weight: 500,
        weightDevice: [{ major: 8, minor: 0, weight: 100 }],
        throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
        throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 0 }],
      },
      hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }],
      rdma: { mlx5_0: { hcaHandles: 3 } },
    });
    expect(read('pids.max')).toBe('max');
    expect(read('io.weight')).toBe('8:0 910');
    expect(read('io.max')).toBe('8:0 wiops=max');
    expect(read('hugetlb.2MB.max')).toBe('4194304');
    expect(read('hugetlb.2MB.rsvd.max')).toBe('4194304');
    expect(read('rdma.max')).toBe('mlx5_0 hca_handle=3');
  });

  it("uses BFQ's weight scale where io.bfq.weight exists", async () => {
    const bfq = fake.makeCgroup('bfq', { 'io.bfq.weight': 'default 100\n' });
    const writes = await set(
      { blockIO: { weight: 500, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 7 }] } },
      bfq,
    );
    expect(writes).toEqual([
      ['io.bfq.weight', '500'],
      ['io.max', '8:0 rbps=7'],
    ]);
  });

  it('writes unified entries last, so they win over converted values', async () => {
    const writes = await set({
      cpu: { shares: 1024 },
      unified: { 'cpu.weight': '77', 'memory.high': '1073741824' },
    });
    expect(writes).toEqual([
      ['cpu.weight', '39'],
      ['cpu.weight', '77'],
      ['memory.high', '1073741824'],
    ]);
  });

  it('validates unified keys before writing anything', async () => {
    for (const key of ['../cgroup.procs', 'a/b', '..', 'memoryhigh', 'cgroup..procs', '']) {
      const error = await failure(set({ pids: { limit: 3 }, unified: { [key]: '1' } }));
      expect(error.code).toBe('INVALID');
      expect(error.message.startsWith(`linux.resources.unified[${JSON.stringify(key)}]: `)).toBe(
        true,
      );
    }
    expect(read('pids.max')).toBe('max\n');
    expect(() => checkUnifiedKey('hugetlb.1GB.rsvd.max')).not.toThrow();
  });

  it('says which controller is missing when a file is absent', async () => {
    const limited = fake.makeCgroup('limited', { 'cgroup.controllers': 'cpu pids\n' }, [
      'memory.high',
      'memory.max',
    ]);
    let error = await failure(set({ unified: { 'memory.high': '1' } }, limited));
    expect(error.code).toBe('UNSUPPORTED');
    expect(error.message).toBe(
      `linux.resources.unified["memory.high"]: cannot be set: the memory controller is not enabled for ${limited} (its cgroup.controllers: cpu pids)`,
    );
    error = await failure(set({ memory: { limit: 1 } }, limited));
    expect(error.message).toMatch(
      /^linux\.resources\.memory\.limit: cannot be set: the memory controller is not enabled/,
    );
  });

  it('compiles device rules and reports invalid ones before touching the cgroup', async () => {
    await expect(set({ devices: [{ allow: true, type: 'x' }] })).rejects.toThrow(
      /linux\.resources\.devices\[0\]\.type/,
    );
  });
});

describe('FsV2Manager: freezer, stats, pids, destroy, state', () => {
  it('freezes through cgroup.freeze and waits for cgroup.events', async () => {
    const manager = new FsV2Manager(dir, { mountPoint: fake.root });
    expect(manager.freezerState()).toBe('thawed');
    writeFileSync(join(dir, 'cgroup.events'), 'populated 1\nfrozen 1\n');
    await manager.freeze();
    expect(read('cgroup.freeze')).toBe('1');
    expect(manager.freezerState()).toBe('frozen');
    writeFileSync(join(dir, 'cgroup.events'), 'populated 1\nfrozen 0\n');
    expect(manager.freezerState()).toBe('freezing');
    await manager.thaw();
    expect(manager.freezerState()).toBe('thawed');
    rmSync(join(dir, 'cgroup.freeze'));
    expect(manager.freezerState()).toBe('undefined');
    expect((await failure(manager.freeze())).code).toBe('UNSUPPORTED');
  });

  it("reports stats in runc's v2 shape: ns times, swap as memory+swap", () => {
    expect(JSON.stringify(new FsV2Manager(dir).stats())).toBe(
      JSON.stringify({
        cpu: {
          usage: { total: 176750000, kernel: 10000000, user: 160000000 },
          throttling: { periods: 16, throttledPeriods: 15, throttledTime: 1316400000 },
        },
        cpuset: {
          cpu_exclusive: 0,
          mem_hardwall: 0,
          mem_exclusive: 0,
          memory_migrate: 0,
          memory_spread_page: 0,
          memory_spread_slab: 0,
          memory_pressure: 0,
          sched_load_balance: 0,
          sched_relax_domain_level: 0,
        },
        memory: {
          cache: 4096,
          usage: { limit: 2 ** 64, usage: 462848, max: 2772992, failcnt: 0 },
          swap: { limit: 2 ** 64, usage: 466944, failcnt: 0 },
          kernel: { limit: 0, failcnt: 0 },
          kernelTCP: { limit: 0, failcnt: 0 },
          raw: { anon: 57344, file: 4096, kernel: 245760 },
        },
        pids: { current: 1 },
        blkio: {
          ioServiceBytesRecursive: [
            { major: 254, op: 'Read', value: 4096 },
            { major: 254, op: 'Write' },
          ],
          ioServicedRecursive: [
            { major: 254, op: 'Read', value: 1 },
            { major: 254, op: 'Write' },
          ],
        },
        hugetlb: { '2MB': { usage: 2097152, failcnt: 2 } },
      }),
    );
    writeFileSync(join(dir, 'memory.max'), '1000\n');
    writeFileSync(join(dir, 'memory.swap.max'), '500\n');
    expect(new FsV2Manager(dir).stats().memory.swap.limit).toBe(1500);
  });

  it('lists pids recursively', () => {
    writeFileSync(join(dir, 'cgroup.procs'), '7\n');
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'cgroup.procs'), '8\n9\n');
    expect(new FsV2Manager(dir).pids()).toEqual([7, 8, 9]);
  });

  it('removes its directory tree, refuses the mount point, and is idempotent', async () => {
    const leaf = join(fake.root, 'gone');
    const manager = new FsV2Manager(leaf, { mountPoint: fake.root });
    await manager.apply(0);
    mkdirSync(join(leaf, 'child'));
    await manager.destroy();
    expect(existsSync(leaf)).toBe(false);
    await manager.destroy();
    const error = await failure(new FsV2Manager(fake.root, { mountPoint: fake.root }).destroy());
    expect(error.message).toMatch(/cgroup2 mount point/);
  });

  it('reports its state', () => {
    expect(new FsV2Manager('/sys/fs/cgroup/c').state()).toEqual({
      driver: 'fs2',
      paths: { '': '/sys/fs/cgroup/c' },
    });
  });
});

describe('FsV2Manager.onOom', () => {
  it('calls the listener once per new oom_kill and stops when asked', async () => {
    const manager = new FsV2Manager(dir);
    let calls = 0;
    const stop = manager.onOom(() => {
      calls++;
    });
    try {
      const events = (kills: number) =>
        writeFileSync(
          join(dir, 'memory.events'),
          `low 0\nhigh 0\nmax 3\noom 1\noom_kill ${kills}\n`,
        );
      events(1);
      await waitFor(() => calls === 1);
      events(3);
      await waitFor(() => calls === 3);
    } finally {
      stop();
    }
    writeFileSync(join(dir, 'memory.events'), 'oom_kill 9\n');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(calls).toBe(3);
  });

  it('needs memory.events', () => {
    rmSync(join(dir, 'memory.events'));
    expect(() => new FsV2Manager(dir).onOom(() => {})).toThrow(/memory controller is not enabled/);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
