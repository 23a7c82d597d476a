import { describe, expect, it } from 'vitest';
import { mergeResources, parseExecCgroups } from './cgroup.js';

const v1 = {
  driver: 'fs' as const,
  paths: { pids: '/sys/fs/cgroup/pids/c', memory: '/sys/fs/cgroup/memory/c', '': '/u/c' },
};
const v2 = { driver: 'fs2' as const, paths: { '': '/sys/fs/cgroup/c' } };

describe('parseExecCgroups (exec --cgroup)', () => {
  it('takes a path for every hierarchy, on v1 and v2', () => {
    expect(parseExecCgroups(['sub'], v2)).toEqual({ '': 'sub' });
    expect(parseExecCgroups(['/a/b'], v1)).toEqual({ pids: 'a/b', memory: 'a/b', '': 'a/b' });
  });

  it('takes controller lists on v1 only', () => {
    expect(parseExecCgroups(['pids,memory:sub', 'memory:other'], v1)).toEqual({
      pids: 'sub',
      memory: 'other',
    });
    expect(() => parseExecCgroups(['pids:sub'], v2)).toThrow(/only apply to cgroup v1/);
    expect(() => parseExecCgroups(['cpu:sub'], v1)).toThrow(/unknown controller "cpu"/);
  });

  it('stays inside the container cgroup', () => {
    expect(() => parseExecCgroups(['../x'], v2)).toThrow(
      '--cgroup "../x": ../x is not a sub cgroup path; expected',
    );
    expect(() => parseExecCgroups([''], v2)).toThrow(/inside the container's cgroup/);
    // "/" names the container's cgroup itself.
    expect(parseExecCgroups(['/'], v2)).toEqual({ '': '' });
  });
});

describe('mergeResources (runc update)', () => {
  it('lifts the swap limit with the memory limit unless the update sets it', () => {
    const current = { memory: { limit: 64, swap: 96 } };
    expect(mergeResources(current, { memory: { limit: -1 } })).toEqual({
      memory: { limit: -1, swap: -1 },
    });
    expect(mergeResources(current, { memory: { limit: -1, swap: 200 } })).toEqual({
      memory: { limit: -1, swap: 200 },
    });
    expect(mergeResources({ memory: { limit: 64 } }, { memory: { limit: -1 } })).toEqual({
      memory: { limit: -1 },
    });
  });

  it('lays the changes over the stored resources, block by block', () => {
    expect(
      mergeResources(
        { memory: { limit: 1, reservation: 2 }, pids: { limit: 3 } },
        { memory: { limit: 5 }, cpu: { shares: 7 } },
      ),
    ).toEqual({ memory: { limit: 5, reservation: 2 }, pids: { limit: 3 }, cpu: { shares: 7 } });
  });
});
