// `runc create`: bundle -> plan -> executor, the container's cgroup, hooks.
// Loaded only by create and run: the planner, seccomp and the executor
// protocol stay out of every other command.

import type { ChildProcess } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { CgroupManager } from '@runc-ts/cgroups';
import { type PlanContext, planCreate } from '@runc-ts/namespaces';
import { parseConfig, type Spec } from '@runc-ts/spec';
import { createCgroupManager, joinContainerCgroup } from './cgroup.js';
import type { CreateOptions, Runtime, RuntimeOptions } from './container.js';
import { crashPoint } from './crash-points.js';
import { ContainerError, describeSystemError } from './errors.js';
import { runTracedExecutor } from './executor-trace.js';
import { runHooksAsync } from './hooks.js';
import {
  checkHostNetworkSysctls,
  checkSecurityModules,
  hostCapLast,
  hostCgroupLayout,
  hostHasKcore,
  isFile,
} from './host.js';
import { validateContainerId } from './id.js';
import type { IntelRdtGroup } from './intelrdt.js';
import { destroyQuietly, killAndReap, normalizeError, writePidFile } from './process-control.js';
import {
  checkRootlessConfig,
  checkRootlessRlimits,
  checkUserNamespacesEnabled,
  type IdMappingPlan,
  isRootlessEuid,
  planIdMapping,
  type RuntimeIdentity,
  rootlessCgroupDirs,
  runningInUserNamespace,
  runtimeCgroupDirs,
  runtimeIdentity,
  setgroupsDenied,
  writeIdMappings,
} from './rootless.js';
import { containerSeccomp, seccompAgentState } from './seccomp.js';
import type { StoredState } from './state-store.js';
import { resolveStdio } from './stdio.js';

/**
 * `runc create` (and the first half of `run`): sets the container up and
 * leaves its init waiting on exec.fifo (or, with `waitForInit`, the executor
 * waiting for it). A failure removes everything it made.
 */
export async function createContainer(
  runtime: Runtime,
  id: string,
  options: CreateOptions,
  waitForInit: boolean,
): Promise<{ stored: StoredState; executor: ChildProcess; drained: Promise<void> }> {
  const prepared = prepareCreate(id, options);
  const { bundle, spec, rootfs, idMapping } = prepared;
  const stdio = resolveStdio(options.stdio);
  const initPath = await runtime.executorPath();
  return runtime.store.withLockAsync(
    id,
    async () => {
      crashPoint('create:locked');
      await removeKilledCreate(runtime, id);
      runtime.store.createContainerDir(id);
      crashPoint('create:dir-made');
      const stored: StoredState = {
        id,
        pid: 0,
        pidStartTime: '',
        bundle,
        rootfs,
        created: timestamp(),
        owner: '',
        config: spec,
        creating: true,
      };
      let initPid = 0;
      let cgroup: CgroupManager | undefined;
      let rdt: IntelRdtGroup | undefined;
      let rdtModule: typeof import('./intelrdt.js') | undefined;
      try {
        const manager = createCgroupManager(id, spec, runtime.options);
        checkCgroupUnused(manager, (message) => runtime.report({ code: 'CGROUP', message }));
        // From here on a failure removes the cgroup: it is the container's.
        cgroup = manager;
        // Written before anything else exists: should this process be killed
        // at any later point, `delete --force` finds the cgroup (and, from
        // onPid on, the init) to remove; a directory without it is debris.
        stored.cgroup = manager.state();
        runtime.store.write(stored);
        crashPoint('create:state-written');
        const containerCgroup = cgroup;
        const seccomp = containerSeccomp(spec);
        const intelRdt = spec.linux?.intelRdt;
        if (intelRdt !== undefined) {
          rdtModule = await import('./intelrdt.js');
          rdt = rdtModule.prepareIntelRdt(intelRdt, id);
        }
        // Where a cgroup mount binds the unit's directory, a rootless systemd
        // unit's (below the user manager's cgroup) must be asked for first.
        if ((spec.mounts ?? []).some((mount) => mount.type === 'cgroup')) {
          await cgroup.prepare?.();
        }
        const plan = planCreate(
          spec,
          createPlanContext(runtime, id, options, prepared, {
            cgroup,
            seccomp,
            waitForInit,
            warn: (message) => runtime.report({ code: 'CONFIG', message }),
          }),
        );
        const run = await runTracedExecutor(runtime.options.debug, 'create', {
          initPath,
          plan,
          stdio: stdio.spawn,
          preserveFds: prepared.preserveFds,
          onStart: (child) => {
            stdio.attach(child);
            crashPoint('create:executor-started');
          },
          onPid: (pid) => {
            initPid = pid;
            stored.pid = pid;
            stored.pidStartTime = runtime.host.processStat(pid)?.startTime ?? '';
            runtime.store.write(stored);
            crashPoint('create:pid-known');
          },
          syncs: {
            USERNS: (pid) => {
              crashPoint('create:sync-userns');
              writeIdMappings(pid, spec, idMapping);
              return undefined;
            },
            CGROUP: (pid) => {
              // The init, before it runs anything of the container's.
              if (rdt) rdtModule?.joinIntelRdt(rdt, initPid || pid);
              return joinContainerCgroup(containerCgroup, initPid || pid, spec, {
                ...runtime.options,
                applied: () => crashPoint('create:cgroup-applied'),
              }).then((devicesSkipped) => {
                crashPoint('create:cgroup-set');
                stored.cgroup = containerCgroup.state();
                // Recorded now, not only at the end: should this process be
                // killed before it returns, `delete --force` still finds
                // the init and its cgroup.
                runtime.store.write(stored);
                reportSkippedCgroups(runtime.options, containerCgroup, devicesSkipped);
                return undefined;
              });
            },
            HOOKS: async () => {
              crashPoint('create:sync-hooks');
              const state = runtime.ociState(stored, 'creating');
              await runHooksAsync('prestart', spec.hooks?.prestart, state);
              await runHooksAsync('createRuntime', spec.hooks?.createRuntime, state);
              crashPoint('create:hooks-done');
              return undefined;
            },
            STATE: () => {
              crashPoint('create:sync-state');
              // For the createContainer/startContainer hooks the executor runs.
              return Buffer.from(JSON.stringify(runtime.ociState(stored, 'creating')));
            },
            SECCOMP: () => {
              crashPoint('create:sync-seccomp');
              // What the seccomp agent gets with the listener fd.
              return seccompAgentState(spec, stored.pid, runtime.ociState(stored, 'creating'));
            },
          },
        });
        crashPoint('create:ready');
        delete stored.creating;
        runtime.store.write(stored);
        if (options.pidFile) writePidFile(options.pidFile, stored.pid);
        crashPoint('create:done');
        return { stored, executor: run.child, drained: stdio.drained(run.child) };
      } catch (error) {
        if (initPid > 0 && spec.linux?.netDevices) {
          // Moved devices would die with the init's network namespace.
          const netDevices = await import('./net-devices.js');
          if (netDevices.hasNetDevicesToReturn(spec)) {
            await netDevices.returnNetDevices(initPath, spec, initPid).catch(() => undefined);
          }
        }
        if (initPid > 0) await killAndReap(initPid, undefined, runtime.host);
        await destroyQuietly(cgroup, (warning) => runtime.report(warning));
        if (rdt) rdtModule?.destroyIntelRdt(rdt);
        runtime.store.removeContainerDir(id);
        throw normalizeError(error);
      }
    },
    { signal: options.signal },
  );
}

/** What a create checks and reads before it makes anything (a dry run stops after planning). */
export interface PreparedCreate {
  bundle: string;
  spec: Spec;
  rootfs: string;
  rootless: boolean;
  idMapping?: { plan: IdMappingPlan; identity: RuntimeIdentity };
  /** $LISTEN_FDS and --preserve-fds: the fds after stdio the container gets. */
  preserveFds: number;
}

/** The id, bundle, config and options checked; nothing made yet. */
export function prepareCreate(id: string, options: CreateOptions): PreparedCreate {
  validateContainerId(id);
  const { bundle, spec, rootfs } = loadBundle(options.bundle);
  checkSecurityModules(spec.process, 'process');
  checkHostNetworkSysctls(spec);
  const { rootless, idMapping } = prepareUserNamespace(spec);
  const listenFds = options.listenFds ?? 0;
  const preserveFds = listenFds + (options.preserveFds ?? 0);
  if (listenFds > 0 && spec.process) {
    spec.process.env = [...(spec.process.env ?? []), `LISTEN_FDS=${listenFds}`, 'LISTEN_PID=1'];
  }
  if (!spec.process?.terminal && options.consoleSocket) {
    throw new ContainerError(
      'OPTION_INVALID',
      'cannot use console socket if runc will not detach or allocate tty (process.terminal is false)',
    );
  }
  return { bundle, spec, rootfs, rootless, preserveFds, ...(idMapping ? { idMapping } : {}) };
}

/** The planner's view of this create: paths, options, host facts. */
export function createPlanContext(
  runtime: Runtime,
  id: string,
  options: CreateOptions,
  prepared: PreparedCreate,
  extra: {
    cgroup: CgroupManager;
    seccomp: PlanContext['seccomp'];
    waitForInit: boolean;
    warn: ((message: string) => void) | undefined;
  },
): PlanContext {
  return {
    seccomp: extra.seccomp,
    rootfs: prepared.rootfs,
    fifoPath: runtime.store.fifoPath(id),
    containerId: id,
    noPivot: options.noPivot ?? false,
    noNewKeyring: options.noNewKeyring ?? false,
    preserveFds: prepared.preserveFds,
    consoleSocket: options.consoleSocket,
    pidfdSocket: options.pidfdSocket,
    bundle: prepared.bundle,
    sourceIsFile: isFile,
    ...cgroupContext(prepared.spec, extra.cgroup),
    hostHasKcore: hostHasKcore(),
    runtimeInUserNamespace: runningInUserNamespace(),
    setgroupsDenied: setgroupsDenied(),
    waitForInit: extra.waitForInit,
    rootless: prepared.rootless,
    warn: extra.warn,
    lastCap: hostCapLast(),
  };
}

/**
 * A container whose state still says `creating` while we hold its lock was
 * made by a create that was killed: it never existed for anyone, so a new
 * create takes its place, after removing what it left (init, cgroup).
 */
async function removeKilledCreate(runtime: Runtime, id: string): Promise<void> {
  let stored: StoredState;
  try {
    stored = runtime.store.read(id, { creating: true });
  } catch {
    return; // nothing there, or debris without a state file (createContainerDir)
  }
  if (stored.creating) await runtime.removeContainer(stored, runtime.status(stored));
}

export function loadBundle(bundleDir: string): { bundle: string; spec: Spec; rootfs: string } {
  const bundle = resolve(bundleDir);
  const configPath = join(bundle, 'config.json');
  let text: string;
  try {
    text = readFileSync(configPath, 'utf8');
  } catch (error) {
    throw new ContainerError(
      'BUNDLE_INVALID',
      `cannot read ${configPath}: ${describeSystemError(error)}`,
      { cause: error },
    );
  }
  const spec = parseConfig(text, { source: configPath, forCreate: true });
  const rootfs = isAbsolute(spec.root.path) ? spec.root.path : join(bundle, spec.root.path);
  let isDirectory = false;
  try {
    isDirectory = statSync(rootfs).isDirectory();
  } catch (error) {
    throw new ContainerError(
      'BUNDLE_INVALID',
      `root.path: rootfs ${rootfs}: ${describeSystemError(error)}`,
      { cause: error },
    );
  }
  if (!isDirectory) {
    throw new ContainerError('BUNDLE_INVALID', `root.path: rootfs ${rootfs} is not a directory`);
  }
  return { bundle, spec, rootfs };
}

/** RFC 3339 in UTC with the fraction trimmed as Go's RFC3339Nano does. */
export function timestamp(date = new Date()): string {
  return date.toISOString().replace(/\.?0+Z$/, 'Z');
}

/**
 * The checks a create needs before anything is made, and how it writes the
 * maps of a new user namespace: without root (runc's RootlessEUID) the config
 * must have a user namespace with mappings the user may write.
 */
function prepareUserNamespace(spec: Spec): {
  rootless: boolean;
  idMapping?: { plan: IdMappingPlan; identity: RuntimeIdentity };
} {
  const rootless = isRootlessEuid();
  if (rootless) {
    checkRootlessConfig(spec);
    checkRootlessRlimits(spec.process, 'process');
  }
  const userns = (spec.linux?.namespaces ?? []).find((ns) => ns.type === 'user');
  if (!userns || userns.path) return { rootless };
  checkUserNamespacesEnabled(rootless);
  if (!rootless) return { rootless };
  const identity = runtimeIdentity();
  return { rootless, idMapping: { plan: planIdMapping(spec, identity), identity } };
}

/**
 * --debug: the cgroups a rootless runtime could not create or write (not
 * delegated to the user, as on any cgroup v1 host), and what that means.
 */
function reportSkippedCgroups(
  options: RuntimeOptions,
  cgroup: CgroupManager,
  devicesSkipped?: string,
): void {
  const skipped = [...((cgroup as { skipped?: readonly string[] }).skipped ?? [])];
  if (devicesSkipped) skipped.push(`device rules: ${devicesSkipped}`);
  if (!options.debug || skipped.length === 0) return;
  options.debug(
    `rootless: skipped ${skipped.length} cgroup operation(s) this user may not do (not delegated): ${skipped.join('; ')}; where its cgroup could not be made, the container stays in the caller's cgroup, without limits of its own`,
  );
}

/**
 * A frozen cgroup cannot be the container's (its init would hang there):
 * refused before anything is created. One that already holds processes is
 * only warned about, as runc does (containers may share a cgroup).
 */
export function checkCgroupUnused(cgroup: CgroupManager, warn?: (message: string) => void): void {
  if (!cgroup.exists()) return;
  const pids = cgroup.pids();
  if (pids.length > 0) {
    warn?.(`container's cgroup is not empty: ${pids.length} process(es) found`);
  }
  if (cgroup.freezerState() === 'frozen') {
    throw new ContainerError(
      'CGROUP',
      "container's cgroup unexpectedly frozen (thaw it or choose another linux.cgroupsPath)",
    );
  }
}

function cgroupContext(
  spec: Spec,
  cgroup: CgroupManager,
): Pick<PlanContext, 'cgroupV2' | 'cgroupV1Controllers' | 'cgroupPaths'> {
  if (!(spec.mounts ?? []).some((mount) => mount.type === 'cgroup')) return {};
  const layout = hostCgroupLayout();
  const { paths, rootless, driver } = cgroup.state();
  // Rootless: where the container's cgroup cannot be made (not delegated),
  // the init stays in the runtime's own, and that is what it gets to see. A
  // user's systemd delegates its unit's cgroup, or apply fails.
  const binds =
    rootless && driver !== 'systemd' ? rootlessCgroupDirs(paths, runtimeCgroupDirs()) : paths;
  return {
    cgroupV2: layout.v2,
    cgroupV1Controllers: layout.v1Hierarchies,
    ...(Object.keys(binds).length > 0 ? { cgroupPaths: binds } : {}),
  };
}
