// The RuntimeOptions of a command line (--root, --systemd-cgroup,
// --rootless, the logger), for the Runtime and for the verbs that run
// without it (start.ts, kill.ts, delete.ts, pause.ts). Light: no lifecycle code.
import {
  type CgroupDrivers,
  type LifecycleContext,
  type RuntimeOptions,
  rootlessCgroupsAuto,
  runningInUserNamespace,
  systemdOwnerUid,
  verbContext,
} from '@runc-ts/libcontainer';
import type { CommandContext, GlobalOptions } from '../context.js';

export function runtimeOptionsOf(context: CommandContext): RuntimeOptions {
  const globals = context.globals();
  return {
    root: globals.root,
    initPath: context.initPath(),
    systemdCgroup: globals.systemdCgroup,
    rootlessCgroups: rootlessCgroups(globals),
    debug: (message) => context.logger().debug(message),
    warn: (message) => context.logger().warn(message),
  };
}

/**
 * `--rootless`: whether cgroups this user may not create or write are
 * skipped. As runc: "true"/"false" say so; "auto" is true without root, and
 * for root in a user namespace (with --systemd-cgroup only when that
 * namespace's systemd is not root's).
 */
function rootlessCgroups(globals: GlobalOptions): boolean {
  if (globals.rootless !== 'auto') return globals.rootless === 'true';
  return rootlessCgroupsAuto({
    euid: process.geteuid?.() ?? 0,
    inUserNamespace: runningInUserNamespace,
    systemd: globals.systemdCgroup,
    systemdOwnerUid,
  });
}

/**
 * What a lifecycle verb runs with, without the Runtime, with the cgroup
 * drivers `drivers` says.
 */
export function contextOf(
  context: CommandContext,
  drivers: CgroupDrivers,
): Promise<LifecycleContext> {
  return verbContext(runtimeOptionsOf(context), drivers);
}
