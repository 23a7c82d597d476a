// `runc exec`: the process of the command line planned and run by the
// executor in the container's namespaces and cgroup. Loaded only by exec.

import { planExec } from '@runc-ts/namespaces';
import type { Process } from '@runc-ts/spec';
import { joinCgroup, parseExecCgroups } from './cgroup.js';
import type { ExecOptions, Runtime } from './container.js';
import { crashPoint } from './crash-points.js';
import { ContainerError } from './errors.js';
import { ExecutorVanishedError } from './executor.js';
import { runTracedExecutor } from './executor-trace.js';
import { checkSecurityModules, hostCapLast } from './host.js';
import { validateContainerId } from './id.js';
import { type Host, isAlive } from './lifecycle/host.js';
import { normalizeError, waitForExit, writePidFile } from './process-control.js';
import { checkRootlessRlimits, isRootlessEuid, setgroupsDenied } from './rootless.js';
import { containerSeccomp, seccompAgentState } from './seccomp.js';
import type { StoredState } from './state-store.js';
import { resolveStdio } from './stdio.js';

/** The process `runc exec` runs: the container's, with the command line's changes. */
function execProcess(base: Process | undefined, options: ExecOptions): Process {
  if (options.process) return options.process;
  if (!options.args || options.args.length === 0) {
    throw new ContainerError('OPTION_INVALID', 'exec: the command to run is missing');
  }
  const process: Process = structuredClone(base ?? { cwd: '/' });
  process.args = options.args;
  process.terminal = options.tty === true;
  delete process.consoleSize;
  if (options.env?.length) {
    const keys = new Set(options.env.map((entry) => entry.split('=')[0]));
    process.env = [
      ...(process.env ?? []).filter((entry) => !keys.has(entry.split('=')[0])),
      ...options.env,
    ];
  }
  if (options.cwd) process.cwd = options.cwd;
  if (options.user) {
    process.user = { ...process.user, uid: options.user.uid, gid: options.user.gid ?? 0 };
  }
  if (options.additionalGids) {
    process.user = { ...process.user, additionalGids: options.additionalGids };
  }
  if (options.capabilities?.length) {
    const caps = { ...process.capabilities };
    for (const set of ['bounding', 'effective', 'permitted', 'ambient'] as const) {
      caps[set] = [...new Set([...(caps[set] ?? []), ...options.capabilities])];
    }
    process.capabilities = caps;
  }
  if (options.noNewPrivileges) process.noNewPrivileges = true;
  if (options.apparmorProfile) process.apparmorProfile = options.apparmorProfile;
  if (options.selinuxLabel) process.selinuxLabel = options.selinuxLabel;
  return process;
}

/**
 * `runc exec`: runs another process in a created or running container,
 * in all its namespaces. Returns its exit status (128 + signal), or 0 once
 * it runs with `detach`.
 */
export async function execInContainer(
  runtime: Runtime,
  id: string,
  options: ExecOptions,
): Promise<number> {
  validateContainerId(id);
  const stored = runtime.store.read(id);
  const status = runtime.status(stored);
  if (status === 'stopped') {
    throw new ContainerError('BAD_STATUS', 'cannot exec in a stopped container');
  }
  if (status === 'paused' && !options.ignorePaused) {
    throw new ContainerError(
      'BAD_STATUS',
      'cannot exec in a paused container (use --ignore-paused to override)',
    );
  }
  const subCgroups =
    options.cgroups?.length && stored.cgroup
      ? parseExecCgroups(options.cgroups, stored.cgroup)
      : undefined;
  if (options.cgroups?.length && !stored.cgroup) {
    throw new ContainerError('OPTION_INVALID', '--cgroup: the container has no cgroup');
  }
  const process = execProcess(stored.config.process, options);
  checkSecurityModules(process, options.process ? 'process.json' : 'process');
  const rootless = isRootlessEuid();
  if (rootless) checkRootlessRlimits(process, options.process ? 'process.json' : 'process');
  if (!process.terminal && options.consoleSocket) {
    throw new ContainerError(
      'OPTION_INVALID',
      'cannot use console socket if runc will not detach or allocate tty',
    );
  }
  if (process.terminal && options.detach && !options.consoleSocket) {
    throw new ContainerError(
      'OPTION_INVALID',
      'cannot allocate tty if runc will detach without setting console socket',
    );
  }
  const stdio = resolveStdio(options.stdio);
  const initPath = await runtime.executorPath();
  let plan: ReturnType<typeof planExec>;
  try {
    plan = planExec(stored.config, process, {
      initPid: stored.pid,
      initStartTime: stored.pidStartTime,
      detach: options.detach === true,
      consoleSocket: options.consoleSocket,
      pidfdSocket: options.pidfdSocket,
      preserveFds: options.preserveFds ?? 0,
      joinCgroup: stored.cgroup !== undefined,
      seccomp: containerSeccomp(stored.config),
      rootless,
      setgroupsDenied: setgroupsDenied(),
      warn: (message: string) => runtime.report({ code: 'CONFIG', message }),
      lastCap: hostCapLast(),
    });
  } catch (error) {
    throw normalizeError(error);
  }
  // linux.intelRdt: the process joins the container's resctrl group too.
  const rdtModule = stored.config.linux?.intelRdt ? await import('./intelrdt.js') : undefined;
  const rdt = rdtModule?.storedIntelRdtGroup(stored.config, stored.id);
  let pid = 0;
  const debug = runtime.options.debug;
  debug?.(`exec: joining the namespaces of pid ${stored.pid}`);
  const initAlive = () => initRunning(runtime.host, stored);
  const stopped = () => new ContainerError('BAD_STATUS', 'cannot exec in a stopped container');
  let run: Awaited<ReturnType<typeof runTracedExecutor>>;
  try {
    run = await runTracedExecutor(debug, 'exec', {
      initPath,
      plan,
      stdio: stdio.spawn,
      preserveFds: options.preserveFds ?? 0,
      onStart: (child) => {
        stdio.attach(child);
        crashPoint('exec:executor-started');
      },
      onPid: (child) => {
        crashPoint('exec:pid-known');
        pid = child;
        debug?.(`exec: setns_init: about to exec ${JSON.stringify(process.args?.[0] ?? '')}`);
      },
      syncs: {
        CGROUP: () => {
          if (!stored.cgroup) return undefined;
          joinCgroup(stored.cgroup, pid, subCgroups, stored.pid);
          crashPoint('exec:cgroup-joined');
          if (rdt) rdtModule?.joinIntelRdt(rdt, pid);
          // The namespaces were joined through /proc/<init pid> before this:
          // the init still alive now means they were its, not those of a
          // process that reused the pid. A `delete` that already made its
          // last kill pass over the cgroup has killed the init, so a process
          // joining after that pass stops here instead of outliving it.
          if (!initAlive()) throw stopped();
          return undefined;
        },
        SECCOMP: () => seccompAgentState(stored.config, pid, runtime.ociState(stored, 'running')),
      },
    });
  } catch (error) {
    // The init died meanwhile: whatever step failed, say it as runc does
    // when it sees the container stopped. An executor killed from outside
    // is most likely a `delete --force` whose kill pass reached it before
    // the init: give the init a moment to be seen dying too.
    if (!initAlive()) throw stopped();
    if (
      error instanceof ExecutorVanishedError &&
      (await initDiesWithin(runtime.host, stored, 1000))
    ) {
      throw stopped();
    }
    throw normalizeError(error);
  }
  crashPoint('exec:ready');
  if (options.pidFile) writePidFile(options.pidFile, pid);
  if (options.detach) return 0;
  return waitForExit(run.child, pid, process.terminal === true && !options.consoleSocket, {
    forwardSignals: options.forwardSignals,
    signal: options.signal,
    drained: stdio.drained(run.child),
    what: `exec: waiting for process ${pid} in container ${id}`,
  });
}

async function initDiesWithin(host: Host, stored: StoredState, ms: number): Promise<boolean> {
  const deadline = host.now() + ms;
  while (host.now() < deadline) {
    await host.sleep(5);
    if (!initRunning(host, stored)) return true;
  }
  return false;
}

/**
 * The init still runs and is not exiting: an exiting process drops its
 * namespaces before it becomes a zombie, and a pid namespace's init stays in
 * between until every other process of its namespace is gone.
 */
function initRunning(host: Host, stored: StoredState): boolean {
  if (!isAlive(host, stored.pid, stored.pidStartTime)) return false;
  try {
    host.namespace(stored.pid, 'mnt');
    return true;
  } catch (error) {
    // EACCES (a non-dumpable init, to a rootless caller) tells nothing.
    return (error as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}
