import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LinuxResources } from '@runc-ts/spec';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeV1, makeFakeV1, recordWrites } from '../test/test-cgroupfs.js';
import { CgroupError } from './errors.js';
import { FsV1Manager } from './fs-v1.js';
import { observeCgroupWrites, RootlessSkips } from './fsutil.js';

/** What a v1 limit file says for "no limit" (2^63 rounded down to a page); a double exactly. */
const V1_UNLIMITED = 2 ** 63 - 4096;

let fake: FakeV1;
let dirs: Record<string, string>;

beforeEach(() => {
  fake = makeFakeV1();
  dirs = fake.makeCgroup('ctr');
});

afterEach(() => {
  observeCgroupWrites(undefined);
  fake.cleanup();
});

function read(key: string, file: string): string {
  return readFileSync(join(dirs[key] as string, file), 'utf8');
}

async function set(resources: LinuxResources, paths = dirs): Promise<[string, string][]> {
  const recorder = recordWrites(fake.root);
  observeCgroupWrites(recorder.observe);
  await new FsV1Manager(paths).set(resources);
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

describe('FsV1Manager.apply', () => {
  it('joins every hierarchy and gives new cpuset cgroups their parent cpus and mems', async () => {
    const nested = fake.makeCgroup('a/b');
    await new FsV1Manager(nested).apply(4242);
    for (const key of ['cpu', 'memory', 'devices', 'name=systemd']) {
      expect(readFileSync(join(nested[key] as string, 'cgroup.procs'), 'utf8')).toBe('4242');
    }
    expect(readFileSync(join(fake.mounts.cpuset as string, 'a', 'cpuset.cpus'), 'utf8')).toBe(
      '0-3',
    );
    expect(readFileSync(join(nested.cpuset as string, 'cpuset.cpus'), 'utf8')).toBe('0-3');
    expect(readFileSync(join(nested.cpuset as string, 'cpuset.mems'), 'utf8')).toBe('0');
  });

  it('creates missing directories, and a pid of 0 only creates', async () => {
    const paths = { memory: join(fake.mounts.memory as string, 'new', 'ctr') };
    const manager = new FsV1Manager(paths);
    expect(manager.exists()).toBe(false);
    await manager.apply(0);
    expect(manager.exists()).toBe(true);
    expect(existsSync(join(paths.memory, 'cgroup.procs'))).toBe(false);
  });
});

describe('FsV1Manager.set: memory', () => {
  it('writes limit, reservation, memsw, kernel, swappiness and OOM killer', async () => {
    await set({
      memory: {
        limit: 104857600,
        reservation: 52428800,
        swap: 209715200,
        kernel: 83886080,
        kernelTCP: 41943040,
        swappiness: 30,
        disableOOMKiller: true,
        useHierarchy: true,
      },
    });
    expect(read('memory', 'memory.limit_in_bytes')).toBe('104857600');
    expect(read('memory', 'memory.soft_limit_in_bytes')).toBe('52428800');
    expect(read('memory', 'memory.memsw.limit_in_bytes')).toBe('209715200');
    expect(read('memory', 'memory.kmem.limit_in_bytes')).toBe('83886080');
    expect(read('memory', 'memory.kmem.tcp.limit_in_bytes')).toBe('41943040');
    expect(read('memory', 'memory.swappiness')).toBe('30');
    expect(read('memory', 'memory.oom_control')).toBe('1');
    expect(read('memory', 'memory.use_hierarchy')).toBe('1');
  });

  it('lowers memory before memsw and raises memsw before memory', async () => {
    let writes = await set({ memory: { limit: 104857600, swap: 209715200 } });
    expect(writes.map(([file]) => file.split('/').pop())).toEqual([
      'memory.limit_in_bytes',
      'memory.memsw.limit_in_bytes',
    ]);
    writes = await set({ memory: { limit: 314572800, swap: 419430400 } });
    expect(writes.map(([file]) => file.split('/').pop())).toEqual([
      'memory.memsw.limit_in_bytes',
      'memory.limit_in_bytes',
    ]);
  });

  it('writes -1 for unlimited and prints large values as digits', async () => {
    await set({ memory: { limit: -1, swap: -1 } });
    expect(read('memory', 'memory.limit_in_bytes')).toBe('-1');
    await set({ memory: { limit: 2 ** 63 } });
    expect(read('memory', 'memory.limit_in_bytes')).toBe('9223372036854775808');
  });

  it('rejects inconsistent values naming the JSON path', async () => {
    let error = await failure(set({ memory: { limit: 104857600, swap: 52428800 } }));
    expect(error.code).toBe('INVALID');
    expect(error.message).toMatch(/^linux\.resources\.memory\.swap: 52428800 is below/);
    error = await failure(set({ memory: { limit: -1, swap: 52428800 } }));
    expect(error.message).toMatch(/^linux\.resources\.memory\.swap:/);
    error = await failure(set({ memory: { swappiness: 101 } }));
    expect(error.message).toBe(
      'linux.resources.memory.swappiness: 101 is not a valid swappiness (0 to 100)',
    );
  });

  it('skips memsw for swap -1 without swap accounting, but fails for a finite swap', async () => {
    rmSync(join(dirs.memory as string, 'memory.memsw.limit_in_bytes'));
    await set({ memory: { limit: 1048576, swap: -1 } });
    expect(read('memory', 'memory.limit_in_bytes')).toBe('1048576');
    const error = await failure(set({ memory: { limit: 1048576, swap: 2097152 } }));
    expect(error.message).toMatch(
      /memory\.memsw\.limit_in_bytes does not exist \(swap accounting is off/,
    );
  });

  it('refuses a limit below the usage when checkBeforeUpdate is set', async () => {
    const error = await failure(set({ memory: { limit: 4096, checkBeforeUpdate: true } }));
    expect(error.message).toMatch(/below the cgroup's current usage 462848/);
  });

  it("reports the kernel's refusal with the file, the value and strerror", async () => {
    rmSync(join(dirs.memory as string, 'memory.limit_in_bytes'));
    mkdirSync(join(dirs.memory as string, 'memory.limit_in_bytes'));
    const error = await failure(set({ memory: { limit: 1234 } }));
    expect(error.code).toBe('CGROUP_WRITE');
    expect(error.message).toBe(
      `linux.resources.memory.limit: write ${dirs.memory}/memory.limit_in_bytes: "1234": Is a directory`,
    );
  });
});

describe('FsV1Manager.set: cpu, cpuset, pids', () => {
  it('writes every cpu value', async () => {
    await set({
      cpu: {
        shares: 512,
        quota: 50000,
        period: 100000,
        burst: 10000,
        realtimeRuntime: 950,
        realtimePeriod: 1000000,
        cpus: '1',
        mems: '0',
        idle: 1,
      },
    });
    expect(read('cpu', 'cpu.shares')).toBe('512');
    expect(read('cpu', 'cpu.cfs_quota_us')).toBe('50000');
    expect(read('cpu', 'cpu.cfs_period_us')).toBe('100000');
    expect(read('cpu', 'cpu.cfs_burst_us')).toBe('10000');
    expect(read('cpu', 'cpu.rt_period_us')).toBe('1000000');
    expect(read('cpu', 'cpu.rt_runtime_us')).toBe('950');
    expect(read('cpu', 'cpu.idle')).toBe('1');
    expect(read('cpuset', 'cpuset.cpus')).toBe('1');
    expect(read('cpuset', 'cpuset.mems')).toBe('0');
  });

  it('leaves unset (0) values alone', async () => {
    expect(await set({ cpu: { shares: 0, quota: 0 } })).toEqual([]);
  });

  it('fails naming the file when the kernel has no burst', async () => {
    rmSync(join(dirs.cpu as string, 'cpu.cfs_burst_us'));
    const error = await failure(set({ cpu: { burst: 1000 } }));
    expect(error.message).toMatch(
      /^linux\.resources\.cpu\.burst: .*cpu\.cfs_burst_us does not exist/,
    );
  });

  it('writes "max" for a pids limit of 0 or -1', async () => {
    await set({ pids: { limit: 50 } });
    expect(read('pids', 'pids.max')).toBe('50');
    await set({ pids: { limit: 0 } });
    expect(read('pids', 'pids.max')).toBe('max');
    await set({ pids: { limit: -1 } });
    expect(read('pids', 'pids.max')).toBe('max');
  });
});

describe('FsV1Manager.set: blkio, hugetlb, network, rdma, devices', () => {
  it('writes weights to the BFQ files and throttles per device', async () => {
    const writes = await set({
      blockIO: {
        weight: 500,
        weightDevice: [{ major: 254, minor: 0, weight: 300 }],
        throttleReadBpsDevice: [{ major: 254, minor: 0, rate: 1048576 }],
        throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 0 }],
        throttleReadIOPSDevice: [{ major: 254, minor: 0, rate: 10 }],
        throttleWriteIOPSDevice: [{ major: 254, minor: 0, rate: 100 }],
      },
    });
    expect(writes.map(([file, value]) => `${file.split('/').pop()}=${value}`)).toEqual([
      'blkio.bfq.weight=500',
      'blkio.bfq.weight_device=254:0 300',
      'blkio.throttle.read_bps_device=254:0 1048576',
      'blkio.throttle.write_bps_device=8:0 0',
      'blkio.throttle.read_iops_device=254:0 10',
      'blkio.throttle.write_iops_device=254:0 100',
    ]);
  });

  it('uses the CFQ files where BFQ has none, and fails naming a missing file', async () => {
    rmSync(join(dirs.blkio as string, 'blkio.bfq.weight'));
    writeFileSync(join(dirs.blkio as string, 'blkio.weight'), '500');
    await set({ blockIO: { weight: 200 } });
    expect(read('blkio', 'blkio.weight')).toBe('200');
    const error = await failure(set({ blockIO: { leafWeight: 500 } }));
    expect(error.message).toBe(
      `linux.resources.blockIO.leafWeight: write ${dirs.blkio}/blkio.leaf_weight: "500": No such file or directory`,
    );
  });

  it('limits huge pages and their reservations where the kernel has them', async () => {
    await set({
      hugepageLimits: [
        { pageSize: '2MB', limit: 10485760 },
        { pageSize: '1GB', limit: 1073741824 },
      ],
    });
    expect(read('hugetlb', 'hugetlb.2MB.limit_in_bytes')).toBe('10485760');
    expect(read('hugetlb', 'hugetlb.2MB.rsvd.limit_in_bytes')).toBe('10485760');
    expect(read('hugetlb', 'hugetlb.1GB.limit_in_bytes')).toBe('1073741824');
    const error = await failure(set({ hugepageLimits: [{ pageSize: '64KB', limit: 1 }] }));
    expect(error.message).toMatch(
      /^linux\.resources\.hugepageLimits\[0\]\.pageSize: .*hugetlb\.64KB\.limit_in_bytes does not exist/,
    );
  });

  it('writes the class id, interface priorities and rdma limits', async () => {
    const writes = await set({
      network: {
        classID: 1048577,
        priorities: [
          { name: 'eth0', priority: 5 },
          { name: 'lo', priority: 1 },
        ],
      },
      rdma: { mlx4_0: { hcaHandles: 2, hcaObjects: 2000 }, mlx5_1: { hcaObjects: 7 } },
    });
    expect(read('net_cls', 'net_cls.classid')).toBe('1048577');
    expect(writes.filter(([file]) => file.endsWith('ifpriomap')).map(([, value]) => value)).toEqual(
      ['eth0 5', 'lo 1'],
    );
    expect(writes.filter(([file]) => file.endsWith('rdma.max')).map(([, value]) => value)).toEqual([
      'mlx4_0 hca_handle=2 hca_object=2000',
      'mlx5_1 hca_object=7',
    ]);
  });

  it('applies device rules and leaves devices alone when they are not given', async () => {
    let writes = await set({
      devices: [
        { allow: false, access: 'rwm' },
        { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
      ],
    });
    expect(writes.map(([, value]) => value)).toEqual(['a', 'c 1:3 rwm']);
    writes = await set({ pids: { limit: 5 } });
    expect(writes.some(([file]) => file.includes('devices'))).toBe(false);
  });

  it('refuses unified on v1 and values for hierarchies that are not mounted', async () => {
    let error = await failure(set({ unified: { 'memory.high': '1' } }));
    expect(error.message).toBe(
      'linux.resources.unified: invalid configuration: unified resources need cgroup v2, and this host has cgroup v1',
    );
    const { hugetlb: _, ...withoutHugetlb } = dirs;
    error = await failure(set({ hugepageLimits: [{ pageSize: '2MB', limit: 1 }] }, withoutHugetlb));
    expect(error.code).toBe('UNSUPPORTED');
    expect(error.message).toBe(
      'linux.resources.hugepageLimits: cannot be set: the hugetlb controller is not mounted on this host',
    );
    await set({ hugepageLimits: [] }, withoutHugetlb);
  });
});

describe('FsV1Manager: pids, stats, freezer, destroy, state', () => {
  it('lists the pids of the cgroup and of cgroups below it', () => {
    writeFileSync(join(dirs.devices as string, 'cgroup.procs'), '10\n11\n');
    mkdirSync(join(dirs.devices as string, 'sub'));
    writeFileSync(join(dirs.devices as string, 'sub', 'cgroup.procs'), '12\n');
    expect(new FsV1Manager(dirs).pids()).toEqual([10, 11, 12]);
  });

  it("reports stats in runc's shape and order, leaving out zeros as runc does", () => {
    const stats = new FsV1Manager(dirs).stats();
    expect(JSON.stringify(stats)).toBe(
      JSON.stringify({
        cpu: {
          usage: {
            total: 176750109,
            percpu: [11841393, 164908716],
            percpu_kernel: [8000000, 4000000],
            percpu_user: [8000000, 192000000],
            kernel: 10000000,
            user: 160000000,
          },
          throttling: { periods: 16, throttledPeriods: 15, throttledTime: 1316400550 },
        },
        cpuset: {
          cpu_exclusive: 0,
          mem_hardwall: 0,
          mem_exclusive: 0,
          memory_migrate: 0,
          memory_spread_page: 0,
          memory_spread_slab: 0,
          memory_pressure: 0,
          sched_load_balance: 1,
          sched_relax_domain_level: -1,
        },
        memory: {
          cache: 4096,
          usage: { limit: V1_UNLIMITED, usage: 462848, max: 2772992, failcnt: 0 },
          swap: { limit: V1_UNLIMITED, usage: 462848, max: 2772992, failcnt: 0 },
          kernel: { limit: V1_UNLIMITED, usage: 245760, max: 602112, failcnt: 0 },
          kernelTCP: { limit: V1_UNLIMITED, failcnt: 0 },
          raw: {
            cache: 4096,
            hierarchical_memory_limit: V1_UNLIMITED,
            rss: 57344,
            total_cache: 4096,
          },
        },
        pids: { current: 1 },
        blkio: {
          ioServiceBytesRecursive: [
            { major: 254, op: 'Read', value: 4096 },
            { major: 254, op: 'Write' },
            { major: 254, op: 'Sync', value: 4096 },
            { major: 254, op: 'Async' },
            { major: 254, op: 'Discard' },
            { major: 254, op: 'Total', value: 4096 },
          ],
          ioServicedRecursive: [
            { major: 254, op: 'Read', value: 1 },
            { major: 254, op: 'Write' },
            { major: 254, op: 'Sync', value: 1 },
            { major: 254, op: 'Async' },
            { major: 254, op: 'Discard' },
            { major: 254, op: 'Total', value: 1 },
          ],
        },
        hugetlb: { '1GB': { failcnt: 0 }, '2MB': { usage: 2097152, max: 4194304, failcnt: 3 } },
      }),
    );
  });

  it('freezes and thaws through freezer.state', async () => {
    const manager = new FsV1Manager(dirs);
    expect(manager.freezerState()).toBe('thawed');
    await manager.freeze();
    expect(read('freezer', 'freezer.state')).toBe('FROZEN');
    expect(manager.freezerState()).toBe('frozen');
    await manager.thaw();
    expect(manager.freezerState()).toBe('thawed');
    expect(new FsV1Manager({}).freezerState()).toBe('undefined');
    expect((await failure(new FsV1Manager({}).freeze())).code).toBe('UNSUPPORTED');
  });

  it('removes every directory, deepest first, and is idempotent', async () => {
    const paths = {
      memory: join(fake.mounts.memory as string, 'gone'),
      cpu: join(fake.mounts.cpu as string, 'gone'),
      cpuacct: join(fake.mounts.cpu as string, 'gone'),
    };
    const manager = new FsV1Manager(paths);
    await manager.apply(0);
    mkdirSync(join(paths.memory, 'nested', 'deeper'), { recursive: true });
    await manager.destroy();
    expect(existsSync(paths.memory)).toBe(false);
    expect(existsSync(paths.cpu)).toBe(false);
    expect(manager.exists()).toBe(false);
    await manager.destroy();
  });

  it('refuses to remove a hierarchy root', async () => {
    const error = await failure(
      new FsV1Manager({ memory: fake.mounts.memory as string }).destroy(),
    );
    expect(error.message).toMatch(/root of a cgroup hierarchy/);
    expect(existsSync(fake.mounts.memory as string)).toBe(true);
  });

  it('reports its state as runc keeps cgroup_paths', () => {
    expect(new FsV1Manager({ memory: '/m', '': '/u' }).state()).toEqual({
      driver: 'fs',
      paths: { memory: '/m', '': '/u' },
    });
    expect(new FsV1Manager({}, { rootless: true }).state()).toEqual({
      driver: 'fs',
      paths: {},
      rootless: true,
    });
  });
});

describe('RootlessSkips', () => {
  const permissionError = () =>
    Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });

  it('records and swallows permission errors only when rootless', () => {
    const skips = new RootlessSkips(true);
    expect(
      skips.attempt('write x', () => {
        throw permissionError();
      }),
    ).toBe(false);
    expect(skips.entries).toEqual(['write x: Permission denied']);
    expect(() =>
      new RootlessSkips(false).attempt('write x', () => {
        throw permissionError();
      }),
    ).toThrow(/permission denied/);
    expect(() =>
      skips.attempt('write x', () => {
        throw Object.assign(new Error('EINVAL'), { code: 'EINVAL' });
      }),
    ).toThrow('EINVAL');
  });
});
