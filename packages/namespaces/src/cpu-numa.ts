// process.execCPUAffinity and linux.memoryPolicy: CPU and NUMA node lists
// turned into the kernel's bit masks for SCHED_AFFINITY and MEMPOLICY.

import type { Process, Spec } from '@runc-ts/spec';
import { PlanError } from './errors.js';
import { type Op, op } from './plan.js';

/** The highest CPU number a list may name (runc's limit). */
export const MAX_CPU = 65536;
/** The highest NUMA node number a list may name (the kernel's MAX_NUMNODES is at most 1024). */
export const MAX_NODE = 1023;

/**
 * Parses a kernel-style list ("0-3,7"): comma-separated numbers and ranges,
 * blanks around an item allowed, empty items skipped. Returns the sorted
 * numbers; an empty (or all-blank) string is `undefined` only when it is
 * exactly "". Throws PlanError naming `path`.
 */
export function parseIdList(
  text: string,
  path: string,
  max: number,
  code: 'PROCESS_INVALID' | 'MEMPOLICY_INVALID',
): number[] {
  const bad = (why: string) =>
    new PlanError(code, path, `invalid list ${JSON.stringify(text)}: ${why}`);
  const ids = new Set<number>();
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    const match = /^(\d+)(?:-(\d+))?$/.exec(item);
    if (!match) throw bad(`${JSON.stringify(item)} is not a number or a range N-M`);
    const start = Number(match[1]);
    const end = match[2] === undefined ? start : Number(match[2]);
    if (start > end) throw bad(`range ${item} ends before it starts`);
    if (end > max) throw bad(`${end} is above the maximum ${max}`);
    for (let id = start; id <= end; id++) ids.add(id);
  }
  if (ids.size === 0) throw bad('it names nothing');
  return [...ids].sort((a, b) => a - b);
}

/** Bit n of byte n/8: the layout of cpu_set_t and of a nodemask of unsigned longs (little-endian). */
export function idMask(ids: readonly number[]): Uint8Array {
  const highest = ids.length === 0 ? -1 : Math.max(...ids);
  // Whole unsigned longs: the kernel reads the mask as an array of them.
  const mask = new Uint8Array(Math.ceil((highest + 1) / 64) * 8);
  for (const id of ids) mask[id >> 3] = (mask[id >> 3] ?? 0) | (1 << (id & 7));
  return mask;
}

interface Affinity {
  initial?: Uint8Array;
  final?: Uint8Array;
}

/** process.execCPUAffinity, checked (`where` is `process` or `process.json`). */
export function execCpuAffinity(process: Process, where = 'process'): Affinity {
  const affinity = process.execCPUAffinity;
  if (affinity === undefined) return {};
  const result: Affinity = {};
  for (const key of ['initial', 'final'] as const) {
    const text = affinity[key];
    // Empty means unset, as in the spec ("If omitted or empty").
    if (text === undefined || text === '') continue;
    const ids = parseIdList(text, `${where}.execCPUAffinity.${key}`, MAX_CPU, 'PROCESS_INVALID');
    result[key] = idMask(ids);
  }
  return result;
}

/** An empty mask: every CPU the kernel allows (the cgroup's cpuset limits it). */
const ALL_CPUS = new Uint8Array(0);

/**
 * Affinity ops of an exec'd process: `initial` before anything (the
 * executor still runs in the runtime's cgroup; its children inherit it),
 * and after the cgroup join `final`, or, with no execCPUAffinity at all, a
 * reset to every CPU (the runtime's own affinity, e.g. under `taskset`, must
 * not leak into the container; the kernel intersects it with the cpuset).
 * With `initial` alone the kernel decides, as the spec asks.
 */
export function execAffinityOps(process: Process): { before: Op[]; after: Op[] } {
  const { initial, final } = execCpuAffinity(process);
  const field = 'process.execCPUAffinity';
  const before = initial ? [op('SCHED_AFFINITY', `${field}.initial`, initial)] : [];
  let after: Op[] = [];
  if (final) after = [op('SCHED_AFFINITY', `${field}.final`, final)];
  else if (!initial) after = [op('SCHED_AFFINITY', 'reset', ALL_CPUS)];
  return { before, after };
}

/** The init's affinity after its cgroup join: every CPU (execCPUAffinity is not for the init). */
export function initAffinityOp(): Op {
  return op('SCHED_AFFINITY', 'reset', ALL_CPUS);
}

const MPOL_MODES = {
  MPOL_DEFAULT: 0,
  MPOL_PREFERRED: 1,
  MPOL_BIND: 2,
  MPOL_INTERLEAVE: 3,
  MPOL_LOCAL: 4,
  MPOL_PREFERRED_MANY: 5,
  MPOL_WEIGHTED_INTERLEAVE: 6,
} as const;

const MPOL_FLAGS = {
  MPOL_F_STATIC_NODES: 1 << 15,
  MPOL_F_RELATIVE_NODES: 1 << 14,
  MPOL_F_NUMA_BALANCING: 1 << 13,
} as const;

export const MEMPOLICY_MODES = Object.keys(MPOL_MODES);
export const MEMPOLICY_FLAGS = Object.keys(MPOL_FLAGS);

/**
 * linux.memoryPolicy as one MEMPOLICY op (set_mempolicy: mode | flags, node
 * mask), or none. Checks what set_mempolicy(2) would refuse, naming the field.
 */
export function memoryPolicyOp(spec: Spec): Op | undefined {
  const policy = spec.linux?.memoryPolicy;
  if (policy === undefined) return undefined;
  const path = 'linux.memoryPolicy';
  const invalid = (field: string, why: string) =>
    new PlanError('MEMPOLICY_INVALID', `${path}${field}`, why);
  if (policy.mode === undefined) throw invalid('.mode', 'is required');
  const mode = MPOL_MODES[policy.mode];
  if (mode === undefined) throw invalid('.mode', `unknown mode ${JSON.stringify(policy.mode)}`);
  const nodesText = policy.nodes ?? '';
  const nodes =
    nodesText.trim() === ''
      ? []
      : parseIdList(nodesText, `${path}.nodes`, MAX_NODE, 'MEMPOLICY_INVALID');
  let flags = 0;
  for (const [i, name] of (policy.flags ?? []).entries()) {
    const bit = MPOL_FLAGS[name];
    if (bit === undefined) throw invalid(`.flags[${i}]`, `unknown flag ${JSON.stringify(name)}`);
    flags |= bit;
  }
  const takesNoNodes = policy.mode === 'MPOL_DEFAULT' || policy.mode === 'MPOL_LOCAL';
  if (takesNoNodes && nodes.length > 0) {
    throw invalid('.nodes', `${policy.mode} takes no nodes`);
  }
  if (takesNoNodes && flags !== 0) {
    throw invalid('.flags', `${policy.mode} takes no flags`);
  }
  if (!takesNoNodes && policy.mode !== 'MPOL_PREFERRED' && nodes.length === 0) {
    throw invalid('.nodes', `${policy.mode} needs at least one node`);
  }
  if (flags & MPOL_FLAGS.MPOL_F_STATIC_NODES && flags & MPOL_FLAGS.MPOL_F_RELATIVE_NODES) {
    throw invalid('.flags', 'MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other');
  }
  return op('MEMPOLICY', path, mode | flags, idMask(nodes));
}
