// process.rlimits -> prlimit(2) resources and values.

import type { Rlimit } from '@runc-ts/spec';
import { PlanError } from './errors.js';

/** RLIMIT_* name -> resource number (x86_64/aarch64 numbering, asm-generic). */
export const RLIMITS: ReadonlyMap<string, number> = new Map([
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
]);

/** RLIM_INFINITY: the plan's value for "unlimited". */
export const RLIM_INFINITY = 0xffffffffffffffffn;

export interface PlannedRlimit {
  resource: number;
  soft: bigint;
  hard: bigint;
}

/**
 * A JSON uint64 as a bigint. JSON.parse rounds 2^64-1 (RLIM_INFINITY, what
 * configs write for "unlimited") up to 2^64, so anything at or above it is
 * infinity.
 */
export function rlimitValue(value: number): bigint {
  if (value >= 2 ** 64 - 1) return RLIM_INFINITY;
  return BigInt(Math.trunc(value));
}

/** Validates process.rlimits (known, unique types; soft ≤ hard) and converts them. */
export function planRlimits(
  rlimits: readonly Rlimit[] | undefined,
  path = 'process.rlimits',
): PlannedRlimit[] {
  const seen = new Map<string, number>();
  return (rlimits ?? []).map((rlimit, i) => {
    const where = `${path}[${i}]`;
    const resource = RLIMITS.get(rlimit.type);
    if (resource === undefined) {
      throw new PlanError('RLIMIT_INVALID', `${where}.type`, `unknown rlimit "${rlimit.type}"`);
    }
    const first = seen.get(rlimit.type);
    if (first !== undefined) {
      throw new PlanError(
        'RLIMIT_INVALID',
        where,
        `duplicate rlimit "${rlimit.type}" (first at ${path}[${first}])`,
      );
    }
    seen.set(rlimit.type, i);
    const soft = rlimitValue(rlimit.soft);
    const hard = rlimitValue(rlimit.hard);
    if (soft > hard) {
      throw new PlanError(
        'RLIMIT_INVALID',
        where,
        `soft limit ${soft} of ${rlimit.type} is above its hard limit ${hard}`,
      );
    }
    return { resource, soft, hard };
  });
}
