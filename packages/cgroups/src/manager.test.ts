import { describe, expect, it } from 'vitest';
import { FsV1Manager } from './fs-v1.js';
import { FsV2Manager } from './fs-v2.js';
import { loadStoredManager } from './load-stored.js';
import { loadManager, newFsManager, newManager } from './manager.js';
import { SystemdManager } from './systemd/index.js';
import type { CgroupLayout, CgroupState } from './types.js';

const HYBRID: CgroupLayout = {
  mode: 'hybrid',
  v1Mounts: { memory: '/sys/fs/cgroup/memory', pids: '/sys/fs/cgroup/pids' },
  v2Mount: '/sys/fs/cgroup/unified',
};
const UNIFIED: CgroupLayout = { mode: 'unified', v1Mounts: {}, v2Mount: '/sys/fs/cgroup' };

describe('newFsManager', () => {
  it('builds the v1 manager with runc cgroup_paths on v1 and hybrid hosts', () => {
    const manager = newFsManager({ containerId: 'c1', systemd: false }, HYBRID, {
      memory: '/m',
      pids: '/',
      '': '/',
    });
    expect(manager).toBeInstanceOf(FsV1Manager);
    expect(manager.state()).toEqual({
      driver: 'fs',
      paths: {
        memory: '/sys/fs/cgroup/memory/m/c1',
        pids: '/sys/fs/cgroup/pids/c1',
        '': '/sys/fs/cgroup/unified/c1',
      },
    });
  });

  it('builds the v2 manager on unified hosts and keeps the rootless flag', () => {
    const manager = newFsManager(
      { containerId: 'c1', cgroupsPath: '/a/b', systemd: false, rootless: true },
      UNIFIED,
    );
    expect(manager).toBeInstanceOf(FsV2Manager);
    expect(manager.state()).toEqual({
      driver: 'fs2',
      paths: { '': '/sys/fs/cgroup/a/b' },
      rootless: true,
    });
  });
});

describe('loadManager', () => {
  it('rebuilds fs and fs2 managers from their state', () => {
    const v1 = loadManager({ driver: 'fs', paths: { memory: '/sys/fs/cgroup/memory/x' } });
    expect(v1).toBeInstanceOf(FsV1Manager);
    expect(v1.state()).toEqual({ driver: 'fs', paths: { memory: '/sys/fs/cgroup/memory/x' } });
    const v2 = loadManager({ driver: 'fs2', paths: { '': '/sys/fs/cgroup/x' }, rootless: true });
    expect(v2).toBeInstanceOf(FsV2Manager);
    expect(v2.state()).toEqual({
      driver: 'fs2',
      paths: { '': '/sys/fs/cgroup/x' },
      rootless: true,
    });
  });

  it('fails for a state it cannot use', () => {
    expect(() => loadManager({ driver: 'fs2', paths: {} })).toThrow(/no directory/);
    expect(() => loadManager({ driver: 'xx' as 'fs', paths: {} })).toThrow(/unknown driver "xx"/);
  });
});

describe('loadStoredManager (the stored driver alone)', () => {
  it('rebuilds the same managers as loadManager', async () => {
    const states: CgroupState[] = [
      { driver: 'fs', paths: { memory: '/sys/fs/cgroup/memory/x' } },
      { driver: 'fs2', paths: { '': '/sys/fs/cgroup/x' }, rootless: true },
    ];
    for (const state of states) {
      const lazy = await loadStoredManager(state);
      expect(lazy.constructor).toBe(loadManager(state).constructor);
      expect(lazy.state()).toEqual(loadManager(state).state());
    }
  });

  it('fails as loadManager does for a state it cannot use', async () => {
    await expect(loadStoredManager({ driver: 'fs2', paths: {} })).rejects.toThrow(/no directory/);
    await expect(loadStoredManager({ driver: 'xx' as 'fs', paths: {} })).rejects.toThrow(
      /unknown driver "xx"/,
    );
  });
});

describe('newManager', () => {
  it('hands --systemd-cgroup to the systemd driver', () => {
    const legacy: CgroupLayout = { mode: 'legacy', v1Mounts: { memory: '/sys/fs/cgroup/memory' } };
    expect(() => newManager({ containerId: 'c', systemd: true, rootless: true }, legacy)).toThrow(
      /rootless container can use the systemd cgroup driver only on cgroup v2/,
    );
    expect(
      loadManager({ driver: 'systemd', paths: {}, unit: 'runc-c.scope', slice: 'system.slice' }),
    ).toBeInstanceOf(SystemdManager);
  });

  it('dispatches on the layout for the fs driver', () => {
    expect(
      newManager({ containerId: 'c', cgroupsPath: '/c', systemd: false }, UNIFIED),
    ).toBeInstanceOf(FsV2Manager);
  });
});
