import type { Mount, Spec } from './types.js';

/** The runtime-spec version this package implements and `runc spec` writes. */
export const OCI_VERSION = '1.3.0';

const DEFAULT_CAPABILITIES = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];

export interface ExampleSpecOptions {
  /**
   * Add a cgroup namespace, as runc does when the host runs cgroup v2 in
   * unified mode (a private cgroup view only works well there).
   */
  cgroupNamespace?: boolean;
}

/**
 * The starter config.json of `runc spec`: a busybox-friendly shell with a
 * read-only root, runc's default mounts, masked and read-only paths. Key order
 * follows runc's output so the two can be diffed.
 */
export function exampleSpec(options: ExampleSpecOptions = {}): Spec {
  const namespaces: NonNullable<Spec['linux']>['namespaces'] = [
    { type: 'pid' },
    { type: 'network' },
    { type: 'ipc' },
    { type: 'uts' },
    { type: 'mount' },
  ];
  if (options.cgroupNamespace) namespaces.push({ type: 'cgroup' });
  return {
    ociVersion: OCI_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: {
        bounding: [...DEFAULT_CAPABILITIES],
        effective: [...DEFAULT_CAPABILITIES],
        permitted: [...DEFAULT_CAPABILITIES],
      },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'runc',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      {
        destination: '/dev',
        type: 'tmpfs',
        source: 'tmpfs',
        options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
      },
      {
        destination: '/dev/pts',
        type: 'devpts',
        source: 'devpts',
        options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
      },
      {
        destination: '/dev/shm',
        type: 'tmpfs',
        source: 'shm',
        options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'],
      },
      {
        destination: '/dev/mqueue',
        type: 'mqueue',
        source: 'mqueue',
        options: ['nosuid', 'noexec', 'nodev'],
      },
      {
        destination: '/sys',
        type: 'sysfs',
        source: 'sysfs',
        options: ['nosuid', 'noexec', 'nodev', 'ro'],
      },
      {
        destination: '/sys/fs/cgroup',
        type: 'cgroup',
        source: 'cgroup',
        options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'],
      },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces,
      maskedPaths: [
        '/proc/acpi',
        '/proc/asound',
        '/proc/kcore',
        '/proc/keys',
        '/proc/latency_stats',
        '/proc/timer_list',
        '/proc/timer_stats',
        '/proc/sched_debug',
        '/sys/firmware',
        '/proc/scsi',
        '/sys/devices/virtual/tpm',
      ],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

export interface RootlessIds {
  /** Host uid mapped to root in the container (the caller's euid). */
  uid: number;
  /** Host gid mapped to root in the container (the caller's egid). */
  gid: number;
}

function isSysMount(mount: Mount): boolean {
  return mount.destination.replace(/\/+$/, '') === '/sys';
}

/**
 * What `runc spec --rootless` changes: a user namespace mapping the caller to
 * root, no network namespace (an unprivileged user cannot configure one), /sys
 * bind-mounted (sysfs cannot be mounted without owning the netns), no uid=/gid=
 * mount options (those ids are not mapped), and no cgroup resources.
 */
export function toRootless(spec: Spec, ids: RootlessIds): Spec {
  const linux = { ...spec.linux };
  const namespaces = (linux.namespaces ?? []).filter(
    (ns) => ns.type !== 'network' && ns.type !== 'user',
  );
  namespaces.push({ type: 'user' });
  delete linux.resources;
  const mounts = (spec.mounts ?? []).map((mount): Mount => {
    if (isSysMount(mount)) {
      return {
        destination: '/sys',
        type: 'none',
        source: '/sys',
        options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'],
      };
    }
    if (!mount.options) return mount;
    return {
      ...mount,
      options: mount.options.filter((opt) => !opt.startsWith('uid=') && !opt.startsWith('gid=')),
    };
  });
  // Mappings lead the linux object, as in runc's output.
  const { uidMappings: _u, gidMappings: _g, ...rest } = linux;
  return {
    ...spec,
    mounts,
    linux: {
      uidMappings: [{ containerID: 0, hostID: ids.uid, size: 1 }],
      gidMappings: [{ containerID: 0, hostID: ids.gid, size: 1 }],
      ...rest,
      namespaces,
    },
  };
}

/** config.json text as runc writes it: tab-indented, no trailing newline. */
export function renderSpec(spec: Spec): string {
  return JSON.stringify(spec, null, '\t');
}
