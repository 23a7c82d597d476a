import type { Process, Spec } from '@runc-ts/spec';
import { execAffinityOps, memoryPolicyOp } from './cpu-numa.js';
import { checkEncodable, checkPlanSize } from './limits.js';
import { NAMESPACE_FLAGS, planNamespaces } from './namespaces.js';
import { type Op, op, SyncKind } from './plan.js';
import {
  capsOp,
  consoleOwnerOps,
  credentialOps,
  homeOps,
  ioprioOp,
  personalityOp,
  processEnv,
  processPath,
  type SeccompPlan,
  schedOp,
  seccompOps,
  setgroupsUnavailable,
} from './plan-create.js';
import { planRlimits } from './rlimits.js';

export interface ExecPlanContext {
  /** Host pid of the container's init: its namespaces are joined. */
  initPid: number;
  /**
   * Its /proc/<pid>/stat start time: the executor checks the pid it pins
   * with a pidfd is still this process before joining.
   */
  initStartTime?: string;
  /** --detach: the executor leaves the process to the caller's subreaper. */
  detach: boolean;
  /** --console-socket path, with a terminal. */
  consoleSocket?: string;
  /** --pidfd-socket path (host): receives a pidfd of the process (data `setns`, as runc's). */
  pidfdSocket?: string;
  /** --preserve-fds. */
  preserveFds: number;
  /** The runtime is not root (no setgroups). */
  rootless?: boolean;
  /** setgroups(2) is denied in the runtime's user namespace (see PlanContext). */
  setgroupsDenied?: boolean;
  /** The container has a cgroup: SYNC(CGROUP) after FORK so the parent moves the process in. */
  joinCgroup?: boolean;
  /**
   * The container's linux.seccomp, compiled: exec'd processes get the
   * container's filter (as in runc; process.json has no seccomp of its own).
   */
  seccomp?: SeccompPlan;
  /** Receives what runc logs as warnings (unknown capability names, which are skipped). */
  warn?: (message: string) => void;
  /** The kernel's last capability number: names above it are skipped as unavailable. */
  lastCap?: number;
}

/** /proc/<pid>/ns/<file> names of the namespace types. */
const NS_FILES = {
  mount: 'mnt',
  network: 'net',
  pid: 'pid',
  uts: 'uts',
  ipc: 'ipc',
  user: 'user',
  cgroup: 'cgroup',
  time: 'time',
} as const;

/**
 * `runc exec`: join every namespace of the container at once through a
 * pidfd of its init (SETNS_PID: no other process that reused the pid can
 * lend one), fork into the pid namespace, then set the process up as create
 * does and exec it.
 */
export function planExec(spec: Spec, process: Process, ctx: ExecPlanContext): Op[] {
  checkEncodable(process, 'process');
  const ns = planNamespaces(spec);
  const types = (Object.keys(NS_FILES) as (keyof typeof NS_FILES)[]).filter((type) => ns.has(type));
  const affinity = execAffinityOps(process);
  // execCPUAffinity.initial: while the executor is still in the runtime's cgroup.
  const ops: Op[] = [...affinity.before];
  if (types.length > 0) {
    const flags = types.reduce((all, type) => all | NAMESPACE_FLAGS[type], 0);
    ops.push(op('SETNS_PID', ctx.initPid, flags >>> 0, ctx.initStartTime ?? ''));
    // In the container's user namespace, become its root (as create does).
    if (types.includes('user')) ops.push(op('SETGID', 0), op('SETUID', 0));
  }
  const terminal = process.terminal === true;
  const proxy = terminal && !ctx.consoleSocket && !ctx.detach;
  ops.push(op('FORK', ctx.detach ? 0 : proxy ? 2 : 1));
  // After FORK, so a waiting executor stays outside the container's cgroup.
  if (ctx.joinCgroup) ops.push(op('SYNC', SyncKind.CGROUP));
  // The process opens a pidfd of itself: no pid-reuse race (see planCreate).
  if (ctx.pidfdSocket) ops.push(op('PIDFD_SOCKET', ctx.pidfdSocket, 'setns'));
  // execCPUAffinity.final (or the reset), now that the cpuset applies.
  ops.push(...affinity.after);
  if (terminal) {
    ops.push(op('CONSOLE', proxy ? '' : (ctx.consoleSocket ?? '')), ...consoleOwnerOps(process));
    if (process.consoleSize) {
      ops.push(op('WINSIZE', process.consoleSize.height, process.consoleSize.width));
    }
  } else {
    ops.push(op('SETSID'));
  }
  for (const rlimit of planRlimits(process.rlimits)) {
    ops.push(op('RLIMIT', rlimit.resource, rlimit.soft, rlimit.hard));
  }
  // The container's execution domain (an i686 container's `uname -m`), as runc.
  // The container's memory policy is per process: the init's is not inherited here.
  for (const optional of [
    personalityOp(spec),
    schedOp(process),
    ioprioOp(process),
    memoryPolicyOp(spec),
  ]) {
    if (optional) ops.push(optional);
  }
  if (process.apparmorProfile) ops.push(op('APPARMOR', process.apparmorProfile));
  if (process.selinuxLabel) ops.push(op('SELINUX_LABEL', process.selinuxLabel));
  if (process.user?.umask !== undefined) ops.push(op('UMASK', process.user.umask));
  // HOME and chdir while still root with every capability (see planCreate).
  const env = processEnv(process.env);
  ops.push(...homeOps(process, env), op('CHDIR', process.cwd));
  // The filter's place depends on this process' no_new_privs (see seccompOps).
  const filter = seccompOps(spec, ctx.seccomp);
  const nnp = process.noNewPrivileges === true;
  if (!nnp) ops.push(...filter);
  ops.push(
    op('KEEPCAPS', 1),
    ...credentialOps(spec, process, ns, setgroupsUnavailable(ctx)),
    op('KEEPCAPS', 0),
    capsOp(process, ctx.warn, ctx.lastCap),
  );
  if (nnp) ops.push(op('NO_NEW_PRIVS'));
  const args = process.args ?? [];
  ops.push(op('RESOLVE_EXEC', args[0] ?? '', processPath(env)));
  if (nnp) ops.push(...filter);
  ops.push(op('READY'), op('CLOSE_FDS', 3 + ctx.preserveFds), op('EXEC', args, env));
  return checkPlanSize(ops, 'process');
}
