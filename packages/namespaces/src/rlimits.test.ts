import { describe, expect, it } from 'vitest';
import { PlanError } from './errors.js';
import { planRlimits, RLIM_INFINITY, RLIMITS, rlimitValue } from './rlimits.js';

describe('rlimits', () => {
  it.each([
    ['RLIMIT_CPU', 0],
    ['RLIMIT_FSIZE', 1],
    ['RLIMIT_DATA', 2],
    ['RLIMIT_STACK', 3],
    ['RLIMIT_CORE', 4],
    ['RLIMIT_RSS', 5],
    ['RLIMIT_NPROC', 6],
    ['RLIMIT_NOFILE', 7],
    ['RLIMIT_MEMLOCK', 8],
    ['RLIMIT_AS', 9],
    ['RLIMIT_LOCKS', 10],
    ['RLIMIT_SIGPENDING', 11],
    ['RLIMIT_MSGQUEUE', 12],
    ['RLIMIT_NICE', 13],
    ['RLIMIT_RTPRIO', 14],
    ['RLIMIT_RTTIME', 15],
  ])('%s is resource %i', (type, resource) => {
    expect(RLIMITS.get(type)).toBe(resource);
    expect(planRlimits([{ type, soft: 1, hard: 2 }])).toEqual([{ resource, soft: 1n, hard: 2n }]);
  });

  it('has exactly 16 resources', () => {
    expect(RLIMITS.size).toBe(16);
  });

  it('maps 2^64-1 (parsed as 2^64) to RLIM_INFINITY', () => {
    expect(RLIM_INFINITY).toBe(2n ** 64n - 1n);
    expect(rlimitValue(2 ** 64)).toBe(RLIM_INFINITY);
    expect(rlimitValue(Number(2n ** 64n - 1n))).toBe(RLIM_INFINITY);
    expect(rlimitValue(0)).toBe(0n);
    expect(rlimitValue(2 ** 53)).toBe(2n ** 53n);
    expect(planRlimits([{ type: 'RLIMIT_CORE', soft: 2 ** 64, hard: 2 ** 64 }])).toEqual([
      { resource: 4, soft: RLIM_INFINITY, hard: RLIM_INFINITY },
    ]);
    expect(planRlimits([{ type: 'RLIMIT_CORE', soft: 0, hard: 2 ** 64 }])[0]?.hard).toBe(
      RLIM_INFINITY,
    );
  });

  it('keeps config order', () => {
    expect(
      planRlimits([
        { type: 'RLIMIT_NPROC', soft: 10, hard: 10 },
        { type: 'RLIMIT_NOFILE', soft: 1024, hard: 4096 },
      ]).map((r) => r.resource),
    ).toEqual([6, 7]);
    expect(planRlimits(undefined)).toEqual([]);
  });

  it.each([
    [
      [{ type: 'RLIMIT_FOO', soft: 1, hard: 1 }],
      'process.rlimits[0].type: unknown rlimit "RLIMIT_FOO"',
    ],
    [
      [
        { type: 'RLIMIT_NOFILE', soft: 1, hard: 1 },
        { type: 'RLIMIT_CPU', soft: 1, hard: 1 },
        { type: 'RLIMIT_NOFILE', soft: 2, hard: 2 },
      ],
      'process.rlimits[2]: duplicate rlimit "RLIMIT_NOFILE" (first at process.rlimits[0])',
    ],
    [
      [{ type: 'RLIMIT_NOFILE', soft: 2048, hard: 1024 }],
      'process.rlimits[0]: soft limit 2048 of RLIMIT_NOFILE is above its hard limit 1024',
    ],
    [
      [{ type: 'RLIMIT_CORE', soft: 2 ** 64, hard: 5 }],
      'process.rlimits[0]: soft limit 18446744073709551615 of RLIMIT_CORE is above its hard limit 5',
    ],
  ])('rejects %j', (rlimits, message) => {
    expect(() => planRlimits(rlimits)).toThrow(PlanError);
    expect(() => planRlimits(rlimits)).toThrow(message);
    expect(() => planRlimits(rlimits)).toThrow(expect.objectContaining({ code: 'RLIMIT_INVALID' }));
  });

  it('names a custom path', () => {
    expect(() => planRlimits([{ type: 'RLIMIT_X', soft: 0, hard: 0 }], 'p.r')).toThrow(
      'p.r[0].type: unknown rlimit',
    );
  });
});
