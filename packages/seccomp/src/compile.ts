// LinuxSeccomp -> the BPF program runc-ts-init loads (docs/seccomp.md).
//
// libseccomp builds the filter (architectures, rules, argument comparisons,
// x86 socketcall/ipc multiplexing, x32) and exports it; we prepend the ENOSYS
// prologue (enosys.ts) and compute the seccomp(2) flags ourselves, because
// the executor, not libseccomp, loads the program.

import type { LinuxSeccomp, SeccompAction, SeccompArch } from '@runc-ts/spec';
import { encodeProgram, SOCK_FILTER_SIZE } from './bpf.js';
import {
  ACTION_VALUES,
  ACTIONS_WITH_DATA,
  BPF_MAXINSNS,
  ENOSYS,
  EPERM,
  FLAG_VALUES,
  libseccompArchName,
  OCI_ARCHS,
  OPERATOR_VALUES,
  SECCOMP_FILTER_FLAG,
  SECCOMP_RET_DATA,
} from './constants.js';
import { type ArchLimit, enosysPrologue } from './enosys.js';
import { SeccompError } from './errors.js';
import {
  type ArgCompare,
  describeLibseccompError,
  type FilterContext,
  type Libseccomp,
  loadLibseccomp,
  NR_SCMP_ERROR,
} from './libseccomp.js';

/** Syscalls that must not be NOTIFY rules: the executor needs them to hand the listener over. */
const NOTIFY_FORBIDDEN: Record<string, string> = {
  // runc's rule and message (its own init writes the fd number to its parent).
  write: 'SCMP_ACT_NOTIFY cannot be used for the write syscall',
  // runc-ts-init sends the listener to the agent with sendmsg(2) after
  // loading the filter: a notified sendmsg would wait for that very agent.
  sendmsg:
    'SCMP_ACT_NOTIFY cannot be used for the sendmsg syscall (runc-ts sends the listener to the agent with it)',
};

/** Linux syscalls take at most 6 arguments. */
const MAX_ARGS = 6;

export interface CompileOptions {
  /** JSON path of the seccomp object, for error messages. Default `linux.seccomp`. */
  path?: string;
}

/** A profile compiled for the executor. */
export interface CompiledSeccomp {
  /** `struct sock_filter[]`: the ENOSYS prologue, then libseccomp's program. */
  program: Buffer;
  /** seccomp(2) flags to load it with (SECCOMP_FILTER_FLAG_*; NEW_LISTENER when `notify`). */
  flags: number;
  /** Some rule is SCMP_ACT_NOTIFY: the listener fd goes to `listenerPath`. */
  notify: boolean;
  listenerPath?: string;
  listenerMetadata?: string;
  /** Syscall names libseccomp does not know: skipped, as runc does. */
  skippedSyscalls: string[];
  /** What the ENOSYS prologue checks: the highest syscall number per architecture. */
  enosysLimits: { arch: string; max: number }[];
  /** The libseccomp that compiled it. */
  libseccompVersion: string;
}

interface Rule {
  /** Where it comes from: linux.seccomp.syscalls[i]. */
  path: string;
  names: string[];
  action: number;
  conditionSets: ArgCompare[][];
}

/** The action value of an OCI action and its errnoRet (runc's defaults: EPERM). */
function actionValue(action: SeccompAction, errnoRet: number | undefined, path: string): number {
  if (errnoRet !== undefined) {
    if (!ACTIONS_WITH_DATA.has(action)) {
      throw new SeccompError(
        'SECCOMP_INVALID',
        path,
        `${action} does not return an errno; errnoRet only applies to SCMP_ACT_ERRNO and SCMP_ACT_TRACE`,
      );
    }
    if (!Number.isInteger(errnoRet) || errnoRet < 0 || errnoRet > SECCOMP_RET_DATA) {
      throw new SeccompError('SECCOMP_INVALID', path, `${errnoRet} is not in 0..65535`);
    }
  }
  const base = ACTION_VALUES[action];
  if (base === undefined) {
    throw new SeccompError('SECCOMP_INVALID', path, `unknown action ${JSON.stringify(action)}`);
  }
  return ACTIONS_WITH_DATA.has(action) ? (base | (errnoRet ?? EPERM)) >>> 0 : base;
}

/**
 * runc's argument semantics: all comparisons of one entry must hold (AND),
 * except that when two compare the same argument, each becomes a rule of
 * its own (OR) — libseccomp cannot AND two comparisons of one argument.
 */
function conditionSets(
  args: NonNullable<LinuxSeccomp['syscalls']>[number]['args'],
  path: string,
): ArgCompare[][] {
  const conditions = (args ?? []).map((arg, k): ArgCompare => {
    const where = `${path}.args[${k}]`;
    if (!Number.isInteger(arg.index) || arg.index < 0 || arg.index >= MAX_ARGS) {
      throw new SeccompError(
        'SECCOMP_INVALID',
        `${where}.index`,
        `${arg.index} is not a syscall argument index (0..5)`,
      );
    }
    const op = OPERATOR_VALUES[arg.op];
    if (op === undefined) {
      throw new SeccompError(
        'SECCOMP_INVALID',
        `${where}.op`,
        `unknown operator ${JSON.stringify(arg.op)}`,
      );
    }
    return {
      arg: arg.index,
      op,
      datumA: BigInt.asUintN(64, BigInt(arg.value)),
      datumB: BigInt.asUintN(64, BigInt(arg.valueTwo ?? 0)),
    };
  });
  if (conditions.length === 0) return [[]];
  const indexes = conditions.map((c) => c.arg);
  const repeated = new Set(indexes).size !== indexes.length;
  return repeated ? conditions.map((c) => [c]) : [conditions];
}

interface Plan {
  defaultAction: number;
  archs: { arch: SeccompArch; path: string }[];
  rules: Rule[];
  flags: number;
  notify: boolean;
  enosys: boolean;
  allNames: string[];
}

/** Checks everything that does not need libseccomp; throws SeccompError naming the field. */
function plan(seccomp: LinuxSeccomp, base: string): Plan {
  if (seccomp.defaultAction === 'SCMP_ACT_NOTIFY') {
    throw new SeccompError(
      'SECCOMP_INVALID',
      `${base}.defaultAction`,
      'SCMP_ACT_NOTIFY cannot be used as default action',
    );
  }
  const defaultAction = actionValue(
    seccomp.defaultAction,
    seccomp.defaultErrnoRet,
    `${base}.defaultErrnoRet`,
  );
  const rules: Rule[] = [];
  const allNames: string[] = [];
  let notify = false;
  (seccomp.syscalls ?? []).forEach((entry, i) => {
    const path = `${base}.syscalls[${i}]`;
    entry.names.forEach((name, j) => {
      if (name === '') {
        throw new SeccompError(
          'SECCOMP_INVALID',
          `${path}.names[${j}]`,
          'empty string is not a valid syscall',
        );
      }
      if (entry.action === 'SCMP_ACT_NOTIFY' && NOTIFY_FORBIDDEN[name]) {
        throw new SeccompError('SECCOMP_INVALID', `${path}.names[${j}]`, NOTIFY_FORBIDDEN[name]);
      }
    });
    allNames.push(...entry.names);
    if (entry.action === 'SCMP_ACT_NOTIFY') notify = true;
    rules.push({
      path,
      names: entry.names,
      action: actionValue(entry.action, entry.errnoRet, `${path}.errnoRet`),
      conditionSets: conditionSets(entry.args, path),
    });
  });
  if (notify && !seccomp.listenerPath) {
    throw new SeccompError(
      'SECCOMP_INVALID',
      `${base}.listenerPath`,
      'SCMP_ACT_NOTIFY rules need a listenerPath (the seccomp agent socket that receives the listener)',
    );
  }
  if (seccomp.listenerMetadata !== undefined && !seccomp.listenerPath) {
    throw new SeccompError(
      'SECCOMP_INVALID',
      `${base}.listenerMetadata`,
      'set without listenerPath (the runtime-spec forbids it)',
    );
  }
  let flags = notify ? SECCOMP_FILTER_FLAG.NEW_LISTENER : 0;
  (seccomp.flags ?? []).forEach((flag, i) => {
    const value = FLAG_VALUES[flag];
    if (value === undefined) {
      throw new SeccompError(
        'SECCOMP_INVALID',
        `${base}.flags[${i}]`,
        `unknown flag ${JSON.stringify(flag)}`,
      );
    }
    if (flag === 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV' && !notify) {
      throw new SeccompError(
        'SECCOMP_INVALID',
        `${base}.flags[${i}]`,
        'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV only applies to filters with SCMP_ACT_NOTIFY rules',
      );
    }
    flags |= value;
  });
  // runc's rule: no ENOSYS prologue when unknown syscalls are let through
  // anyway (a tracer handles new syscalls itself) or already get ENOSYS.
  const permissive = ['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE'].includes(
    seccomp.defaultAction,
  );
  const enosysDefault =
    seccomp.defaultAction === 'SCMP_ACT_ERRNO' && seccomp.defaultErrnoRet === ENOSYS;
  return {
    defaultAction,
    archs: (seccomp.architectures ?? []).map((arch, i) => ({
      arch,
      path: `${base}.architectures[${i}]`,
    })),
    rules,
    flags,
    notify,
    enosys: !permissive && !enosysDefault,
    allNames,
  };
}

interface Built {
  tokens: number[];
  skipped: string[];
}

/** Adds architectures and rules to a libseccomp filter. */
function build(lib: Libseccomp, filter: FilterContext, p: Plan): Built {
  const tokens = [lib.nativeArch()];
  for (const { arch, path } of p.archs) {
    const token = lib.archToken(libseccompArchName(arch));
    if (token === 0) {
      throw new SeccompError(
        'ARCH_UNKNOWN',
        path,
        `libseccomp ${lib.version} does not know ${arch}`,
      );
    }
    filter.addArch(token);
    if (!tokens.includes(token)) tokens.push(token);
  }
  const skipped = new Set<string>();
  for (const rule of p.rules) {
    // A rule with the default action changes nothing (libseccomp refuses it).
    if (rule.action === p.defaultAction) continue;
    rule.names.forEach((name, j) => {
      const nr = lib.syscallNumber(name);
      if (nr === NR_SCMP_ERROR) {
        skipped.add(name);
        return;
      }
      for (const conditions of rule.conditionSets) {
        const r = filter.addRule(rule.action, nr, conditions);
        if (r < 0) {
          throw new SeccompError(
            'LIBSECCOMP_ERROR',
            `${rule.path}.names[${j}]`,
            `libseccomp ${lib.version} refused the rule for ${name}: ${describeLibseccompError(r)}`,
          );
        }
      }
    });
  }
  return { tokens, skipped: [...skipped].sort() };
}

function archLimits(
  lib: Libseccomp,
  tokens: readonly number[],
  names: readonly string[],
): ArchLimit[] {
  const limits: ArchLimit[] = [];
  for (const token of tokens) {
    let max = -1;
    for (const name of new Set(names)) {
      const nr = lib.syscallNumber(name, token);
      if (nr > max) max = nr;
    }
    if (max >= 0) limits.push({ token, max });
  }
  return limits;
}

/** libseccomp's name of an arch token ("x86_64"), for reports. */
function archName(lib: Libseccomp, token: number): string {
  for (const arch of OCI_ARCHS) {
    const name = libseccompArchName(arch);
    if (lib.archToken(name) === token) return name;
  }
  return `0x${token.toString(16)}`;
}

/**
 * Compiles an OCI `linux.seccomp` object with the system libseccomp. Throws
 * SeccompError with a stable code and the JSON path of the field at fault;
 * 'LIBSECCOMP_MISSING' when libseccomp (or koffi) is not installed.
 */
export function compileSeccomp(
  seccomp: LinuxSeccomp,
  options: CompileOptions = {},
): CompiledSeccomp {
  const base = options.path ?? 'linux.seccomp';
  const p = plan(seccomp, base);
  const lib = loadLibseccomp();
  return lib.withFilter(p.defaultAction, (filter) => {
    const { tokens, skipped } = build(lib, filter, p);
    const limits = p.enosys ? archLimits(lib, tokens, p.allNames) : [];
    const prologue = encodeProgram(enosysPrologue(limits));
    const program = Buffer.concat([prologue, filter.exportBpf()]);
    const count = program.length / SOCK_FILTER_SIZE;
    if (count > BPF_MAXINSNS) {
      throw new SeccompError(
        'PROGRAM_TOO_LARGE',
        base,
        `the filter has ${count} BPF instructions; the kernel accepts at most ${BPF_MAXINSNS}`,
      );
    }
    const compiled: CompiledSeccomp = {
      program,
      flags: p.flags,
      notify: p.notify,
      skippedSyscalls: skipped,
      enosysLimits: limits.map(({ token, max }) => ({ arch: archName(lib, token), max })),
      libseccompVersion: lib.version,
    };
    if (seccomp.listenerPath) compiled.listenerPath = seccomp.listenerPath;
    if (seccomp.listenerMetadata !== undefined)
      compiled.listenerMetadata = seccomp.listenerMetadata;
    return compiled;
  });
}

/**
 * libseccomp's own rendering (PFC) of the filter the profile compiles to,
 * without the ENOSYS prologue: for tests and debugging.
 */
export function exportPfc(seccomp: LinuxSeccomp, options: CompileOptions = {}): string {
  const p = plan(seccomp, options.path ?? 'linux.seccomp');
  const lib = loadLibseccomp();
  return lib.withFilter(p.defaultAction, (filter) => {
    build(lib, filter, p);
    return filter.exportPfc();
  });
}

/** Checks a profile without libseccomp: the errors compileSeccomp would throw before compiling. */
export function validateSeccomp(seccomp: LinuxSeccomp, options: CompileOptions = {}): void {
  plan(seccomp, options.path ?? 'linux.seccomp');
}
