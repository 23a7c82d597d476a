import { describe, expect, it } from 'vitest';
import { CgroupError } from './errors.js';
import { detectLayoutFromMountinfo, parseMountinfo, parseProcCgroup } from './layout.js';

// This host (Debian 12, no systemd): v1 controllers one per mount plus an empty cgroup2.
const HYBRID_THIS_HOST = `22 1 254:0 / / rw,relatime - ext4 /dev/vda rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;

// systemd's legacy layout (CentOS 7 / Debian 10 style): co-mounted cpu,cpuacct and net_cls,net_prio.
const LEGACY_SYSTEMD = `25 0 253:0 / / rw,relatime shared:1 - xfs /dev/mapper/root rw
26 25 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:8 - tmpfs tmpfs ro,mode=755
27 26 0:23 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup rw,xattr,release_agent=/usr/lib/systemd/systemd-cgroups-agent,name=systemd
30 26 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,cpu,cpuacct
31 26 0:27 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,net_cls,net_prio
32 26 0:28 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,memory
33 26 0:29 / /sys/fs/cgroup/hugetlb rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,hugetlb
34 26 0:30 / /sys/fs/cgroup/perf_event rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,perf_event
35 26 0:31 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:17 - cgroup cgroup rw,cpuset,clone_children
36 26 0:32 / /sys/fs/cgroup/devices rw,nosuid,nodev,noexec,relatime shared:18 - cgroup cgroup rw,devices
`;

const UNIFIED = `24 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw
28 22 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`;

// docker-in-docker on v1: each hierarchy shows the container's own cgroup at its mount point.
const NESTED_V1 = `500 400 0:40 /docker/abc /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory
501 400 0:41 /docker/abc /sys/fs/cgroup/cpu\\040dir ro,nosuid - cgroup cgroup rw,cpu
`;

describe('detectLayoutFromMountinfo', () => {
  it('finds every v1 hierarchy and the empty cgroup2 of a hybrid host', () => {
    const layout = detectLayoutFromMountinfo(HYBRID_THIS_HOST);
    expect(layout.mode).toBe('hybrid');
    expect(layout.v2Mount).toBe('/sys/fs/cgroup/unified');
    expect(layout.v1Mounts).toEqual({
      cpu: '/sys/fs/cgroup/cpu',
      cpuacct: '/sys/fs/cgroup/cpuacct',
      cpuset: '/sys/fs/cgroup/cpuset',
      memory: '/sys/fs/cgroup/memory',
      devices: '/sys/fs/cgroup/devices',
      freezer: '/sys/fs/cgroup/freezer',
      blkio: '/sys/fs/cgroup/blkio',
      pids: '/sys/fs/cgroup/pids',
      'name=systemd': '/sys/fs/cgroup/systemd',
    });
  });

  it('maps each co-mounted controller to the shared mount and ignores mount options', () => {
    const layout = detectLayoutFromMountinfo(LEGACY_SYSTEMD);
    expect(layout.mode).toBe('legacy');
    expect(layout.v2Mount).toBeUndefined();
    expect(layout.v1Mounts.cpu).toBe('/sys/fs/cgroup/cpu,cpuacct');
    expect(layout.v1Mounts.cpuacct).toBe('/sys/fs/cgroup/cpu,cpuacct');
    expect(layout.v1Mounts.net_prio).toBe('/sys/fs/cgroup/net_cls,net_prio');
    expect(layout.v1Mounts['name=systemd']).toBe('/sys/fs/cgroup/systemd');
    expect(Object.keys(layout.v1Mounts)).not.toContain('xattr');
    expect(Object.keys(layout.v1Mounts)).not.toContain('clone_children');
  });

  it('recognises a unified host', () => {
    expect(detectLayoutFromMountinfo(UNIFIED)).toEqual({
      mode: 'unified',
      v1Mounts: {},
      v2Mount: '/sys/fs/cgroup',
      mountRoots: { '': '/' },
    });
  });

  it('keeps the mount root of bind-mounted subtrees and unescapes mount points', () => {
    const layout = detectLayoutFromMountinfo(NESTED_V1);
    expect(layout.v1Mounts.cpu).toBe('/sys/fs/cgroup/cpu dir');
    expect(layout.mountRoots?.memory).toBe('/docker/abc');
  });

  it('fails with UNSUPPORTED when nothing is mounted', () => {
    expect(() => detectLayoutFromMountinfo('22 1 254:0 / / rw - ext4 /dev/vda rw\n')).toThrow(
      CgroupError,
    );
    try {
      detectLayoutFromMountinfo('');
    } catch (error) {
      expect((error as CgroupError).code).toBe('UNSUPPORTED');
    }
  });

  it('skips malformed lines', () => {
    expect(parseMountinfo('garbage\n\n1 2 3\n')).toEqual([]);
  });
});

describe('parseProcCgroup', () => {
  it('splits co-mounted controllers and keeps the cgroup2 entry under ""', () => {
    expect(
      parseProcCgroup(
        '12:cpu,cpuacct:/user.slice\n4:memory:/process_api/x\n1:name=systemd:/init.scope\n0::/init.scope\n',
      ),
    ).toEqual({
      cpu: '/user.slice',
      cpuacct: '/user.slice',
      memory: '/process_api/x',
      'name=systemd': '/init.scope',
      '': '/init.scope',
    });
  });
});
