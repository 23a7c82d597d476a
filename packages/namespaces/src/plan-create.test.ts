import { exampleSpec, type Spec, toRootless } from '@runc-ts/spec';
import { describe, expect, it } from 'vitest';
import { PlanError, type PlanErrorCode } from './errors.js';
import {
  MS_BIND,
  MS_NOATIME,
  MS_NODEV,
  MS_NOEXEC,
  MS_NOSUID,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_SHARED,
  MS_SLAVE,
  MS_UNBINDABLE,
} from './mount-options.js';
import {
  CLONE_NEWCGROUP,
  CLONE_NEWIPC,
  CLONE_NEWNET,
  CLONE_NEWNS,
  CLONE_NEWPID,
  CLONE_NEWUSER,
  CLONE_NEWUTS,
} from './namespaces.js';
import { dumpPlan, type Op, type OpName, op, SyncKind } from './plan.js';
import { DEFAULT_PATH, type PlanContext, planCreate } from './plan-create.js';

const ctx: PlanContext = {
  rootfs: '/bundle/rootfs',
  fifoPath: '/run/runc-ts/c1/exec.fifo',
  containerId: 'c1',
  noPivot: false,
  noNewKeyring: false,
  preserveFds: 0,
  consoleSocket: '/tmp/console.sock',
};

/** exampleSpec() without a terminal (no console socket needed). */
function headless(): Spec {
  const spec = exampleSpec();
  spec.process!.terminal = false;
  return spec;
}

/** A minimal valid config: a new mount namespace, no mounts. */
function minimal(extra: Partial<Spec> = {}): Spec {
  return {
    ociVersion: '1.3.0',
    root: { path: 'rootfs' },
    process: { cwd: '/', args: ['/bin/true'] },
    linux: { namespaces: [{ type: 'mount' }] },
    ...extra,
  };
}

const names = (ops: readonly Op[]): OpName[] => ops.map((o) => o.op);
const find = (ops: readonly Op[], name: OpName) => ops.filter((o) => o.op === name);
const dump = (ops: readonly Op[]) => dumpPlan(ops).trimEnd().split('\n');

function expectPlanError(
  call: () => unknown,
  code: PlanErrorCode,
  message: string,
  path?: string,
): void {
  let caught: unknown;
  try {
    call();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(PlanError);
  expect((caught as PlanError).code).toBe(code);
  expect((caught as PlanError).message).toBe(message);
  if (path !== undefined) expect((caught as PlanError).path).toBe(path);
}

describe('planCreate: runc spec template', () => {
  it('plans the whole container', () => {
    const spec = exampleSpec();
    expect(dumpPlan(planCreate(spec, ctx))).toMatchInlineSnapshot(`
      "OPEN_FIFO "/run/runc-ts/c1/exec.fifo"
      UNSHARE 1812070400
      FORK 0
      SYNC 3
      SCHED_AFFINITY "reset" hex:
      ROOTFS "/bundle/rootfs" 540672
      MOUNT "proc" "/proc" "proc" 0 "" 1
      MOUNT "tmpfs" "/dev" "tmpfs" 16777218 "mode=755,size=65536k" 1
      MOUNT "devpts" "/dev/pts" "devpts" 10 "newinstance,ptmxmode=0666,mode=0620,gid=5" 1
      MOUNT "shm" "/dev/shm" "tmpfs" 14 "mode=1777,size=65536k" 1
      MOUNT "mqueue" "/dev/mqueue" "mqueue" 14 "" 1
      MOUNT "sysfs" "/sys" "sysfs" 15 "" 1
      MOUNT "tmpfs" "/sys/fs/cgroup" "tmpfs" 14 "mode=755" 1
      REMOUNT "/sys/fs/cgroup" 15
      MKNOD "/dev/null" 8630 1 3 0 0
      MKNOD "/dev/zero" 8630 1 5 0 0
      MKNOD "/dev/full" 8630 1 7 0 0
      MKNOD "/dev/random" 8630 1 8 0 0
      MKNOD "/dev/urandom" 8630 1 9 0 0
      MKNOD "/dev/tty" 8630 5 0 0 0
      SYMLINK "/proc/self/fd" "/dev/fd"
      SYMLINK "/proc/self/fd/0" "/dev/stdin"
      SYMLINK "/proc/self/fd/1" "/dev/stdout"
      SYMLINK "/proc/self/fd/2" "/dev/stderr"
      SYMLINK "pts/ptmx" "/dev/ptmx"
      SYNC 2
      PIVOT_ROOT
      HOSTNAME "runc"
      READONLY "/proc/bus"
      READONLY "/proc/fs"
      READONLY "/proc/irq"
      READONLY "/proc/sys"
      READONLY "/proc/sysrq-trigger"
      MASK "/proc/acpi"
      MASK "/proc/asound"
      MASK "/proc/kcore"
      MASK "/proc/keys"
      MASK "/proc/latency_stats"
      MASK "/proc/timer_list"
      MASK "/proc/timer_stats"
      MASK "/proc/sched_debug"
      MASK "/sys/firmware"
      MASK "/proc/scsi"
      MASK "/sys/devices/virtual/tpm"
      REMOUNT "/" 4097
      UMASK 18
      KEYRING "_ses.c1"
      CONSOLE "/tmp/console.sock"
      MOUNT_CONSOLE
      RLIMIT 7 1024 1024
      DEFAULT_HOME 0
      CHDIR "/"
      KEEPCAPS 1
      SETGROUPS []
      SETGID 0
      SETUID 0
      KEEPCAPS 0
      CAPS 536871968 536871968 536871968 0 0
      NO_NEW_PRIVS
      RESOLVE_EXEC "sh" "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
      READY
      WAIT_FIFO
      CLOSE_FDS 3
      EXEC ["sh"] ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","TERM=xterm"]
      "
    `);
  });

  it('does not modify the spec', () => {
    const spec = exampleSpec();
    const before = JSON.stringify(spec);
    planCreate(spec, { ...ctx, cgroupV1Controllers: ['cpu,cpuacct'] });
    expect(JSON.stringify(spec)).toBe(before);
  });

  it('is deterministic', () => {
    expect(dumpPlan(planCreate(exampleSpec(), ctx))).toBe(dumpPlan(planCreate(exampleSpec(), ctx)));
  });

  it('puts the SYNCs in the order libcontainer answers them', () => {
    const syncs = find(planCreate(exampleSpec(), ctx), 'SYNC').map((o) => o.args[0]);
    expect(syncs).toEqual([SyncKind.CGROUP, SyncKind.HOOKS]);
  });

  it('keeps the op order of the contract', () => {
    const ops = names(planCreate(headless(), ctx));
    const at = (name: OpName) => ops.indexOf(name);
    const order: OpName[] = [
      'OPEN_FIFO',
      'UNSHARE',
      'FORK',
      'SYNC',
      'ROOTFS',
      'MOUNT',
      'MKNOD',
      'SYMLINK',
      'PIVOT_ROOT',
      'HOSTNAME',
      'READONLY',
      'MASK',
      'UMASK',
      'KEYRING',
      'SETSID',
      'RLIMIT',
      'CHDIR',
      'KEEPCAPS',
      'SETGROUPS',
      'SETGID',
      'SETUID',
      'CAPS',
      'NO_NEW_PRIVS',
      'RESOLVE_EXEC',
      'READY',
      'WAIT_FIFO',
      'CLOSE_FDS',
      'EXEC',
    ];
    for (let i = 1; i < order.length; i++) {
      expect(at(order[i - 1]!), `${order[i - 1]} before ${order[i]}`).toBeLessThan(at(order[i]!));
    }
    expect(ops.at(-1)).toBe('EXEC');
  });

  it('adds the cgroup namespace after the cgroup SYNC', () => {
    const ops = planCreate(exampleSpec({ cgroupNamespace: true }), ctx);
    expect(dump(ops).slice(1, 6)).toEqual([
      `UNSHARE ${CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS}`,
      'FORK 0',
      `SYNC ${SyncKind.CGROUP}`,
      `UNSHARE ${CLONE_NEWCGROUP}`,
      'SCHED_AFFINITY "reset" hex:',
    ]);
  });

  it('sends the pidfd of the init once it is in its cgroup, with runc\'s "standard"', () => {
    const ops = dump(planCreate(headless(), { ...ctx, pidfdSocket: '/run/pidfd.sock' }));
    const fork = ops.indexOf('FORK 0');
    expect(ops.slice(fork, fork + 3)).toEqual([
      'FORK 0',
      `SYNC ${SyncKind.CGROUP}`,
      'PIDFD_SOCKET "/run/pidfd.sock" "standard"',
    ]);
    expect(ops.filter((line) => line.startsWith('PIDFD_SOCKET'))).toHaveLength(1);
    expect(names(planCreate(headless(), ctx))).not.toContain('PIDFD_SOCKET');
    // a foreground run: the process that FORK 1 waits for
    const fg = dump(planCreate(headless(), { ...ctx, pidfdSocket: '/p', waitForInit: true }));
    expect(fg.indexOf('PIDFD_SOCKET "/p" "standard"')).toBe(fg.indexOf('FORK 1') + 2);
  });
});

describe('planCreate: rootless template', () => {
  const rootless = () => toRootless(exampleSpec(), { uid: 1000, gid: 1000 });

  it('plans the whole container', () => {
    expect(dumpPlan(planCreate(rootless(), { ...ctx, rootless: true }))).toMatchInlineSnapshot(`
      "OPEN_FIFO "/run/runc-ts/c1/exec.fifo"
      UNSHARE 268435456
      SYNC 1
      UNSHARE 738328576
      OPEN_MOUNT_SOURCE "/sys"
      SETGID 0
      SETUID 0
      FORK 0
      SYNC 3
      SCHED_AFFINITY "reset" hex:
      ROOTFS "/bundle/rootfs" 540672
      MOUNT "proc" "/proc" "proc" 0 "" 1
      MOUNT "tmpfs" "/dev" "tmpfs" 16777218 "mode=755,size=65536k" 1
      MOUNT "devpts" "/dev/pts" "devpts" 10 "newinstance,ptmxmode=0666,mode=0620" 1
      MOUNT "shm" "/dev/shm" "tmpfs" 14 "mode=1777,size=65536k" 1
      MOUNT "mqueue" "/dev/mqueue" "mqueue" 14 "" 1
      MOUNT "/sys" "/sys" "" 20480 "" 1
      BIND_REMOUNT "/sys" 4111 0
      MOUNT "tmpfs" "/sys/fs/cgroup" "tmpfs" 14 "mode=755" 1
      REMOUNT "/sys/fs/cgroup" 15
      BIND_DEVICE "/dev/null" "/dev/null"
      BIND_DEVICE "/dev/zero" "/dev/zero"
      BIND_DEVICE "/dev/full" "/dev/full"
      BIND_DEVICE "/dev/random" "/dev/random"
      BIND_DEVICE "/dev/urandom" "/dev/urandom"
      BIND_DEVICE "/dev/tty" "/dev/tty"
      SYMLINK "/proc/self/fd" "/dev/fd"
      SYMLINK "/proc/self/fd/0" "/dev/stdin"
      SYMLINK "/proc/self/fd/1" "/dev/stdout"
      SYMLINK "/proc/self/fd/2" "/dev/stderr"
      SYMLINK "pts/ptmx" "/dev/ptmx"
      SYNC 2
      PIVOT_ROOT
      HOSTNAME "runc"
      READONLY "/proc/bus"
      READONLY "/proc/fs"
      READONLY "/proc/irq"
      READONLY "/proc/sys"
      READONLY "/proc/sysrq-trigger"
      MASK "/proc/acpi"
      MASK "/proc/asound"
      MASK "/proc/kcore"
      MASK "/proc/keys"
      MASK "/proc/latency_stats"
      MASK "/proc/timer_list"
      MASK "/proc/timer_stats"
      MASK "/proc/sched_debug"
      MASK "/sys/firmware"
      MASK "/proc/scsi"
      MASK "/sys/devices/virtual/tpm"
      REMOUNT "/" 4097
      UMASK 18
      KEYRING "_ses.c1"
      CONSOLE "/tmp/console.sock"
      MOUNT_CONSOLE
      RLIMIT 7 1024 1024
      DEFAULT_HOME 0
      CHDIR "/"
      KEEPCAPS 1
      SETGID 0
      SETUID 0
      KEEPCAPS 0
      CAPS 536871968 536871968 536871968 0 0
      NO_NEW_PRIVS
      RESOLVE_EXEC "sh" "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
      SET_DUMPABLE
      READY
      WAIT_FIFO
      CLOSE_FDS 3
      EXEC ["sh"] ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","TERM=xterm"]
      "
    `);
  });

  it('creates the user namespace alone, then waits for the maps', () => {
    const ops = planCreate(rootless(), { ...ctx, rootless: true });
    expect(dump(ops).slice(1, 9)).toEqual([
      `UNSHARE ${CLONE_NEWUSER}`,
      `SYNC ${SyncKind.USERNS}`,
      `UNSHARE ${CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS}`,
      'OPEN_MOUNT_SOURCE "/sys"',
      'SETGID 0',
      'SETUID 0',
      'FORK 0',
      `SYNC ${SyncKind.CGROUP}`,
    ]);
    expect(find(ops, 'SETGROUPS_DENY')).toEqual([]);
  });

  it('bind-mounts devices instead of mknod', () => {
    const ops = planCreate(rootless(), { ...ctx, rootless: true });
    expect(find(ops, 'MKNOD')).toEqual([]);
    expect(find(ops, 'BIND_DEVICE').map((o) => o.args[1])).toEqual([
      '/dev/null',
      '/dev/zero',
      '/dev/full',
      '/dev/random',
      '/dev/urandom',
      '/dev/tty',
    ]);
  });

  it('bind-mounts /sys and remounts it with the requested flags', () => {
    const ops = planCreate(rootless(), { ...ctx, rootless: true });
    expect(dump(ops).filter((line) => line.includes('"/sys"'))).toEqual([
      'OPEN_MOUNT_SOURCE "/sys"',
      `MOUNT "/sys" "/sys" "" ${MS_BIND | MS_REC} "" 1`,
      `BIND_REMOUNT "/sys" ${MS_BIND | MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY} 0`,
    ]);
  });

  it('opens each bind source once, in the new mount namespace, before becoming its root', () => {
    const spec = rootless();
    spec.mounts!.push(
      { destination: '/a', type: 'bind', source: 'data' },
      { destination: '/b', source: '/sys', options: ['rbind'] },
    );
    const ops = dump(planCreate(spec, { ...ctx, bundle: '/bundle' }));
    const unshared = ops.indexOf(
      `UNSHARE ${CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS}`,
    );
    expect(ops.slice(unshared + 1, unshared + 5)).toEqual([
      'OPEN_MOUNT_SOURCE "/sys"',
      'OPEN_MOUNT_SOURCE "/bundle/data"',
      'SETGID 0',
      'SETUID 0',
    ]);
    // Without a user namespace the MOUNT ops resolve their sources themselves.
    const plain = exampleSpec();
    plain.mounts!.push({ destination: '/a', type: 'bind', source: '/data' });
    expect(find(planCreate(plain, ctx), 'OPEN_MOUNT_SOURCE')).toEqual([]);
  });

  it('skips setgroups when rootless, keeps it (empty) for a root-run user namespace', () => {
    expect(find(planCreate(rootless(), { ...ctx, rootless: true }), 'SETGROUPS')).toEqual([]);
    expect(find(planCreate(rootless(), ctx), 'SETGROUPS')).toEqual([op('SETGROUPS', [])]);
  });

  it('refuses additional groups when rootless', () => {
    const spec = rootless();
    spec.process!.user!.additionalGids = [0];
    expectPlanError(
      () => planCreate(spec, { ...ctx, rootless: true }),
      'USER_INVALID',
      'process.user.additionalGids: cannot set additional groups in a rootless container',
    );
  });
});

describe('planCreate: a runtime in a user namespace where setgroups is denied', () => {
  // `unshare --map-root-user runc run`: root of its namespace, setgroups
  // denied there (and so in any namespace made below it)
  it('leaves setgroups out and refuses additional groups, as for a rootless runtime', () => {
    const spec = headless();
    const denied = { ...ctx, setgroupsDenied: true, runtimeInUserNamespace: true };
    expect(find(planCreate(spec, denied), 'SETGROUPS')).toEqual([]);
    expect(find(planCreate(spec, ctx), 'SETGROUPS')).toEqual([op('SETGROUPS', [])]);
    spec.process!.user = { uid: 0, gid: 0, additionalGids: [10] };
    expectPlanError(
      () => planCreate(spec, denied),
      'USER_INVALID',
      'process.user.additionalGids: cannot set additional groups: setgroups(2) is denied in the user namespace the runtime runs in (/proc/self/setgroups says deny)',
    );
  });
});

describe('planCreate: namespaces', () => {
  it('joins namespaces by path before creating the rest; user first, mount last', () => {
    const spec = headless();
    spec.linux!.namespaces = [
      { type: 'pid' },
      { type: 'network', path: '/var/run/netns/n1' },
      { type: 'ipc', path: '/proc/42/ns/ipc' },
      { type: 'uts' },
      { type: 'mount' },
      { type: 'cgroup', path: '/proc/42/ns/cgroup' },
    ];
    expect(dump(planCreate(spec, ctx)).slice(1, 6)).toEqual([
      `JOIN_NAMESPACES [${CLONE_NEWNET},${CLONE_NEWIPC},${CLONE_NEWCGROUP}] ["/var/run/netns/n1","/proc/42/ns/ipc","/proc/42/ns/cgroup"]`,
      `UNSHARE ${CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWNS}`,
      'FORK 0',
      `SYNC ${SyncKind.CGROUP}`,
      'SCHED_AFFINITY "reset" hex:',
    ]);
  });

  it('joins a user namespace first and uses bind devices there', () => {
    const spec = headless();
    spec.linux!.namespaces = [
      { type: 'mount' },
      { type: 'network', path: '/proc/42/ns/net' },
      { type: 'user', path: '/proc/42/ns/user' },
    ];
    delete spec.hostname;
    const ops = planCreate(spec, ctx);
    expect(dump(ops).slice(1, 6)).toEqual([
      `JOIN_NAMESPACES [${CLONE_NEWUSER},${CLONE_NEWNET}] ["/proc/42/ns/user","/proc/42/ns/net"]`,
      `UNSHARE ${CLONE_NEWNS}`,
      // The namespace's root from here on: the host's root is unmapped there.
      'SETGID 0',
      'SETUID 0',
      'FORK 0',
    ]);
    expect(find(ops, 'MKNOD')).toEqual([]);
    expect(find(ops, 'BIND_DEVICE')).toHaveLength(6);
    // Ids are not checked against the maps of a joined namespace (unknown here).
    expect(find(ops, 'SETUID')).toEqual([op('SETUID', 0), op('SETUID', 0)]);
  });

  it('always forks, even without a pid namespace', () => {
    const ops = planCreate(minimal(), ctx);
    expect(dump(ops).slice(0, 4)).toEqual([
      'OPEN_FIFO "/run/runc-ts/c1/exec.fifo"',
      `UNSHARE ${CLONE_NEWNS}`,
      'FORK 0',
      'SYNC 3',
    ]);
  });

  it("without a mount namespace: mounts in the runtime's, propagation untouched, chroot", () => {
    for (const spec of [minimal({ linux: {} }), { ...minimal(), linux: undefined }]) {
      const ops = dump(planCreate(spec, ctx));
      expect(ops).toContain('ROOTFS "/bundle/rootfs" 0');
      expect(ops).toContain('CHROOT');
      expect(ops).not.toContain('PIVOT_ROOT');
      expect(ops.some((line) => line.startsWith('UNSHARE'))).toBe(false);
      // --no-pivot would move the rootfs over the host's "/": chroot too.
      const noPivot = names(planCreate(spec, { ...ctx, noPivot: true }));
      expect(noPivot).toContain('CHROOT');
      expect(noPivot).not.toContain('MOVE_ROOT');
    }
  });

  it.each(['maskedPaths', 'readonlyPaths'] as const)(
    'refuses %s without a mount namespace, as runc',
    (field) => {
      expectPlanError(
        () => planCreate(minimal({ linux: { [field]: ['/proc/kcore'] } }), ctx),
        'NAMESPACE_INVALID',
        `linux.${field}: unable to restrict sys entries without a private MNT namespace`,
      );
      // An empty list restricts nothing.
      expect(names(planCreate(minimal({ linux: { [field]: [] } }), ctx))).toContain('CHROOT');
    },
  );

  it('joins a mount namespace by path and pivots there', () => {
    const spec = minimal({
      linux: {
        namespaces: [{ type: 'mount', path: '/run/mntns/a' }],
        maskedPaths: ['/proc/kcore'],
      },
    });
    const ops = dump(planCreate(spec, ctx));
    expect(ops[1]).toBe(`JOIN_NAMESPACES [${CLONE_NEWNS}] ["/run/mntns/a"]`);
    expect(ops).toContain(`ROOTFS "/bundle/rootfs" ${MS_SLAVE | MS_REC}`);
    expect(ops).toContain('PIVOT_ROOT');
    expect(ops).toContain('MASK "/proc/kcore"');
    expect(names(planCreate(spec, { ...ctx, noPivot: true }))).toContain('MOVE_ROOT');
  });

  it('reports namespace validation errors', () => {
    const spec = headless();
    spec.linux!.namespaces!.push({ type: 'pid' });
    expectPlanError(
      () => planCreate(spec, ctx),
      'NAMESPACE_INVALID',
      'linux.namespaces[5]: duplicate namespace type "pid" (first at linux.namespaces[0])',
    );
  });

  it('checks process ids against a new user namespace’s maps', () => {
    const base = () => toRootless(headless(), { uid: 1000, gid: 1000 });
    const uid = base();
    uid.process!.user = { uid: 1, gid: 0 };
    expectPlanError(
      () => planCreate(uid, ctx),
      'USER_INVALID',
      "process.user.uid: uid 1 is not mapped in the container's user namespace (linux.uidMappings)",
    );
    const gid = base();
    gid.process!.user = { uid: 0, gid: 7 };
    expectPlanError(
      () => planCreate(gid, ctx),
      'USER_INVALID',
      "process.user.gid: gid 7 is not mapped in the container's user namespace (linux.gidMappings)",
    );
    const groups = base();
    groups.process!.user = { uid: 0, gid: 0, additionalGids: [0, 9] };
    expectPlanError(
      () => planCreate(groups, ctx),
      'USER_INVALID',
      "process.user.additionalGids[1]: gid 9 is not mapped in the container's user namespace (linux.gidMappings)",
    );
    const ranges = base();
    ranges.linux!.uidMappings = [
      { containerID: 0, hostID: 1000, size: 1 },
      { containerID: 1, hostID: 100000, size: 65536 },
    ];
    ranges.linux!.gidMappings = ranges.linux!.uidMappings;
    ranges.process!.user = { uid: 65536, gid: 1000, additionalGids: [5] };
    expect(find(planCreate(ranges, ctx), 'SETUID')).toEqual([op('SETUID', 0), op('SETUID', 65536)]);
    ranges.process!.user = { uid: 65537, gid: 0 };
    expectPlanError(
      () => planCreate(ranges, ctx),
      'USER_INVALID',
      "process.user.uid: uid 65537 is not mapped in the container's user namespace (linux.uidMappings)",
    );
  });
});

describe('planCreate: root filesystem', () => {
  it('uses MOVE_ROOT with --no-pivot', () => {
    const ops = names(planCreate(headless(), { ...ctx, noPivot: true }));
    expect(ops).toContain('MOVE_ROOT');
    expect(ops).not.toContain('PIVOT_ROOT');
    expect(ops.indexOf('MOVE_ROOT')).toBe(ops.indexOf('SYNC', ops.indexOf('ROOTFS')) + 1);
  });

  it.each([
    [undefined, MS_SLAVE | MS_REC],
    ['slave', MS_SLAVE],
    ['rslave', MS_SLAVE | MS_REC],
    ['private', MS_PRIVATE],
    ['rprivate', MS_PRIVATE | MS_REC],
    ['shared', MS_SHARED],
    ['rshared', MS_SHARED | MS_REC],
    ['unbindable', MS_UNBINDABLE],
    ['runbindable', MS_UNBINDABLE | MS_REC],
  ] as const)(
    'rootfsPropagation %s -> %i, applied again to / after the root switch',
    (propagation, flags) => {
      const spec = minimal();
      if (propagation) spec.linux!.rootfsPropagation = propagation;
      const ops = planCreate(spec, ctx);
      expect(find(ops, 'ROOTFS')).toEqual([op('ROOTFS', ctx.rootfs, flags)]);
      const again = ops.findIndex((o) => o.op === 'PROPAGATE' && o.args[0] === '/');
      if (propagation) {
        expect(ops[again]).toEqual(op('PROPAGATE', '/', flags));
        expect(ops[again - 1]?.op).toBe('PIVOT_ROOT');
      } else {
        expect(again).toBe(-1);
      }
    },
  );

  it('remounts only the root mount read-only, after masks, when root.readonly', () => {
    const ro = planCreate(headless(), ctx);
    const remounts = find(ro, 'REMOUNT').filter((o) => o.args[0] === '/');
    expect(remounts).toEqual([op('REMOUNT', '/', MS_BIND | MS_RDONLY)]);
    const ops = names(ro);
    expect(ops.lastIndexOf('MASK')).toBeLessThan(ops.lastIndexOf('REMOUNT'));
    const rw = headless();
    rw.root.readonly = false;
    expect(find(planCreate(rw, ctx), 'REMOUNT').filter((o) => o.args[0] === '/')).toEqual([]);
  });

  it('plans masked and read-only paths in order: read-only first', () => {
    const spec = minimal();
    spec.linux!.maskedPaths = ['/proc/kcore', '/proc/sys'];
    spec.linux!.readonlyPaths = ['/proc/sys', '/proc/bus'];
    expect(
      dump(planCreate(spec, ctx)).filter((l) => l.startsWith('MASK') || l.startsWith('READONLY')),
    ).toEqual([
      'READONLY "/proc/sys"',
      'READONLY "/proc/bus"',
      'MASK "/proc/kcore"',
      'MASK "/proc/sys"',
    ]);
  });

  it('rejects relative masked and read-only paths', () => {
    const masked = minimal();
    masked.linux!.maskedPaths = ['/proc/kcore', 'proc/keys'];
    expectPlanError(
      () => planCreate(masked, ctx),
      'PATH_INVALID',
      'linux.maskedPaths[1]: "proc/keys" must be an absolute path',
    );
    const ro = minimal();
    ro.linux!.readonlyPaths = ['sys'];
    expectPlanError(
      () => planCreate(ro, ctx),
      'PATH_INVALID',
      'linux.readonlyPaths[0]: "sys" must be an absolute path',
    );
  });
});

describe('planCreate: mounts', () => {
  const withMounts = (mounts: NonNullable<Spec['mounts']>, extra: Partial<PlanContext> = {}) =>
    dump(planCreate(minimal({ mounts }), { ...ctx, ...extra })).filter((line) =>
      /^(MOUNT|REMOUNT|BIND_REMOUNT|PROPAGATE|SETATTR|SYMLINK "(?!\/proc|pts))/.test(line),
    );

  it('mounts filesystems with their flags and data', () => {
    expect(
      withMounts([
        { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=1777'] },
        { destination: '/proc', type: 'proc' },
      ]),
    ).toEqual([
      `MOUNT "tmpfs" "/tmp" "tmpfs" ${MS_NOSUID} "mode=1777" 1`,
      'MOUNT "" "/proc" "proc" 0 "" 1',
    ]);
  });

  it('binds first, then remounts with the requested flags', () => {
    expect(
      withMounts([
        { destination: '/data', type: 'bind', source: '/srv/data', options: ['rbind', 'ro'] },
        { destination: '/a', source: '/srv/a', options: ['bind'] },
        { destination: '/b', type: 'none', source: '/srv/b', options: ['rbind', 'rw'] },
        { destination: '/c', type: 'bind', source: '/srv/c' },
        { destination: '/d', source: '/srv/d', options: ['bind', 'noatime', 'nosuid', 'rprivate'] },
      ]),
    ).toEqual([
      `MOUNT "/srv/data" "/data" "" ${MS_BIND | MS_REC} "" 1`,
      `BIND_REMOUNT "/data" ${MS_BIND | MS_RDONLY} 0`,
      `MOUNT "/srv/a" "/a" "" ${MS_BIND} "" 1`,
      `MOUNT "/srv/b" "/b" "" ${MS_BIND | MS_REC} "" 1`,
      `BIND_REMOUNT "/b" ${MS_BIND} ${MS_RDONLY}`,
      `MOUNT "/srv/c" "/c" "" ${MS_BIND} "" 1`,
      `MOUNT "/srv/d" "/d" "" ${MS_BIND} "" 1`,
      `BIND_REMOUNT "/d" ${MS_BIND | MS_NOATIME | MS_NOSUID} 0`,
      `PROPAGATE "/d" ${MS_PRIVATE | MS_REC}`,
    ]);
  });

  it('creates a file for file bind sources', () => {
    const isFile = (path: string) => path.endsWith('.conf');
    expect(
      withMounts(
        [
          { destination: '/etc/resolv.conf', source: '/run/resolv.conf', options: ['bind'] },
          { destination: '/var/lib', source: '/srv/lib', options: ['rbind'] },
        ],
        { sourceIsFile: isFile },
      ),
    ).toEqual([
      `MOUNT "/run/resolv.conf" "/etc/resolv.conf" "" ${MS_BIND} "" 2`,
      `MOUNT "/srv/lib" "/var/lib" "" ${MS_BIND | MS_REC} "" 1`,
    ]);
  });

  it('resolves relative bind sources against the bundle', () => {
    const seen: string[] = [];
    expect(
      withMounts([{ destination: '/x', source: 'data/../x', options: ['bind'] }], {
        bundle: '/b',
        sourceIsFile: (p) => {
          seen.push(p);
          return false;
        },
      }),
    ).toEqual([`MOUNT "/b/x" "/x" "" ${MS_BIND} "" 1`]);
    expect(seen).toEqual(['/b/x']);
  });

  it('cleans destinations and takes relative ones from /', () => {
    expect(
      withMounts([
        { destination: '/run//lock/', type: 'tmpfs' },
        { destination: 'var/tmp', type: 'tmpfs' },
      ]),
    ).toEqual(['MOUNT_TMPFS "" "/run/lock" 0 "" 0', 'MOUNT_TMPFS "" "/var/tmp" 0 "" 0']);
  });

  it('tmpfs: MOUNT_TMPFS without mode= (the executor lends it the covered directory mode) or with tmpcopyup', () => {
    expect(
      withMounts([
        { destination: '/a', type: 'tmpfs', source: 'shm', options: ['mode=1770', 'size=1m'] },
        { destination: '/b', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'size=1m'] },
        {
          destination: '/c',
          type: 'tmpfs',
          source: 'tmpfs',
          options: ['ro', 'nodev', 'mode=755', 'tmpcopyup'],
        },
      ]),
    ).toEqual([
      'MOUNT "shm" "/a" "tmpfs" 0 "mode=1770,size=1m" 1',
      `MOUNT_TMPFS "tmpfs" "/b" ${MS_NOSUID} "size=1m" 0`,
      `MOUNT_TMPFS "tmpfs" "/c" ${MS_RDONLY | MS_NODEV} "mode=755" 1`,
    ]);
  });

  it('a read-only /dev is mounted read-write and made read-only after the devices and the console', () => {
    const spec = minimal({
      mounts: [
        {
          destination: '/dev',
          type: 'tmpfs',
          source: 'tmpfs',
          options: ['nosuid', 'strictatime', 'mode=755', 'ro'],
        },
        { destination: '/dev/pts', type: 'devpts', source: 'devpts' },
      ],
    });
    spec.process!.terminal = true;
    const lines = dump(planCreate(spec, { ...ctx, consoleSocket: '/run/console.sock' }));
    expect(lines).toContain(`MOUNT "tmpfs" "/dev" "tmpfs" ${MS_NOSUID | (1 << 24)} "mode=755" 1`);
    const remount = `REMOUNT "/dev" ${MS_BIND | MS_RDONLY | MS_NOSUID | (1 << 24)}`;
    expect(lines.indexOf(remount)).toBeGreaterThan(lines.indexOf('MOUNT_CONSOLE'));
    expect(lines.indexOf(remount)).toBeGreaterThan(
      lines.findIndex((line) => line.startsWith('MKNOD "/dev/null"')),
    );
    // a read-write /dev gets no remount
    spec.mounts![0]!.options = ['nosuid'];
    expect(dump(planCreate(spec, ctx)).filter((l) => l.startsWith('REMOUNT "/dev"'))).toEqual([]);
  });

  it('applies propagation and recursive attributes after the mount', () => {
    expect(
      withMounts([
        {
          destination: '/m',
          source: '/srv/m',
          options: ['rbind', 'rslave', 'rro', 'rnosuid', 'rnoatime', 'shared'],
        },
      ]),
    ).toEqual([
      `MOUNT "/srv/m" "/m" "" ${MS_BIND | MS_REC} "" 1`,
      `PROPAGATE "/m" ${MS_SLAVE | MS_REC}`,
      `PROPAGATE "/m" ${MS_SHARED}`,
      `SETATTR "/m" ${0x1 | 0x2 | 0x10} ${0x70} 1`,
    ]);
  });

  it('mounts cgroup2 on a v2 host', () => {
    expect(
      withMounts(
        [
          {
            destination: '/sys/fs/cgroup',
            type: 'cgroup',
            source: 'cgroup',
            options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'],
          },
        ],
        { cgroupV2: true },
      ),
    ).toEqual([
      // Read-only by a remount (a read-only cgroup2 mount is EBUSY in a user namespace).
      `MOUNT "cgroup" "/sys/fs/cgroup" "cgroup2" ${MS_NOSUID | MS_NOEXEC | MS_NODEV | (1 << 21)} "" 1`,
      `REMOUNT "/sys/fs/cgroup" ${MS_BIND | MS_NOSUID | MS_NOEXEC | MS_NODEV | (1 << 21) | MS_RDONLY}`,
    ]);
  });

  it('mounts a tmpfs and one cgroup per hierarchy on a v1 host', () => {
    const flags = MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY;
    const base = MS_NOSUID | MS_NODEV | MS_NOEXEC;
    expect(
      withMounts(
        [
          {
            destination: '/sys/fs/cgroup/',
            type: 'cgroup',
            source: 'cgroup',
            options: ['nosuid', 'noexec', 'nodev', 'ro', 'rslave'],
          },
        ],
        { cgroupV1Controllers: ['cpu,cpuacct', 'memory', 'name=systemd'] },
      ),
    ).toEqual([
      `MOUNT "tmpfs" "/sys/fs/cgroup" "tmpfs" ${base} "mode=755" 1`,
      `MOUNT "cgroup" "/sys/fs/cgroup/cpu,cpuacct" "cgroup" ${flags} "cpu,cpuacct" 1`,
      `MOUNT "cgroup" "/sys/fs/cgroup/memory" "cgroup" ${flags} "memory" 1`,
      `MOUNT "cgroup" "/sys/fs/cgroup/systemd" "cgroup" ${flags} "name=systemd" 1`,
      'SYMLINK "cpu,cpuacct" "/sys/fs/cgroup/cpu"',
      'SYMLINK "cpu,cpuacct" "/sys/fs/cgroup/cpuacct"',
      `REMOUNT "/sys/fs/cgroup" ${base | MS_RDONLY}`,
      `PROPAGATE "/sys/fs/cgroup" ${MS_SLAVE | MS_REC}`,
    ]);
  });

  describe('without a cgroup namespace, the container cgroup is bound from the host', () => {
    const flags = MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY;
    const base = MS_NOSUID | MS_NODEV | MS_NOEXEC;
    const cgroupMount = {
      destination: '/sys/fs/cgroup',
      type: 'cgroup',
      source: 'cgroup',
      options: ['nosuid', 'noexec', 'nodev', 'ro'],
    };
    const cgroupPaths = {
      cpu: '/sys/fs/cgroup/cpu,cpuacct/c1',
      cpuacct: '/sys/fs/cgroup/cpu,cpuacct/c1',
      memory: '/sys/fs/cgroup/memory/c1',
      'name=systemd': '/sys/fs/cgroup/systemd/c1',
      '': '/sys/fs/cgroup/unified/c1',
    };
    const plan = (namespaces: string[], extra: Partial<PlanContext>) =>
      dump(
        planCreate(
          minimal({
            mounts: [cgroupMount],
            linux: {
              namespaces: namespaces.map((type) => ({ type }) as { type: 'mount' }),
              ...(namespaces.includes('user')
                ? {
                    uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }],
                    gidMappings: [{ containerID: 0, hostID: 1000, size: 1 }],
                  }
                : {}),
            },
          }),
          { ...ctx, cgroupPaths, ...extra },
        ),
      ).filter((line) => /^(MOUNT|REMOUNT) "(tmpfs|cgroup|\/sys)/.test(line));

    it('v1: binds each hierarchy it has a directory in, skips the others', () => {
      expect(
        plan(['mount'], { cgroupV1Controllers: ['cpu,cpuacct', 'memory', 'pids', 'name=systemd'] }),
      ).toEqual([
        `MOUNT "tmpfs" "/sys/fs/cgroup" "tmpfs" ${base} "mode=755" 1`,
        'MOUNT "/sys/fs/cgroup/cpu,cpuacct/c1" "/sys/fs/cgroup/cpu,cpuacct" "" 4096 "" 1',
        `REMOUNT "/sys/fs/cgroup/cpu,cpuacct" ${MS_BIND | flags}`,
        'MOUNT "/sys/fs/cgroup/memory/c1" "/sys/fs/cgroup/memory" "" 4096 "" 1',
        `REMOUNT "/sys/fs/cgroup/memory" ${MS_BIND | flags}`,
        'MOUNT "/sys/fs/cgroup/systemd/c1" "/sys/fs/cgroup/systemd" "" 4096 "" 1',
        `REMOUNT "/sys/fs/cgroup/systemd" ${MS_BIND | flags}`,
        `REMOUNT "/sys/fs/cgroup" ${base | MS_RDONLY}`,
      ]);
    });

    it('v1 with a cgroup namespace: cgroup mounts, whose root is the container cgroup', () => {
      expect(plan(['mount', 'cgroup'], { cgroupV1Controllers: ['memory'] })).toContain(
        `MOUNT "cgroup" "/sys/fs/cgroup/memory" "cgroup" ${flags} "memory" 1`,
      );
    });

    it('v2: a cgroup2 mount, except in a user namespace, where it would be refused', () => {
      const cgroup2 = [
        `MOUNT "cgroup" "/sys/fs/cgroup" "cgroup2" ${flags & ~MS_RDONLY} "" 1`,
        `REMOUNT "/sys/fs/cgroup" ${MS_BIND | flags}`,
      ];
      expect(plan(['mount'], { cgroupV2: true })).toEqual(cgroup2);
      expect(plan(['mount', 'user'], { cgroupV2: true })).toEqual([
        'MOUNT "/sys/fs/cgroup/unified/c1" "/sys/fs/cgroup" "" 4096 "" 1',
        `REMOUNT "/sys/fs/cgroup" ${MS_BIND | flags}`,
      ]);
      expect(plan(['mount', 'user', 'cgroup'], { cgroupV2: true })).toEqual(cgroup2);
    });
  });

  it('mounts only the tmpfs on a v1 host with no controllers given, rw when not ro', () => {
    expect(withMounts([{ destination: '/sys/fs/cgroup', type: 'cgroup' }])).toEqual([
      `MOUNT "tmpfs" "/sys/fs/cgroup" "tmpfs" ${MS_NOSUID | MS_NODEV | MS_NOEXEC} "mode=755" 1`,
    ]);
  });

  it('adds the SELinux mount label to filesystem mounts when SELinux is on', () => {
    const spec = minimal({
      mounts: [
        { destination: '/tmp', type: 'tmpfs', options: ['size=1m', 'mode=1777'] },
        { destination: '/proc', type: 'proc' },
        { destination: '/b', source: '/srv/b', options: ['bind'] },
      ],
    });
    spec.linux!.mountLabel = 'system_u:object_r:container_file_t:s0';
    const on = find(planCreate(spec, { ...ctx, selinuxEnabled: true }), 'MOUNT');
    expect(on.map((o) => o.args[4])).toEqual([
      'size=1m,mode=1777,context="system_u:object_r:container_file_t:s0"',
      '',
      '',
    ]);
    const off = find(planCreate(spec, ctx), 'MOUNT');
    expect(off.map((o) => o.args[4])).toEqual(['size=1m,mode=1777', '', '']);
  });

  it.each([
    '/proc/cpuinfo',
    '/proc/meminfo',
    '/proc/stat',
    '/proc/swaps',
    '/proc/uptime',
    '/proc/loadavg',
    '/proc/diskstats',
    '/proc/slabinfo',
    '/proc/net/dev',
    '/proc/sys/kernel/ns_last_pid',
  ])('allows the lxcfs file %s under /proc', (destination) => {
    expect(
      withMounts([{ destination, source: `/var/lib/lxcfs${destination}`, options: ['bind'] }]),
    ).toHaveLength(1);
  });

  const cases: [string, NonNullable<Spec['mounts']>[number], PlanErrorCode, string][] = [
    [
      'a mount inside /proc',
      { destination: '/proc/self/attr', source: '/x', options: ['bind'] },
      'MOUNT_INVALID',
      'mounts[0].destination: "/proc/self/attr" cannot be mounted because it is inside /proc',
    ],
    [
      'a sneaky path inside /proc',
      { destination: '/proc/../proc/sys', type: 'tmpfs' },
      'MOUNT_INVALID',
      'mounts[0].destination: "/proc/sys" cannot be mounted because it is inside /proc',
    ],
    [
      'a non-proc filesystem on /proc',
      { destination: '/proc', type: 'tmpfs' },
      'MOUNT_INVALID',
      'mounts[0].type: /proc can only be mounted with type "proc", not "tmpfs"',
    ],
    [
      'a bind mount without source',
      { destination: '/x', options: ['bind'] },
      'MOUNT_INVALID',
      'mounts[0].source: a bind mount needs a source',
    ],
    [
      'a relative bind source without bundle',
      { destination: '/x', source: 'x', options: ['bind'] },
      'MOUNT_INVALID',
      'mounts[0].source: relative bind source "x" needs the bundle directory',
    ],
    [
      'a filesystem mount without type',
      { destination: '/x', source: 'x' },
      'MOUNT_INVALID',
      'mounts[0].type: a mount that is not a bind mount (options bind/rbind) needs a filesystem type',
    ],
    [
      'a filesystem mount of type none',
      { destination: '/x', source: 'x', type: 'none' },
      'MOUNT_INVALID',
      'mounts[0].type: a mount that is not a bind mount (options bind/rbind) needs a filesystem type',
    ],
    [
      'uid mappings without gid mappings',
      {
        destination: '/x',
        source: '/x',
        options: ['bind'],
        uidMappings: [{ containerID: 0, hostID: 1, size: 1 }],
      },
      'MOUNT_INVALID',
      'mounts[0].gidMappings: an id-mapped mount needs both uidMappings and gidMappings',
    ],
    [
      'gid mappings without uid mappings',
      {
        destination: '/x',
        source: '/x',
        options: ['bind'],
        gidMappings: [{ containerID: 0, hostID: 1, size: 1 }],
      },
      'MOUNT_INVALID',
      'mounts[0].uidMappings: an id-mapped mount needs both uidMappings and gidMappings',
    ],
    [
      'idmap without mappings or user namespace',
      { destination: '/x', source: '/x', options: ['bind', 'idmap'] },
      'MOUNT_INVALID',
      `mounts[0].options[1]: "idmap" without uidMappings and gidMappings takes the container's user namespace mapping, but the container has no user namespace`,
    ],
    [
      'ridmap on a filesystem mount',
      { destination: '/x', type: 'tmpfs', options: ['ridmap'] },
      'MOUNT_INVALID',
      'mounts[0].options[0]: id-mapped mounts are only supported for bind mounts (options bind or rbind)',
    ],
    [
      'tmpcopyup on a bind mount',
      { destination: '/x', source: '/x', options: ['rbind', 'tmpcopyup'] },
      'MOUNT_INVALID',
      'mounts[0].options[1]: "tmpcopyup" copies the covered directory into a new tmpfs: it applies to tmpfs mounts only',
    ],
    [
      'tmpcopyup on a filesystem that is not tmpfs',
      { destination: '/x', type: 'proc', source: 'proc', options: ['tmpcopyup'] },
      'MOUNT_INVALID',
      'mounts[0].options[0]: "tmpcopyup" copies the covered directory into a new tmpfs: it applies to tmpfs mounts only',
    ],
  ];
  it.each(cases)('rejects %s', (_name, mount, code, message) => {
    expectPlanError(() => planCreate(minimal({ mounts: [mount] }), ctx), code, message);
  });
});

describe('planCreate: devices', () => {
  it('creates default and config devices after the mounts', () => {
    const spec = headless();
    spec.linux!.devices = [{ type: 'c', path: '/dev/fuse', major: 10, minor: 229 }];
    const ops = planCreate(spec, ctx);
    const mknod = find(ops, 'MKNOD').map((o) => o.args[0]);
    expect(mknod).toEqual([
      '/dev/null',
      '/dev/zero',
      '/dev/full',
      '/dev/random',
      '/dev/urandom',
      '/dev/tty',
      '/dev/fuse',
    ]);
    const list = names(ops);
    expect(list.lastIndexOf('MOUNT')).toBeLessThan(list.indexOf('MKNOD'));
    expect(dump(ops)).toContain('SYMLINK "pts/ptmx" "/dev/ptmx"');
  });

  it('bind-mounts the devices when the runtime itself runs in a user namespace (rootless podman)', () => {
    const spec = headless();
    spec.linux!.devices = [{ type: 'c', path: '/dev/fuse', major: 10, minor: 229 }];
    const ops = planCreate(spec, { ...ctx, runtimeInUserNamespace: true });
    expect(find(ops, 'MKNOD')).toEqual([]);
    expect(find(ops, 'BIND_DEVICE').map((o) => o.args[1])).toEqual([
      '/dev/null',
      '/dev/zero',
      '/dev/full',
      '/dev/random',
      '/dev/urandom',
      '/dev/tty',
      '/dev/fuse',
    ]);
  });

  it('creates devices even without a /dev mount, as runc does', () => {
    const ops = planCreate(minimal(), ctx);
    expect(find(ops, 'MKNOD')).toHaveLength(6);
  });

  it('creates no devices or symlinks when /dev is a bind mount', () => {
    for (const mount of [
      { destination: '/dev', source: '/dev', options: ['rbind'] },
      { destination: '/dev/', source: '/dev', type: 'bind' },
    ]) {
      const spec = minimal({ mounts: [mount] });
      spec.linux!.devices = [{ type: 'c', path: '/dev/fuse', major: 10, minor: 229 }];
      const ops = planCreate(spec, ctx);
      expect(find(ops, 'MKNOD')).toEqual([]);
      expect(find(ops, 'SYMLINK')).toEqual([]);
    }
  });

  it('adds /dev/core when the host has /proc/kcore', () => {
    expect(dump(planCreate(minimal(), { ...ctx, hostHasKcore: true }))).toContain(
      'SYMLINK "/proc/kcore" "/dev/core"',
    );
  });

  it('reports device errors', () => {
    const spec = minimal();
    spec.linux!.devices = [{ type: 'c', path: '/dev/x' }];
    expectPlanError(
      () => planCreate(spec, ctx),
      'DEVICE_INVALID',
      'linux.devices[0]: major and minor are required for a device of type "c"',
    );
  });
});

describe('planCreate: hostname, domainname, sysctl', () => {
  it('sets hostname and domainname after pivot_root', () => {
    const spec = minimal({ hostname: 'h', domainname: 'example.test' });
    spec.linux!.namespaces!.push({ type: 'uts' });
    const lines = dump(planCreate(spec, ctx));
    const pivot = lines.indexOf('PIVOT_ROOT');
    expect(lines.slice(pivot + 1, pivot + 3)).toEqual([
      'HOSTNAME "h"',
      'DOMAINNAME "example.test"',
    ]);
  });

  it('treats empty names as unset', () => {
    const ops = names(planCreate(minimal({ hostname: '', domainname: '' }), ctx));
    expect(ops).not.toContain('HOSTNAME');
    expect(ops).not.toContain('DOMAINNAME');
  });

  it.each(['hostname', 'domainname'] as const)('needs a UTS namespace for %s', (field) => {
    const message = `${field}: ${field} is set but the container has no UTS namespace (add {"type": "uts"} to linux.namespaces)`;
    expectPlanError(() => planCreate(minimal({ [field]: 'x' }), ctx), 'HOSTNAME_INVALID', message);
  });

  it.each([
    ['hostname', 'HOSTNAME'],
    ['domainname', 'DOMAINNAME'],
  ] as const)('sets %s in a UTS namespace joined by path, as runc', (field, name) => {
    const joined = minimal({ [field]: 'x' });
    joined.linux!.namespaces!.push({ type: 'uts', path: '/proc/1/ns/uts' });
    const ops = dump(planCreate(joined, ctx));
    expect(ops[1]).toBe(`JOIN_NAMESPACES [${CLONE_NEWUTS}] ["/proc/1/ns/uts"]`);
    expect(ops).toContain(`${name} "x"`);
  });

  it('writes sysctls sorted by key, before the read-only paths', () => {
    const spec = headless();
    spec.linux!.sysctl = {
      'net.ipv4.ip_forward': '1',
      'kernel.shmmax': '1000',
      'fs.mqueue.msg_max': '20',
      'net.core.somaxconn': '4096',
    };
    const lines = dump(planCreate(spec, ctx));
    const sysctls = lines.filter((l) => l.startsWith('SYSCTL'));
    expect(sysctls).toEqual([
      'SYSCTL "fs.mqueue.msg_max" "20"',
      'SYSCTL "kernel.shmmax" "1000"',
      'SYSCTL "net.core.somaxconn" "4096"',
      'SYSCTL "net.ipv4.ip_forward" "1"',
    ]);
    expect(lines.indexOf(sysctls.at(-1)!)).toBeLessThan(lines.indexOf('READONLY "/proc/sys"'));
  });

  it('accepts kernel.domainname with a UTS namespace and net.* in a joined one', () => {
    const spec = minimal();
    spec.linux!.namespaces!.push({ type: 'uts' }, { type: 'network', path: '/proc/9/ns/net' });
    spec.linux!.sysctl = { 'kernel.domainname': 'x', 'net.ipv4.ip_forward': '1' };
    expect(find(planCreate(spec, ctx), 'SYSCTL')).toHaveLength(2);
  });

  it.each([
    [
      'net.ipv4.ip_forward',
      'linux.sysctl["net.ipv4.ip_forward"]: sysctl "net.ipv4.ip_forward" belongs to the network namespace, which linux.namespaces does not have',
    ],
    [
      'kernel.msgmax',
      'linux.sysctl["kernel.msgmax"]: sysctl "kernel.msgmax" belongs to the ipc namespace, which linux.namespaces does not have',
    ],
    [
      'fs.mqueue.queues_max',
      'linux.sysctl["fs.mqueue.queues_max"]: sysctl "fs.mqueue.queues_max" belongs to the ipc namespace, which linux.namespaces does not have',
    ],
    [
      'kernel.domainname',
      'linux.sysctl["kernel.domainname"]: sysctl "kernel.domainname" belongs to the uts namespace, which linux.namespaces does not have',
    ],
    ['kernel.hostname', 'linux.sysctl["kernel.hostname"]: use the "hostname" field instead'],
    [
      'vm.swappiness',
      'linux.sysctl["vm.swappiness"]: sysctl "vm.swappiness" is not in a separate kernel namespace: setting it would change the host',
    ],
    [
      'net/../../etc',
      'linux.sysctl["net/../../etc"]: a sysctl name is dot-separated words (letters, digits, _ and -)',
    ],
    [
      'net..ipv4',
      'linux.sysctl["net..ipv4"]: a sysctl name is dot-separated words (letters, digits, _ and -)',
    ],
    [
      '.net',
      'linux.sysctl[".net"]: a sysctl name is dot-separated words (letters, digits, _ and -)',
    ],
  ])('rejects sysctl %s', (key, message) => {
    const spec = minimal();
    spec.linux!.sysctl = { [key]: '1' };
    expectPlanError(() => planCreate(spec, ctx), 'SYSCTL_INVALID', message);
  });
});

describe('planCreate: process', () => {
  it('uses a console when terminal and a console socket, setsid otherwise', () => {
    const tty = planCreate(exampleSpec(), ctx);
    const list = names(tty);
    expect(find(tty, 'CONSOLE')).toEqual([op('CONSOLE', '/tmp/console.sock')]);
    expect(list).not.toContain('SETSID');
    // After pivot_root (the container's /dev/ptmx), where SETSID would be.
    expect(list.indexOf('CONSOLE')).toBe(list.indexOf('KEYRING') + 1);
    expect(list.indexOf('CONSOLE')).toBeGreaterThan(list.indexOf('PIVOT_ROOT'));

    const plain = names(planCreate(headless(), ctx));
    expect(plain).toContain('SETSID');
    expect(plain).not.toContain('CONSOLE');
    const noSocket = names(planCreate(headless(), { ...ctx, consoleSocket: undefined }));
    expect(noSocket).toContain('SETSID');
  });

  it('needs a console socket for a terminal unless run in the foreground', () => {
    expectPlanError(
      () => planCreate(exampleSpec(), { ...ctx, consoleSocket: undefined }),
      'PROCESS_INVALID',
      'process.terminal: cannot allocate tty if runc will detach without setting console socket',
    );
    const proxied = dump(
      planCreate(exampleSpec(), { ...ctx, consoleSocket: undefined, waitForInit: true }),
    );
    expect(proxied).toContain('FORK 2');
    expect(proxied).toContain('CONSOLE ""');
    expect(proxied).not.toContain('SETSID');
  });

  it('sets the console size after CONSOLE', () => {
    const spec = exampleSpec();
    spec.process!.consoleSize = { height: 30, width: 100 };
    const lines = dump(planCreate(spec, { ...ctx, consoleSocket: '/run/c.sock' }));
    expect(lines.indexOf('WINSIZE 30 100')).toBe(lines.indexOf('CONSOLE "/run/c.sock"') + 1);
  });

  it('mounts the pty on /dev/console after CONSOLE (and WINSIZE), only with a terminal', () => {
    const spec = exampleSpec();
    spec.process!.consoleSize = { height: 30, width: 100 };
    const list = names(planCreate(spec, ctx));
    expect(list.indexOf('MOUNT_CONSOLE')).toBe(list.indexOf('WINSIZE') + 1);
    expect(names(planCreate(exampleSpec(), ctx)).indexOf('MOUNT_CONSOLE')).toBe(
      names(planCreate(exampleSpec(), ctx)).indexOf('CONSOLE') + 1,
    );
    expect(names(planCreate(headless(), ctx))).not.toContain('MOUNT_CONSOLE');
  });

  it('runs createContainer hooks before pivot_root and startContainer hooks after start', () => {
    const spec = headless();
    spec.hooks = {
      createContainer: [
        { path: '/usr/bin/mount-hook', args: ['mount-hook', '-x'], env: ['A=1'], timeout: 5 },
      ],
      startContainer: [{ path: '/bin/refresh' }],
    };
    const lines = dump(planCreate(spec, ctx));
    const at = (prefix: string) => lines.findIndex((line) => line.startsWith(prefix));
    expect(lines[at('HOOK "createContainer')]).toBe(
      'HOOK "createContainer hook #0 (/usr/bin/mount-hook)" "/usr/bin/mount-hook" ["mount-hook","-x"] ["A=1"] 5',
    );
    expect(at('SYNC 2')).toBeLessThan(at('SYNC 4'));
    expect(at('SYNC 4')).toBeLessThan(at('HOOK "createContainer'));
    expect(at('HOOK "createContainer')).toBeLessThan(at('PIVOT_ROOT'));
    expect(lines[at('HOOK "startContainer')]).toBe(
      `HOOK "startContainer hook #0 (/bin/refresh)" "/bin/refresh" ["/bin/refresh"] ${JSON.stringify(spec.process!.env)} 0`,
    );
    expect(at('WAIT_FIFO')).toBeLessThan(at('HOOK "startContainer'));
    expect(at('HOOK "startContainer')).toBeLessThan(at('CLOSE_FDS'));
  });

  it('asks for the state only when a hook runs inside', () => {
    expect(dump(planCreate(headless(), ctx))).not.toContain('SYNC 4');
  });

  it('joins a session keyring unless --no-new-keyring', () => {
    expect(find(planCreate(headless(), ctx), 'KEYRING')).toEqual([op('KEYRING', '_ses.c1')]);
    expect(find(planCreate(headless(), { ...ctx, noNewKeyring: true }), 'KEYRING')).toEqual([]);
  });

  it('closes fds above the preserved ones', () => {
    expect(find(planCreate(headless(), ctx), 'CLOSE_FDS')).toEqual([op('CLOSE_FDS', 3)]);
    expect(find(planCreate(headless(), { ...ctx, preserveFds: 2 }), 'CLOSE_FDS')).toEqual([
      op('CLOSE_FDS', 5),
    ]);
    expectPlanError(
      () => planCreate(headless(), { ...ctx, preserveFds: -1 }),
      'PROCESS_INVALID',
      '--preserve-fds must be a non-negative integer, got -1',
      '',
    );
  });

  it('sets credentials with keepcaps around them, then capabilities', () => {
    const spec = headless();
    spec.process!.user = { uid: 1000, gid: 100, additionalGids: [5, 6], umask: 0o77 };
    spec.process!.capabilities = {
      bounding: ['CAP_CHOWN', 'CAP_KILL'],
      effective: ['CAP_KILL'],
      permitted: ['CAP_KILL'],
      inheritable: ['CAP_CHOWN'],
      ambient: ['CAP_KILL'],
    };
    const lines = dump(planCreate(spec, ctx));
    const start = lines.indexOf('KEEPCAPS 1');
    expect(lines[start - 1]).toBe('CHDIR "/"');
    expect(lines.slice(start, start + 8)).toEqual([
      'KEEPCAPS 1',
      'SETGROUPS [5,6]',
      'SETGID 100',
      'SETUID 1000',
      'KEEPCAPS 0',
      'CAPS 33 32 32 1 0',
      'NO_NEW_PRIVS',
      'RESOLVE_EXEC "sh" "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"',
    ]);
    expect(lines).toContain(`UMASK ${0o77}`);
  });

  it('defaults: uid/gid 0, umask 022, no capabilities, empty env, default PATH', () => {
    const ops = planCreate(minimal(), ctx);
    const lines = dump(ops);
    expect(lines).toContain('SETUID 0');
    expect(lines).toContain('SETGID 0');
    expect(lines).toContain('SETGROUPS []');
    expect(lines).toContain(`UMASK ${0o22}`);
    expect(lines).toContain('CAPS 0 0 0 0 0');
    expect(lines).not.toContain('NO_NEW_PRIVS');
    expect(find(ops, 'RESOLVE_EXEC')).toEqual([op('RESOLVE_EXEC', '/bin/true', DEFAULT_PATH)]);
    expect(find(ops, 'EXEC')).toEqual([op('EXEC', ['/bin/true'], [])]);
    expect(lines.slice(-5)).toEqual([
      `RESOLVE_EXEC "/bin/true" "${DEFAULT_PATH}"`,
      'READY',
      'WAIT_FIFO',
      'CLOSE_FDS 3',
      'EXEC ["/bin/true"] []',
    ]);
  });

  it('resolves the program with the last PATH of process.env', () => {
    const spec = minimal();
    spec.process!.args = ['app', '--flag'];
    spec.process!.env = ['PATH=/a', 'X=1', 'PATH=/b:/c', 'PATHX=/nope'];
    expect(find(planCreate(spec, ctx), 'RESOLVE_EXEC')).toEqual([
      op('RESOLVE_EXEC', 'app', '/b:/c'),
    ]);
    expect(find(planCreate(spec, ctx), 'EXEC')).toEqual([
      op('EXEC', ['app', '--flag'], ['PATH=/b:/c', 'X=1', 'PATHX=/nope']),
    ]);
  });

  it('plans rlimits, oom score, personality, scheduler, ioprio and LSM labels before creds', () => {
    const spec = minimal();
    spec.process!.rlimits = [
      { type: 'RLIMIT_NOFILE', soft: 1024, hard: 4096 },
      { type: 'RLIMIT_CORE', soft: 2 ** 64, hard: 2 ** 64 },
    ];
    spec.process!.oomScoreAdj = -999;
    spec.linux!.personality = { domain: 'LINUX32' };
    spec.process!.scheduler = {
      policy: 'SCHED_FIFO',
      priority: 10,
      flags: ['SCHED_FLAG_RESET_ON_FORK', 'SCHED_FLAG_UTIL_CLAMP_MAX'],
    };
    spec.process!.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 4 };
    spec.process!.apparmorProfile = 'runc-ts-default';
    spec.process!.selinuxLabel = 'system_u:system_r:container_t:s0';
    const lines = dump(planCreate(spec, ctx));
    const start = lines.indexOf('SETSID') + 1;
    expect(lines.slice(start, start + 9)).toEqual([
      'RLIMIT 7 1024 4096',
      'RLIMIT 4 18446744073709551615 18446744073709551615',
      'OOM_SCORE_ADJ "-999"',
      'PERSONALITY 8',
      `SCHED 1 ${0x01 | 0x40} 0 10 0 0 0`,
      `IOPRIO ${(2 << 13) | 4}`,
      'APPARMOR "runc-ts-default"',
      'SELINUX_LABEL "system_u:system_r:container_t:s0"',
      'DEFAULT_HOME 0',
    ]);
  });

  it.each([
    [{ policy: 'SCHED_OTHER', nice: -5 }, 'SCHED 0 0 18446744073709551611 0 0 0 0'],
    [{ policy: 'SCHED_BATCH' }, 'SCHED 3 0 0 0 0 0 0'],
    [{ policy: 'SCHED_IDLE' }, 'SCHED 5 0 0 0 0 0 0'],
    [{ policy: 'SCHED_ISO' }, 'SCHED 4 0 0 0 0 0 0'],
    [{ policy: 'SCHED_RR', priority: 1 }, 'SCHED 2 0 0 1 0 0 0'],
    [
      {
        policy: 'SCHED_DEADLINE',
        runtime: 10_000_000,
        deadline: 20_000_000,
        period: 30_000_000,
        flags: [
          'SCHED_FLAG_RECLAIM',
          'SCHED_FLAG_DL_OVERRUN',
          'SCHED_FLAG_KEEP_POLICY',
          'SCHED_FLAG_KEEP_PARAMS',
          'SCHED_FLAG_UTIL_CLAMP_MIN',
        ],
      },
      `SCHED 6 ${0x2 | 0x4 | 0x8 | 0x10 | 0x20} 0 0 10000000 20000000 30000000`,
    ],
  ] as const)('schedules %j', (scheduler, line) => {
    const spec = minimal();
    spec.process!.scheduler = structuredClone(scheduler) as never;
    expect(dump(planCreate(spec, ctx))).toContain(line);
  });

  it.each([
    ['IOPRIO_CLASS_RT', 0, (1 << 13) | 0],
    ['IOPRIO_CLASS_BE', 7, (2 << 13) | 7],
    ['IOPRIO_CLASS_IDLE', undefined, 3 << 13],
  ] as const)('io priority %s/%s', (cls, priority, value) => {
    const spec = minimal();
    spec.process!.ioPriority = { class: cls, priority };
    expect(find(planCreate(spec, ctx), 'IOPRIO')).toEqual([op('IOPRIO', value)]);
  });

  it('defaults the personality domain to LINUX', () => {
    const spec = minimal();
    spec.linux!.personality = {};
    expect(find(planCreate(spec, ctx), 'PERSONALITY')).toEqual([op('PERSONALITY', 0)]);
  });

  it('reports process errors', () => {
    const cases: [(spec: Spec) => void, PlanErrorCode, string][] = [
      [
        (s) => {
          delete s.process;
        },
        'PROCESS_INVALID',
        'process: required to create a container',
      ],
      [
        (s) => {
          delete s.process!.args;
        },
        'PROCESS_INVALID',
        'process.args: must name the program to run',
      ],
      [
        (s) => {
          s.process!.args = [];
        },
        'PROCESS_INVALID',
        'process.args: must name the program to run',
      ],
      [
        (s) => {
          s.process!.args = [''];
        },
        'PROCESS_INVALID',
        'process.args[0]: must not be empty',
      ],
      [
        (s) => {
          s.process!.cwd = 'home';
        },
        'PROCESS_INVALID',
        'process.cwd: "home" must be an absolute path',
      ],
      [
        (s) => {
          s.process!.oomScoreAdj = 1001;
        },
        'PROCESS_INVALID',
        'process.oomScoreAdj: 1001 is not in -1000..1000',
      ],
      [
        (s) => {
          s.process!.scheduler = { policy: 'SCHED_OTHER', nice: 20 };
        },
        'PROCESS_INVALID',
        'process.scheduler.nice: 20 is not in -20..19',
      ],
      [
        (s) => {
          s.process!.scheduler = { policy: 'SCHED_OTHER', nice: -21 };
        },
        'PROCESS_INVALID',
        'process.scheduler.nice: -21 is not in -20..19',
      ],
      [
        (s) => {
          s.process!.scheduler = { policy: 'SCHED_OTHER', priority: 3 };
        },
        'PROCESS_INVALID',
        'process.scheduler.priority: can only be set with policy SCHED_FIFO or SCHED_RR',
      ],
      [
        (s) => {
          s.process!.scheduler = { policy: 'SCHED_FIFO', runtime: 5 };
        },
        'PROCESS_INVALID',
        'process.scheduler: runtime, deadline and period can only be set with policy SCHED_DEADLINE',
      ],
      [
        (s) => {
          s.process!.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 8 };
        },
        'PROCESS_INVALID',
        'process.ioPriority.priority: 8 is not in 0..7',
      ],
      [
        (s) => {
          s.process!.rlimits = [{ type: 'RLIMIT_NOPE', soft: 1, hard: 1 }];
        },
        'RLIMIT_INVALID',
        'process.rlimits[0].type: unknown rlimit "RLIMIT_NOPE"',
      ],
    ];
    for (const [mutate, code, message] of cases) {
      const spec = minimal();
      mutate(spec);
      expectPlanError(() => planCreate(spec, ctx), code, message);
    }
  });
});

describe('planCreate: environment, HOME, capabilities', () => {
  it('skips unknown capability names with one warning that lists them (runc >= 1.2)', () => {
    const spec = minimal();
    spec.process!.capabilities = {
      bounding: ['CAP_KILL', 'CAP_FOO'],
      effective: ['CAP_CHOWN', 'CAP_KILL', 'CAP_X'],
      permitted: ['CAP_KILL', 'CAP_CHOWN'],
      ambient: ['CAP_KILL', 'CAP_FOO'],
    };
    const warnings: string[] = [];
    const ops = planCreate(spec, { ...ctx, warn: (message) => warnings.push(message) });
    expect(find(ops, 'CAPS')).toEqual([op('CAPS', 0x20n, 0x21n, 0x21n, 0n, 0n)]);
    expect(warnings).toEqual(['ignoring unknown or unavailable capabilities: [CAP_FOO CAP_X]']);
    // Known here but not to an older kernel (cap_last_cap 39): skipped too.
    warnings.length = 0;
    spec.process!.capabilities = { bounding: ['CAP_KILL', 'CAP_CHECKPOINT_RESTORE'] };
    const older = planCreate(spec, { ...ctx, lastCap: 39, warn: (m) => warnings.push(m) });
    expect(find(older, 'CAPS')).toEqual([op('CAPS', 0x20n, 0n, 0n, 0n, 0n)]);
    expect(warnings).toEqual([
      'ignoring unknown or unavailable capabilities: [CAP_CHECKPOINT_RESTORE]',
    ]);
    // No warning without unknown names.
    warnings.length = 0;
    planCreate(minimal(), { ...ctx, warn: (message) => warnings.push(message) });
    expect(warnings).toEqual([]);
  });

  it('passes a repeated key once, where it first appears, with its last value', () => {
    const spec = minimal();
    spec.process!.env = ['A=1', 'HOME=/h', 'A=2', 'B=x\ny', 'A=3', 'E=', 'E=a=b'];
    expect(find(planCreate(spec, ctx), 'EXEC')).toEqual([
      op('EXEC', ['/bin/true'], ['A=3', 'HOME=/h', 'B=x\ny', 'E=a=b']),
    ]);
  });

  it('refuses an entry without "=" or with an empty name, as runc', () => {
    const spec = minimal();
    spec.process!.env = ['PATH=/bin', 'NOEQ'];
    expectPlanError(
      () => planCreate(spec, ctx),
      'PROCESS_INVALID',
      'process.env[1]: invalid environment variable: "NOEQ"',
    );
    spec.process!.env = ['=x'];
    expectPlanError(
      () => planCreate(spec, ctx),
      'PROCESS_INVALID',
      `process.env[0]: environment variable name can't be empty: "=x"`,
    );
  });

  it.each([
    [[], 0, true],
    [['HOME='], 0, true],
    [['HOME=/x'], 0, false],
    [['HOME=/x', 'HOME='], 1000, true],
    [['HOME=', 'HOME=/x'], 1000, false],
  ])('env %j, uid %i: DEFAULT_HOME %s (before the credentials)', (env, uid, expected) => {
    const spec = minimal();
    spec.process!.env = env;
    spec.process!.user = { uid, gid: uid };
    const lines = dump(planCreate(spec, ctx));
    const at = lines.indexOf(`DEFAULT_HOME ${uid}`);
    expect(at >= 0).toBe(expected);
    if (expected) expect(at).toBeLessThan(lines.indexOf(`SETUID ${uid}`));
  });

  it('gives startContainer hooks without an env the process environment', () => {
    const spec = minimal();
    spec.process!.env = ['PATH=/bin', 'ONE=1', 'ONE=two'];
    spec.hooks = {
      startContainer: [{ path: '/a' }, { path: '/b', env: ['X=1'] }, { path: '/d', env: [] }],
      createContainer: [{ path: '/c' }],
    };
    const hooks = find(planCreate(spec, ctx), 'HOOK').map((hook) => hook.args[3]);
    // An explicit empty env stays empty (Go's exec: only a nil Env inherits).
    expect(hooks).toEqual([[], ['PATH=/bin', 'ONE=two'], ['X=1'], []]);
  });

  it('gives the pty to a process user other than root', () => {
    const spec = minimal();
    spec.process!.terminal = true;
    spec.process!.user = { uid: 1000, gid: 1000 };
    const lines = dump(planCreate(spec, { ...ctx, consoleSocket: '/tmp/c.sock' }));
    expect(lines[lines.indexOf('CONSOLE "/tmp/c.sock"') + 1]).toBe('TTY_OWNER 1000');
    spec.process!.user = { uid: 0, gid: 0 };
    expect(
      dump(planCreate(spec, { ...ctx, consoleSocket: '/tmp/c.sock' })).some((line) =>
        line.startsWith('TTY_OWNER'),
      ),
    ).toBe(false);
  });
});

describe('planCreate: linux.personality.flags', () => {
  it('ORs the named flags into the persona', () => {
    const spec = minimal();
    spec.linux!.personality = { domain: 'LINUX32', flags: ['ADDR_NO_RANDOMIZE', 'UNAME26'] };
    expect(find(planCreate(spec, ctx), 'PERSONALITY')).toEqual([
      op('PERSONALITY', 8 | 0x0040000 | 0x0020000),
    ]);
  });

  it('refuses a flag personality(2) does not have, naming it', () => {
    const spec = minimal();
    spec.linux!.personality = { flags: ['ADDR_NO_RANDOMIZE', 'toString'] };
    expectPlanError(
      () => planCreate(spec, ctx),
      'PERSONALITY_INVALID',
      'linux.personality.flags[1]: unknown personality flag "toString" (known: UNAME26, ' +
        'ADDR_NO_RANDOMIZE, FDPIC_FUNCPTRS, MMAP_PAGE_ZERO, ADDR_COMPAT_LAYOUT, READ_IMPLIES_EXEC, ' +
        'ADDR_LIMIT_32BIT, SHORT_INODE, WHOLE_SECONDS, STICKY_TIMEOUTS, ADDR_LIMIT_3GB)',
    );
  });
});

describe('planCreate: checks before planning', () => {
  it('checks timeOffsets against the namespaces first', () => {
    const spec = minimal();
    spec.linux!.timeOffsets = { boottime: { secs: 1 } };
    expectPlanError(
      () => planCreate(spec, ctx),
      'NAMESPACE_INVALID',
      'linux.timeOffsets: time offsets are given but no new time namespace is in linux.namespaces',
    );
  });
});

describe('foreground run', () => {
  it('keeps the first executor process as the init parent (FORK 1)', () => {
    const spec = exampleSpec();
    spec.process!.terminal = false;
    const lines = dumpPlan(planCreate(spec, { ...ctx, waitForInit: true })).split('\n');
    expect(lines).toContain('FORK 1');
  });
});

describe('ambient capabilities', () => {
  it('keeps only those that are permitted and inheritable, as runc', () => {
    const spec = headless();
    spec.process!.capabilities = {
      bounding: ['CAP_KILL', 'CAP_CHOWN'],
      permitted: ['CAP_KILL', 'CAP_CHOWN'],
      effective: ['CAP_KILL'],
      inheritable: ['CAP_CHOWN'],
      ambient: ['CAP_KILL', 'CAP_CHOWN'],
    };
    // CAP_CHOWN = 0, CAP_KILL = 5
    expect(dump(planCreate(spec, ctx))).toContain('CAPS 33 32 33 1 1');
  });
});

describe('planCreate: seccomp', () => {
  const program = new Uint8Array([6, 0, 0, 0, 0, 0, 0xff, 0x7f]);
  const withSeccomp = (nnp: boolean) => {
    const spec = headless();
    spec.process!.noNewPrivileges = nnp;
    spec.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW' };
    return spec;
  };

  it('with no_new_privs: after the capabilities, right before READY', () => {
    const lines = dump(planCreate(withSeccomp(true), { ...ctx, seccomp: { program, flags: 2 } }));
    const at = lines.indexOf('SECCOMP hex:060000000000ff7f 2');
    expect(lines.slice(at - 3, at + 3)).toEqual([
      expect.stringMatching(/^CAPS /),
      'NO_NEW_PRIVS',
      expect.stringMatching(/^RESOLVE_EXEC /),
      'SECCOMP hex:060000000000ff7f 2',
      'READY',
      'WAIT_FIFO',
    ]);
  });

  it('without no_new_privs: before the credentials change, while CAP_SYS_ADMIN is held', () => {
    const lines = dump(planCreate(withSeccomp(false), { ...ctx, seccomp: { program, flags: 0 } }));
    const at = lines.indexOf('SECCOMP hex:060000000000ff7f 0');
    expect(lines.slice(at - 1, at + 3)).toEqual([
      'CHDIR "/"',
      'SECCOMP hex:060000000000ff7f 0',
      'KEEPCAPS 1',
      'SETGROUPS []',
    ]);
    expect(lines).not.toContain('NO_NEW_PRIVS');
  });

  it('a NOTIFY filter asks the parent for the process state, then hands the listener over', () => {
    const ops = planCreate(withSeccomp(true), {
      ...ctx,
      seccomp: { program, flags: 8 | 32, listenerPath: '/run/agent.sock' },
    });
    const lines = dump(ops);
    const at = lines.indexOf(`SYNC ${SyncKind.SECCOMP}`);
    expect(lines.slice(at, at + 3)).toEqual([
      'SYNC 5',
      'SECCOMP_NOTIFY hex:060000000000ff7f 40 "/run/agent.sock"',
      'READY',
    ]);
    expect(find(ops, 'SECCOMP')).toEqual([]);
  });

  it('refuses a config with linux.seccomp but no compiled filter, and NOTIFY without listener', () => {
    expectPlanError(
      () => planCreate(withSeccomp(true), ctx),
      'SECCOMP_INVALID',
      "linux.seccomp: the compiled filter is missing: compile the profile (@runc-ts/seccomp) and pass it as the plan context's seccomp",
    );
    expectPlanError(
      () => planCreate(withSeccomp(true), { ...ctx, seccomp: { program, flags: 8 } }),
      'SECCOMP_INVALID',
      'linux.seccomp.listenerPath: SCMP_ACT_NOTIFY rules need a listenerPath',
    );
  });

  it('no linux.seccomp: no seccomp op, whatever the context carries', () => {
    const ops = names(planCreate(headless(), { ...ctx, seccomp: { program, flags: 0 } }));
    expect(ops).not.toContain('SECCOMP');
    expect(ops).not.toContain('SECCOMP_NOTIFY');
  });
});

describe('planCreate: time namespace offsets', () => {
  it('writes the offsets after creating the time namespace, before FORK', () => {
    const spec = headless();
    spec.linux!.namespaces!.push({ type: 'time' });
    spec.linux!.timeOffsets = { monotonic: { secs: 86400 }, boottime: { secs: -5, nanosecs: 7 } };
    const ops = dump(planCreate(spec, ctx));
    const at = ops.indexOf('TIMENS_OFFSETS "monotonic 86400 0\\nboottime -5 7\\n"');
    expect(at).toBeGreaterThan(0);
    expect(ops[at - 1]).toMatch(/^UNSHARE /);
    expect(ops[at + 1]).toBe('FORK 0');
  });

  it('names an unknown clock', () => {
    const spec = headless();
    spec.linux!.namespaces!.push({ type: 'time' });
    spec.linux!.timeOffsets = { realtime: { secs: 1 } };
    expect(() => planCreate(spec, ctx)).toThrow(
      'linux.timeOffsets.realtime: only the monotonic and boottime clocks have offsets',
    );
  });
});
