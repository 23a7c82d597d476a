// What the executor protocol can carry (native/PROTOCOL.md, native/src/protocol.h).
// A config beyond these would be planned and then rejected by the C decoder
// with a message that names no field, or make encodePlan throw a plain Error
// (a NUL byte); the planner refuses it up front, naming the field.

import { PlanError } from './errors.js';
import type { Op } from './plan.js';

export const MAX_STRING_BYTES = 64 << 10;
export const MAX_LIST = 4096;
export const MAX_OPS = 4096;
export const MAX_PAYLOAD = 16 << 20;
// A config string may be joined to a path (the rootfs, at most PATH_MAX) in the plan.
const MAX_CONFIG_STRING_BYTES = MAX_STRING_BYTES - 4096;

// Not sent to the executor: annotations are only stored, resources go to the
// cgroup manager, and seccomp rules are compiled into one BPF program.
const NOT_PLANNED = new Set(['annotations', 'linux.resources', 'linux.seccomp']);

function display(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  if (!/^[A-Za-z_$][\w$-]*$/.test(key)) return `${path}[${JSON.stringify(key)}]`;
  return path === '' ? key : `${path}.${key}`;
}

/**
 * Throws PlanError for a string with a NUL byte (no Linux interface takes
 * one), a string longer than the protocol carries, or a list with more items
 * than it carries, anywhere in `value` that may reach the executor.
 */
export function checkEncodable(value: unknown, path: string): void {
  if (NOT_PLANNED.has(path)) return;
  if (typeof value === 'string') {
    if (value.includes('\0')) {
      throw new PlanError('STRING_INVALID', path, 'contains a NUL byte');
    }
    // UTF-8 is at most 3 bytes per UTF-16 unit: skip the count for short strings.
    if (
      value.length * 3 > MAX_CONFIG_STRING_BYTES &&
      Buffer.byteLength(value) > MAX_CONFIG_STRING_BYTES
    ) {
      throw new PlanError(
        'TOO_LARGE',
        path,
        `${Buffer.byteLength(value)} bytes, the executor takes at most ${MAX_CONFIG_STRING_BYTES}`,
      );
    }
  } else if (Array.isArray(value)) {
    if (value.length > MAX_LIST) {
      throw new PlanError(
        'TOO_LARGE',
        path,
        `${value.length} entries, the executor takes at most ${MAX_LIST}`,
      );
    }
    value.forEach((item, i) => {
      checkEncodable(item, display(path, i));
    });
  } else if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    if (path === 'linux.sysctl' && entries.length > MAX_LIST) {
      throw new PlanError(
        'TOO_LARGE',
        path,
        `${entries.length} entries, the executor takes at most ${MAX_LIST}`,
      );
    }
    for (const [key, item] of entries) {
      checkEncodable(key, path);
      checkEncodable(item, display(path, key));
    }
  }
}

/**
 * The limits only the finished plan shows: the op count, lists the planner
 * extends (default environment variables), and the frame size. `blame` names
 * the field to report for the op count and size.
 */
export function checkPlanSize(ops: readonly Op[], blame: string): Op[] {
  if (ops.length > MAX_OPS) {
    throw new PlanError(
      'TOO_LARGE',
      blame,
      `the plan needs ${ops.length} executor steps, at most ${MAX_OPS} are allowed`,
    );
  }
  let bytes = 4;
  for (const { op: name, args } of ops) {
    bytes += 4;
    for (const [i, value] of (args as readonly unknown[]).entries()) {
      bytes += 5;
      if (typeof value === 'string') {
        const length = Buffer.byteLength(value);
        if (length > MAX_STRING_BYTES) {
          throw new PlanError(
            'TOO_LARGE',
            blame,
            `a ${name} step needs a ${length}-byte string, the executor takes at most ${MAX_STRING_BYTES}`,
          );
        }
        bytes += length;
      } else if (Array.isArray(value)) {
        if (value.length > MAX_LIST) {
          const field =
            name === 'EXEC'
              ? i === 0
                ? 'process.args'
                : 'process.env'
              : name === 'SETGROUPS'
                ? 'process.user.additionalGids'
                : blame;
          throw new PlanError(
            'TOO_LARGE',
            field,
            `${value.length} entries, the executor takes at most ${MAX_LIST}`,
          );
        }
        for (const item of value)
          bytes += typeof item === 'string' ? 4 + Buffer.byteLength(item) : 8;
      } else if (value instanceof Uint8Array) bytes += value.length;
      else bytes += 8;
    }
  }
  if (bytes > MAX_PAYLOAD) {
    throw new PlanError(
      'TOO_LARGE',
      blame,
      `the plan needs ${bytes} bytes, the executor takes at most ${MAX_PAYLOAD}`,
    );
  }
  return ops as Op[];
}

/** The field most likely to blame for an oversized plan: the longest list of the config. */
export function largestList(spec: {
  mounts?: readonly unknown[];
  linux?: {
    devices?: readonly unknown[];
    maskedPaths?: readonly unknown[];
    readonlyPaths?: readonly unknown[];
    sysctl?: Record<string, unknown>;
  };
}): string {
  const candidates: [string, number][] = [
    ['mounts', spec.mounts?.length ?? 0],
    ['linux.devices', spec.linux?.devices?.length ?? 0],
    ['linux.maskedPaths', spec.linux?.maskedPaths?.length ?? 0],
    ['linux.readonlyPaths', spec.linux?.readonlyPaths?.length ?? 0],
    ['linux.sysctl', Object.keys(spec.linux?.sysctl ?? {}).length],
  ];
  return candidates.reduce((a, b) => (b[1] > a[1] ? b : a))[0];
}
