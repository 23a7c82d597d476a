// Fake cgroup filesystems for unit tests: plain files named as the kernel
// names them, with the contents a fresh cgroup has. A plain file keeps only
// the last value written, so tests read write order through
// observeCgroupWrites.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const V1_FILES: Record<string, Record<string, string>> = {
  cpu: {
    'cpu.shares': '1024\n',
    'cpu.cfs_period_us': '100000\n',
    'cpu.cfs_quota_us': '-1\n',
    'cpu.cfs_burst_us': '0\n',
    'cpu.rt_period_us': '1000000\n',
    'cpu.rt_runtime_us': '0\n',
    'cpu.idle': '0\n',
    'cpu.stat': 'nr_periods 16\nnr_throttled 15\nthrottled_time 1316400550\n',
  },
  cpuacct: {
    'cpuacct.usage': '176750109\n',
    'cpuacct.usage_percpu': '11841393 164908716 \n',
    'cpuacct.usage_all': 'cpu user system\n0 8000000 8000000\n1 192000000 4000000\n',
    'cpuacct.stat': 'user 16\nsystem 1\n',
  },
  cpuset: {
    'cpuset.cpus': '\n',
    'cpuset.mems': '\n',
    'cpuset.cpu_exclusive': '0\n',
    'cpuset.mem_exclusive': '0\n',
    'cpuset.mem_hardwall': '0\n',
    'cpuset.memory_migrate': '0\n',
    'cpuset.memory_pressure': '0\n',
    'cpuset.memory_spread_page': '0\n',
    'cpuset.memory_spread_slab': '0\n',
    'cpuset.sched_load_balance': '1\n',
    'cpuset.sched_relax_domain_level': '-1\n',
  },
  memory: {
    'cgroup.event_control': '',
    'memory.limit_in_bytes': '9223372036854771712\n',
    'memory.soft_limit_in_bytes': '9223372036854771712\n',
    'memory.memsw.limit_in_bytes': '9223372036854771712\n',
    'memory.kmem.limit_in_bytes': '9223372036854771712\n',
    'memory.kmem.tcp.limit_in_bytes': '9223372036854771712\n',
    'memory.swappiness': '60\n',
    'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n',
    'memory.use_hierarchy': '1\n',
    'memory.usage_in_bytes': '462848\n',
    'memory.max_usage_in_bytes': '2772992\n',
    'memory.failcnt': '0\n',
    'memory.memsw.usage_in_bytes': '462848\n',
    'memory.memsw.max_usage_in_bytes': '2772992\n',
    'memory.memsw.failcnt': '0\n',
    'memory.kmem.usage_in_bytes': '245760\n',
    'memory.kmem.max_usage_in_bytes': '602112\n',
    'memory.kmem.failcnt': '0\n',
    'memory.kmem.tcp.usage_in_bytes': '0\n',
    'memory.kmem.tcp.max_usage_in_bytes': '0\n',
    'memory.kmem.tcp.failcnt': '0\n',
    'memory.stat':
      'cache 4096\nrss 57344\nhierarchical_memory_limit 9223372036854771712\ntotal_cache 4096\n',
  },
  devices: { 'devices.allow': '', 'devices.deny': '', 'devices.list': 'a *:* rwm\n' },
  freezer: { 'freezer.state': 'THAWED\n' },
  blkio: {
    'blkio.bfq.weight': '100\n',
    'blkio.bfq.weight_device': 'default 100\n',
    'blkio.bfq.io_service_bytes_recursive': 'Total 0\n',
    'blkio.bfq.io_serviced_recursive': 'Total 0\n',
    'blkio.throttle.io_service_bytes_recursive':
      '254:0 Read 4096\n254:0 Write 0\n254:0 Sync 4096\n254:0 Async 0\n254:0 Discard 0\n254:0 Total 4096\nTotal 4096\n',
    'blkio.throttle.io_serviced_recursive':
      '254:0 Read 1\n254:0 Write 0\n254:0 Sync 1\n254:0 Async 0\n254:0 Discard 0\n254:0 Total 1\nTotal 1\n',
    'blkio.throttle.read_bps_device': '',
    'blkio.throttle.write_bps_device': '',
    'blkio.throttle.read_iops_device': '',
    'blkio.throttle.write_iops_device': '',
  },
  pids: { 'pids.max': 'max\n', 'pids.current': '1\n' },
  hugetlb: {
    'hugetlb.2MB.limit_in_bytes': '9223372036854771712\n',
    'hugetlb.2MB.rsvd.limit_in_bytes': '9223372036854771712\n',
    'hugetlb.2MB.usage_in_bytes': '2097152\n',
    'hugetlb.2MB.max_usage_in_bytes': '4194304\n',
    'hugetlb.2MB.failcnt': '3\n',
    'hugetlb.1GB.limit_in_bytes': '9223372036854771712\n',
    'hugetlb.1GB.usage_in_bytes': '0\n',
    'hugetlb.1GB.max_usage_in_bytes': '0\n',
    'hugetlb.1GB.failcnt': '0\n',
  },
  net_cls: { 'net_cls.classid': '0\n' },
  net_prio: { 'net_prio.ifpriomap': 'lo 0\n', 'net_prio.prioidx': '1\n' },
  perf_event: {},
  rdma: { 'rdma.max': '', 'rdma.current': '' },
  'name=systemd': {},
};

export const V1_HIERARCHIES = Object.keys(V1_FILES);

export interface FakeV1 {
  root: string;
  /** Hierarchy key -> mount point, as CgroupLayout.v1Mounts. */
  mounts: Record<string, string>;
  /** Makes a cgroup `relative` in every hierarchy with the files a new one has; returns key -> dir. */
  makeCgroup(relative: string): Record<string, string>;
  cleanup(): void;
}

function writeFiles(dir: string, files: Record<string, string>): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'cgroup.procs'), '');
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
}

/** A v1 host: one directory per hierarchy under a temp dir. */
export function makeFakeV1(): FakeV1 {
  const root = mkdtempSync(join(tmpdir(), 'cgroups-fake-v1-'));
  const mounts: Record<string, string> = {};
  for (const key of V1_HIERARCHIES) {
    const mountPoint = join(root, key.replace('name=', ''));
    const files = { ...V1_FILES[key], 'cgroup.sane_behavior': '0\n' } as Record<string, string>;
    if (key === 'cpuset') Object.assign(files, { 'cpuset.cpus': '0-3\n', 'cpuset.mems': '0\n' });
    writeFiles(mountPoint, files);
    mounts[key] = mountPoint;
  }
  return {
    root,
    mounts,
    makeCgroup(relative) {
      const dirs: Record<string, string> = {};
      for (const key of V1_HIERARCHIES) {
        const mountPoint = mounts[key] as string;
        let current = mountPoint;
        for (const part of relative.split('/').filter(Boolean)) {
          current = join(current, part);
          writeFiles(current, V1_FILES[key] as Record<string, string>);
        }
        dirs[key] = current;
      }
      return dirs;
    },
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

const V2_CONTROLLERS = 'cpuset cpu io memory hugetlb pids rdma';

const V2_FILES: Record<string, string> = {
  'cgroup.controllers': `${V2_CONTROLLERS}\n`,
  'cgroup.subtree_control': '\n',
  'cgroup.events': 'populated 1\nfrozen 0\n',
  'cgroup.freeze': '0\n',
  'cgroup.type': 'domain\n',
  'cgroup.max.depth': 'max\n',
  'cpu.weight': '100\n',
  'cpu.max': 'max 100000\n',
  'cpu.max.burst': '0\n',
  'cpu.idle': '0\n',
  'cpu.stat':
    'usage_usec 176750\nuser_usec 160000\nsystem_usec 10000\nnr_periods 16\nnr_throttled 15\nthrottled_usec 1316400\n',
  'cpuset.cpus': '\n',
  'cpuset.mems': '\n',
  'memory.max': 'max\n',
  'memory.low': '0\n',
  'memory.high': 'max\n',
  'memory.swap.max': 'max\n',
  'memory.current': '462848\n',
  'memory.peak': '2772992\n',
  'memory.swap.current': '4096\n',
  'memory.events': 'low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n',
  'memory.stat': 'anon 57344\nfile 4096\nkernel 245760\n',
  'pids.max': 'max\n',
  'pids.current': '1\n',
  'io.weight': 'default 100\n',
  'io.max': '',
  'io.stat': '254:0 rbytes=4096 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n',
  'hugetlb.2MB.max': 'max\n',
  'hugetlb.2MB.rsvd.max': 'max\n',
  'hugetlb.2MB.current': '2097152\n',
  'hugetlb.2MB.events': 'max 2\n',
  'rdma.max': '',
};

export interface FakeV2 {
  root: string;
  /** Makes cgroup `relative` (and its parents) with the files of a cgroup; returns its dir. */
  makeCgroup(relative: string, extra?: Record<string, string>, without?: string[]): string;
  cleanup(): void;
}

/** A unified host: the cgroup2 mount is a temp dir with every controller available. */
export function makeFakeV2(): FakeV2 {
  const root = mkdtempSync(join(tmpdir(), 'cgroups-fake-v2-'));
  writeFiles(root, {
    'cgroup.controllers': `${V2_CONTROLLERS}\n`,
    'cgroup.subtree_control': '\n',
    'cpu.stat': 'usage_usec 0\n',
  });
  return {
    root,
    makeCgroup(relative, extra = {}, without = []) {
      let current = root;
      for (const part of relative.split('/').filter(Boolean)) {
        current = join(current, part);
        const files: Record<string, string> = { ...V2_FILES, ...extra };
        for (const name of without) delete files[name];
        writeFiles(current, files);
      }
      return current;
    },
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** Collects cgroup writes in order as [file path relative to `root`, value]. */
export function recordWrites(root: string): {
  writes: [string, string][];
  observe: (path: string, value: string) => void;
} {
  const writes: [string, string][] = [];
  return {
    writes,
    observe: (path, value) =>
      writes.push([path.startsWith(root) ? path.slice(root.length + 1) : path, value]),
  };
}
