// Named points in the lifecycle commands where a test can have the runtime
// SIGKILLed, as an engine that times out kills it: `RUNC_TS_TEST_KILL_AT=
// <point>` makes the process kill itself there. It can only end this
// process, which whoever sets its environment can do anyway.

/** Every point, in the order a create → start → exec → delete passes them. */
export const CRASH_POINTS = [
  'create:locked',
  'create:dir-made',
  'create:state-written',
  'create:executor-started',
  'create:pid-known',
  'create:sync-userns',
  'create:cgroup-applied',
  'create:cgroup-set',
  'create:sync-hooks',
  'create:hooks-done',
  'create:sync-state',
  'create:sync-seccomp',
  'create:ready',
  'create:done',
  'start:locked',
  'start:fifo-opened',
  'start:byte-read',
  'start:released',
  'exec:executor-started',
  'exec:pid-known',
  'exec:cgroup-joined',
  'exec:ready',
  'delete:locked',
  'delete:killed',
  'delete:cgroup-destroyed',
  'delete:dir-removed',
] as const;

export type CrashPoint = (typeof CRASH_POINTS)[number];

export const CRASH_POINT_ENV = 'RUNC_TS_TEST_KILL_AT';

/** SIGKILLs this process if the test asked for it at `point`. */
export function crashPoint(point: CrashPoint): void {
  if (process.env[CRASH_POINT_ENV] === point) process.kill(process.pid, 'SIGKILL');
}
