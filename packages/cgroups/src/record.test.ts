import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeFakeV1, makeFakeV2 } from '../test/test-cgroupfs.js';
import { FsV1Manager } from './fs-v1.js';
import { FsV2Manager } from './fs-v2.js';
import { type CgroupAction, recordCgroupActions } from './fsutil.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** Every file below `dir` with its content: what a dry run must leave exactly as it was. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  const visit = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) visit(path);
      else files[relative(dir, path)] = readFileSync(path, 'utf8');
    }
  };
  visit(dir);
  return files;
}

function relativeActions(root: string, actions: CgroupAction[]): string[] {
  return actions.map((action) => {
    const path = relative(root, action.path);
    if (action.action === 'mkdir') return `mkdir ${path}`;
    if (action.action === 'write') return `write ${path}=${action.value}`;
    return `attach ${path} ${action.instructions}`;
  });
}

describe('recordCgroupActions', () => {
  it('records what a v2 apply and set would do, in order, and changes nothing', async () => {
    const fake = makeFakeV2();
    cleanups.push(fake.cleanup);
    const before = snapshot(fake.root);
    const manager = new FsV2Manager(join(fake.root, 'pod/ctr'), { mountPoint: fake.root });
    const actions = await recordCgroupActions(async () => {
      await manager.apply(0);
      await manager.set({
        cpu: { shares: 1024, quota: 50000, period: 100000 },
        memory: { limit: 1 << 20 },
        pids: { limit: 10 },
        devices: [{ allow: false, access: 'rwm' }],
      });
    });
    const lines = relativeActions(fake.root, actions);
    const enable = lines[0]!;
    // The root enables its controllers for the new subtree, which is made;
    // the new cgroup's writes follow, the device filter first.
    expect(enable).toMatch(/^write cgroup\.subtree_control=\+/);
    expect(lines.slice(1)).toEqual([
      'mkdir pod',
      expect.stringMatching(/^write pod\/cgroup\.subtree_control=\+/),
      'mkdir pod/ctr',
      expect.stringMatching(/^attach pod\/ctr \d+$/),
      'write pod/ctr/cpu.weight=39',
      'write pod/ctr/cpu.max=50000 100000',
      'write pod/ctr/memory.max=1048576',
      'write pod/ctr/pids.max=10',
    ]);
    expect(existsSync(join(fake.root, 'pod'))).toBe(false);
    expect(snapshot(fake.root)).toEqual(before);
  });

  it('fails as a real set does for a file the new cgroup will not have', async () => {
    const fake = makeFakeV2();
    cleanups.push(fake.cleanup);
    const manager = new FsV2Manager(join(fake.root, 'ctr'), { mountPoint: fake.root });
    await expect(
      recordCgroupActions(async () => {
        await manager.apply(0);
        await manager.set({ unified: { 'nosuch.max': '1' } });
      }),
    ).rejects.toThrow(/nosuch\.max/);
  });

  it('records v1 directories, inherited cpusets and device rules from the parent', async () => {
    const fake = makeFakeV1();
    cleanups.push(fake.cleanup);
    const before = snapshot(fake.root);
    const paths = {
      cpuset: join(fake.mounts.cpuset!, 'ctr'),
      devices: join(fake.mounts.devices!, 'ctr'),
      pids: join(fake.mounts.pids!, 'ctr'),
    };
    const manager = new FsV1Manager(paths);
    const actions = await recordCgroupActions(async () => {
      await manager.apply(0);
      await manager.set({
        pids: { limit: 5 },
        devices: [
          { allow: false, access: 'rwm' },
          { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
        ],
      });
    });
    expect(relativeActions(fake.root, actions)).toEqual([
      'mkdir cpuset/ctr',
      'write cpuset/ctr/cpuset.cpus=0-3',
      'write cpuset/ctr/cpuset.mems=0',
      'mkdir devices/ctr',
      'mkdir pids/ctr',
      // The parent allows everything ("a *:* rwm"): deny all, then allow.
      'write devices/ctr/devices.deny=a',
      'write devices/ctr/devices.allow=c 1:3 rwm',
      'write pids/ctr/pids.max=5',
    ]);
    expect(snapshot(fake.root)).toEqual(before);
  });

  it('writes for real again once the recording is over', async () => {
    const fake = makeFakeV2();
    cleanups.push(fake.cleanup);
    const dir = fake.makeCgroup('ctr');
    const manager = new FsV2Manager(dir, { mountPoint: fake.root });
    await recordCgroupActions(async () => manager.set({ pids: { limit: 3 } }));
    expect(readFileSync(join(dir, 'pids.max'), 'utf8')).not.toBe('3');
    await manager.set({ pids: { limit: 3 } });
    expect(readFileSync(join(dir, 'pids.max'), 'utf8')).toBe('3');
  });
});
