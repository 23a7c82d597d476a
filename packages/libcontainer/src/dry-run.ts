// `runc create --dry-run` / `runc run --dry-run` (runc-ts only): everything a
// create checks and plans, reported instead of done. Nothing on the host is
// made or changed: no state directory or lock, no cgroup (its writes are
// recorded), no seccomp cache file, no executor, no socket connection.

import {
  type CgroupAction,
  type CgroupManager,
  type PlannedUnit,
  recordCgroupActions,
  SystemdManager,
  type UnitProperty,
} from '@runc-ts/cgroups';
import { describePlan, type HookStep, type PlanDescription, planCreate } from '@runc-ts/namespaces';
import type { Hook, LinuxSeccomp, Spec } from '@runc-ts/spec';
import { createCgroupManager, effectiveResources } from './cgroup.js';
import type { RunOptions, Runtime } from './container.js';
import { checkCgroupUnused, createPlanContext, prepareCreate } from './create.js';
import { ContainerError } from './errors.js';
import { normalizeError } from './process-control.js';
import { containerSeccomp } from './seccomp.js';

/**
 * The systemd version the unit properties are planned for: a dry run does
 * not ask systemd (no D-Bus connection), so the newest properties are
 * assumed (CPUQuotaPeriodUSec needs 242, AllowedCPUs/AllowedMemoryNodes 244).
 */
export const DRY_RUN_SYSTEMD_VERSION = 244;

export interface DryRunOptions extends RunOptions {
  /** `run` (the init stays the foreground executor's child unless detached) or `create`. */
  command: 'create' | 'run';
}

/** A D-Bus value in JSON: 64-bit integers beyond 2^53 as decimal strings. */
export type JsonDbusValue = string | number | boolean | JsonDbusValue[];

export interface DryRunCgroup {
  driver: 'fs' | 'fs2' | 'systemd';
  /** Directory per hierarchy (`''`: cgroup2). */
  paths: Record<string, string>;
  /** --rootless: what this user may not do is skipped at create (listed by --debug). */
  rootless: boolean;
  systemd?: {
    unit: string;
    slice: string;
    /** The version the properties are planned for (systemd is not asked). */
    assumedVersion: number;
    properties: { name: string; signature: string; value: JsonDbusValue }[];
  };
  /** Directories made and files written, in order (the init then joins via cgroup.procs). */
  actions: CgroupAction[];
}

export interface DryRunSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures: string[];
  flags: string[];
  /** linux.seccomp.syscalls entries, and the syscall names they cover. */
  rules: number;
  syscalls: number;
  listenerPath?: string;
  /** The compiled filter: BPF instructions, seccomp(2) flags. */
  instructions: number;
  filterFlags: number;
  /** Loaded before the credentials change, or last (with no_new_privs). */
  loaded: 'before-setuid' | 'after-no-new-privs';
}

export interface DryRunHook {
  path: string;
  args: string[];
  env: string[];
  timeout?: number;
}

export interface DryRunReport {
  command: 'create' | 'run';
  id: string;
  bundle: string;
  rootfs: string;
  /** The container's state directory a real create makes (not made). */
  stateDir: string;
  options: {
    consoleSocket?: string;
    pidfdSocket?: string;
    pidFile?: string;
    noPivot: boolean;
    noNewKeyring: boolean;
    /** Extra fds after stdio ($LISTEN_FDS + --preserve-fds). */
    preserveFds: number;
    detach?: boolean;
    keep?: boolean;
  };
  namespaces: PlanDescription['namespaces'];
  rootfsPropagation: string[];
  readonlyRootfs: boolean;
  mounts: PlanDescription['mounts'];
  rootChange: 'pivot_root' | 'move' | 'chroot';
  devices: PlanDescription['devices'];
  symlinks: PlanDescription['symlinks'];
  maskedPaths: string[];
  readonlyPaths: string[];
  hostname?: string;
  domainname?: string;
  sysctl: Record<string, string>;
  process: PlanDescription['process'];
  cgroup: DryRunCgroup;
  seccomp: DryRunSeccomp | null;
  hooks: {
    /** Run by runc-ts on the host, in order of the lifecycle. */
    prestart: DryRunHook[];
    createRuntime: DryRunHook[];
    poststart: DryRunHook[];
    poststop: DryRunHook[];
    /** Run by the executor in the container's namespaces. */
    createContainer: HookStep[];
    startContainer: HookStep[];
  };
  /** linux.intelRdt as given: the resctrl group is made at create only. */
  intelRdt?: unknown;
  warnings: string[];
  /** The executor plan, one op a line (native/PROTOCOL.md's dump; byte values as their size). */
  ops: string[];
}

function jsonValue(value: UnitProperty['value']): JsonDbusValue {
  if (Array.isArray(value)) return value.map(jsonValue);
  if (typeof value === 'bigint') {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  }
  return value;
}

function hookList(hooks: readonly Hook[] | undefined): DryRunHook[] {
  return (hooks ?? []).map((hook) => ({
    path: hook.path,
    args: hook.args ?? [hook.path],
    env: hook.env ?? [],
    ...(hook.timeout !== undefined ? { timeout: hook.timeout } : {}),
  }));
}

function seccompSummary(
  seccomp: LinuxSeccomp | undefined,
  described: PlanDescription['seccomp'],
  noNewPrivileges: boolean,
): DryRunSeccomp | null {
  if (seccomp === undefined || described === undefined) return null;
  const syscalls = seccomp.syscalls ?? [];
  return {
    defaultAction: seccomp.defaultAction,
    ...(seccomp.defaultErrnoRet !== undefined ? { defaultErrnoRet: seccomp.defaultErrnoRet } : {}),
    architectures: [...(seccomp.architectures ?? [])],
    flags: [...(seccomp.flags ?? [])],
    rules: syscalls.length,
    syscalls: syscalls.reduce((count, rule) => count + rule.names.length, 0),
    ...(described.listener ? { listenerPath: described.listener } : {}),
    instructions: described.instructions,
    filterFlags: described.flags,
    loaded: noNewPrivileges ? 'after-no-new-privs' : 'before-setuid',
  };
}

/** The cgroup a create would make and write, recorded from the driver itself. */
async function plannedCgroup(
  manager: CgroupManager,
  spec: Spec,
  rootless: boolean,
  warn: (message: string) => void,
): Promise<DryRunCgroup> {
  const resources = effectiveResources(spec);
  let unit: PlannedUnit | undefined;
  let fs: CgroupManager | undefined = manager;
  if (manager instanceof SystemdManager) {
    unit = manager.planned(resources, DRY_RUN_SYSTEMD_VERSION);
    fs = unit.fs;
  }
  const actions = fs
    ? await recordCgroupActions(async () => {
        await fs.apply(0);
        await fs.set(resources);
      })
    : [];
  if (unit && !fs) {
    warn(
      `cgroup: the directory of ${unit.unit} is the systemd user manager's to choose; its file writes are not shown`,
    );
  }
  const state = manager.state();
  return {
    driver: state.driver as DryRunCgroup['driver'],
    paths: state.paths,
    rootless,
    ...(unit
      ? {
          systemd: {
            unit: unit.unit,
            slice: unit.slice,
            assumedVersion: DRY_RUN_SYSTEMD_VERSION,
            properties: unit.properties.map(({ name, signature, value }) => ({
              name,
              signature,
              value: jsonValue(value),
            })),
          },
        }
      : {}),
    actions,
  };
}

/**
 * What `runc create` (or `run`) would do with `options`, checked and planned
 * as a real create does, so a config a real create refuses fails here with
 * the same error; nothing is made.
 */
export async function dryRunCreate(
  runtime: Runtime,
  id: string,
  options: DryRunOptions,
): Promise<DryRunReport> {
  const warnings: string[] = [];
  const warn = (message: string) => warnings.push(message);
  // As in a real create: these errors as they are, the later ones normalized.
  const prepared = prepareCreate(id, options);
  const { spec } = prepared;
  try {
    if (runtime.store.exists(id)) {
      let existing = true;
      try {
        existing = !runtime.store.read(id, { creating: true }).creating;
      } catch {
        existing = false; // debris of a killed create: a real create replaces it
      }
      if (existing) {
        throw new ContainerError('EXISTS', `container with given ID already exists: ${id}`);
      }
    }
    const rootlessCgroups = runtime.options.rootlessCgroups === true;
    const manager = createCgroupManager(id, spec, runtime.options);
    checkCgroupUnused(manager, warn);
    // No cache: the cache file is the one thing compiling would write.
    const seccomp = containerSeccomp(spec, { cacheDir: false });
    const waitForInit = options.command === 'run' && options.detach !== true;
    const ops = planCreate(
      spec,
      createPlanContext(runtime, id, options, prepared, {
        cgroup: manager,
        seccomp,
        waitForInit,
        warn,
      }),
    );
    const described = describePlan(ops);
    if (spec.linux?.intelRdt !== undefined) {
      warn('linux.intelRdt: the resctrl group is checked and made by a real create only');
    }
    const cgroup = await plannedCgroup(manager, spec, rootlessCgroups, warn);
    return {
      command: options.command,
      id,
      bundle: prepared.bundle,
      rootfs: prepared.rootfs,
      stateDir: runtime.store.dir(id),
      options: {
        ...(options.consoleSocket !== undefined ? { consoleSocket: options.consoleSocket } : {}),
        ...(options.pidfdSocket !== undefined ? { pidfdSocket: options.pidfdSocket } : {}),
        ...(options.pidFile !== undefined ? { pidFile: options.pidFile } : {}),
        noPivot: options.noPivot === true,
        noNewKeyring: options.noNewKeyring === true,
        preserveFds: prepared.preserveFds,
        ...(options.command === 'run'
          ? { detach: options.detach === true, keep: options.keep === true }
          : {}),
      },
      namespaces: described.namespaces,
      rootfsPropagation: described.rootfs?.propagation ?? [],
      readonlyRootfs: described.rootfs?.readonly ?? false,
      mounts: described.mounts,
      rootChange: described.rootChange ?? 'pivot_root',
      devices: described.devices,
      symlinks: described.symlinks,
      maskedPaths: described.maskedPaths,
      readonlyPaths: described.readonlyPaths,
      ...(described.hostname !== undefined ? { hostname: described.hostname } : {}),
      ...(described.domainname !== undefined ? { domainname: described.domainname } : {}),
      sysctl: described.sysctl,
      process: described.process,
      cgroup,
      seccomp: seccompSummary(
        spec.linux?.seccomp,
        described.seccomp,
        described.process.noNewPrivileges,
      ),
      hooks: {
        prestart: hookList(spec.hooks?.prestart),
        createRuntime: hookList(spec.hooks?.createRuntime),
        poststart: hookList(spec.hooks?.poststart),
        poststop: hookList(spec.hooks?.poststop),
        createContainer: described.hooks.filter((hook) => hook.kind === 'createContainer'),
        startContainer: described.hooks.filter((hook) => hook.kind === 'startContainer'),
      },
      ...(spec.linux?.intelRdt !== undefined ? { intelRdt: spec.linux.intelRdt } : {}),
      warnings,
      ops: described.ops,
    };
  } catch (error) {
    throw normalizeError(error);
  }
}
