import { describe, expect, it } from 'vitest';
import { CgroupError } from './errors.js';
import { cleanCgroupsPath, v1CgroupPaths, v2CgroupDir } from './paths.js';
import type { CgroupLayout } from './types.js';

// This host: our memory cgroup is not the root, the others are.
const HYBRID: CgroupLayout = {
  mode: 'hybrid',
  v1Mounts: {
    cpu: '/sys/fs/cgroup/cpu',
    cpuacct: '/sys/fs/cgroup/cpuacct',
    memory: '/sys/fs/cgroup/memory',
    devices: '/sys/fs/cgroup/devices',
    'name=systemd': '/sys/fs/cgroup/systemd',
    debug: '/sys/fs/cgroup/debug',
  },
  v2Mount: '/sys/fs/cgroup/unified',
};
const OWN = {
  cpu: '/',
  cpuacct: '/',
  memory: '/process_api/a784',
  devices: '/',
  'name=systemd': '/',
  '': '/',
};

describe('cleanCgroupsPath', () => {
  it('defaults to the container id, relative (runc 1.1.5 makes <own cgroup>/<id>)', () => {
    expect(cleanCgroupsPath({ containerId: 'c1' })).toEqual({ path: 'c1', absolute: false });
    expect(cleanCgroupsPath({ containerId: 'c1', cgroupsPath: '' })).toEqual({
      path: 'c1',
      absolute: false,
    });
  });

  it('keeps absolute paths absolute and cleans them', () => {
    expect(cleanCgroupsPath({ containerId: 'c', cgroupsPath: '/a//b/./c/' })).toEqual({
      path: '/a/b/c',
      absolute: true,
    });
    expect(cleanCgroupsPath({ containerId: 'c', cgroupsPath: '/a/../../b' })).toEqual({
      path: '/b',
      absolute: true,
    });
  });

  it('does not let a relative path climb above its start', () => {
    expect(cleanCgroupsPath({ containerId: 'c', cgroupsPath: '../../esc' })).toEqual({
      path: 'esc',
      absolute: false,
    });
  });

  it('refuses paths that name the root or the own cgroup', () => {
    for (const cgroupsPath of ['/', '.', '..', '/..', 'a/..']) {
      expect(() => cleanCgroupsPath({ containerId: 'c', cgroupsPath })).toThrow(
        /linux.cgroupsPath/,
      );
    }
  });
});

describe('v1CgroupPaths', () => {
  it('puts relative paths below the own cgroup of each hierarchy, plus the hybrid cgroup2 dir', () => {
    expect(v1CgroupPaths({ containerId: 'cga-def' }, HYBRID, OWN)).toEqual({
      cpu: '/sys/fs/cgroup/cpu/cga-def',
      cpuacct: '/sys/fs/cgroup/cpuacct/cga-def',
      memory: '/sys/fs/cgroup/memory/process_api/a784/cga-def',
      devices: '/sys/fs/cgroup/devices/cga-def',
      'name=systemd': '/sys/fs/cgroup/systemd/cga-def',
      '': '/sys/fs/cgroup/unified/cga-def',
    });
  });

  it('puts absolute paths below each mount point, whatever the own cgroup', () => {
    const paths = v1CgroupPaths({ containerId: 'x', cgroupsPath: '/abs/y' }, HYBRID, OWN);
    expect(paths.memory).toBe('/sys/fs/cgroup/memory/abs/y');
    expect(paths['']).toBe('/sys/fs/cgroup/unified/abs/y');
  });

  it('joins only the hierarchies runc joins (no debug)', () => {
    expect(Object.keys(v1CgroupPaths({ containerId: 'x' }, HYBRID, OWN))).not.toContain('debug');
  });

  it('removes a bind-mounted subtree root from the own cgroup path', () => {
    const layout: CgroupLayout = {
      mode: 'legacy',
      v1Mounts: { memory: '/sys/fs/cgroup/memory' },
      mountRoots: { memory: '/docker/abc' },
    };
    expect(v1CgroupPaths({ containerId: 'x' }, layout, { memory: '/docker/abc/inner' })).toEqual({
      memory: '/sys/fs/cgroup/memory/inner/x',
    });
    expect(v1CgroupPaths({ containerId: 'x' }, layout, { memory: '/docker/abc' })).toEqual({
      memory: '/sys/fs/cgroup/memory/x',
    });
  });

  it('fails when a relative path cannot be anchored', () => {
    expect(() => v1CgroupPaths({ containerId: 'x' }, HYBRID, { cpu: '/' })).toThrow(CgroupError);
  });
});

describe('v2CgroupDir', () => {
  const UNIFIED: CgroupLayout = { mode: 'unified', v1Mounts: {}, v2Mount: '/sys/fs/cgroup' };

  it('resolves relative and absolute paths', () => {
    // A scope holds the runtime itself: its containers go beside it, in the slice.
    expect(v2CgroupDir({ containerId: 'c' }, UNIFIED, { '': '/user.slice/session-1.scope' })).toBe(
      '/sys/fs/cgroup/user.slice/c',
    );
    expect(v2CgroupDir({ containerId: 'c' }, UNIFIED, { '': '/runtimes' })).toBe(
      '/sys/fs/cgroup/runtimes/c',
    );
    expect(v2CgroupDir({ containerId: 'c', cgroupsPath: '/machine/c' }, UNIFIED, {})).toBe(
      '/sys/fs/cgroup/machine/c',
    );
  });

  it('needs a cgroup2 mount', () => {
    expect(() => v2CgroupDir({ containerId: 'c' }, { mode: 'legacy', v1Mounts: {} }, {})).toThrow(
      /cgroup2/,
    );
  });
});
