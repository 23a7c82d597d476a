// linux.netDevices at `delete`: the devices go back to the runtime's
// network namespace under their host names before the init is killed (a
// veth pair would die with the container's namespace, a physical device
// would come back under the container's name).
import { netDeviceReturnPlan, planNamespaces } from '@runc-ts/namespaces';
import type { Spec } from '@runc-ts/spec';
import { runExecutor } from './executor.js';

/** Whether `delete` has devices to move back: the container made its own network namespace. */
export function hasNetDevicesToReturn(spec: Spec): boolean {
  return (
    Object.keys(spec.linux?.netDevices ?? {}).length > 0 && planNamespaces(spec).creates('network')
  );
}

/** Moves linux.netDevices back from the namespace of the live init `initPid`. */
export async function returnNetDevices(
  initPath: string,
  spec: Spec,
  initPid: number,
): Promise<void> {
  const run = await runExecutor({
    initPath,
    plan: netDeviceReturnPlan(spec, initPid),
    // It reports through the protocol: the caller's stdio are not its.
    stdio: ['ignore', 'ignore', 'ignore'],
    preserveFds: 0,
    syncs: {},
    onPid: () => {},
  });
  await new Promise<void>((resolve) => {
    if (run.child.exitCode !== null || run.child.signalCode !== null) resolve();
    else run.child.once('exit', () => resolve());
  });
}
