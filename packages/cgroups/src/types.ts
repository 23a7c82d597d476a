import type { LinuxResources } from '@runc-ts/spec';

/** `fs`: cgroupfs v1 or hybrid; `fs2`: unified cgroupfs; `systemd`: units over D-Bus. */
export type CgroupDriverName = 'fs' | 'fs2' | 'systemd';

/** How the host mounts cgroups: v1 only, v1 plus an empty cgroup2 (hybrid), or v2 only. */
export type CgroupMode = 'legacy' | 'hybrid' | 'unified';

export interface CgroupLayout {
  mode: CgroupMode;
  /**
   * v1 hierarchies by controller name as /proc/self/cgroup spells it
   * ("cpu", "cpuacct", "memory", "name=systemd", ...) -> mount point. Empty
   * in unified mode.
   */
  v1Mounts: Record<string, string>;
  /** The cgroup2 mount: /sys/fs/cgroup (unified) or /sys/fs/cgroup/unified (hybrid). */
  v2Mount?: string;
  /**
   * The cgroup each mount shows at its mount point (mountinfo's root field),
   * by the keys of v1Mounts and '' for cgroup2; "/" when absent. Differs from
   * "/" when a cgroup subtree is bind-mounted (docker-in-docker on v1), and
   * is then removed from /proc/self/cgroup paths to find our own directory.
   */
  mountRoots?: Record<string, string>;
}

/** What a manager is built from when a container is created. */
export interface CgroupConfig {
  /** The container id: default cgroup path and systemd unit name. */
  containerId: string;
  /** linux.cgroupsPath as written in config.json. */
  cgroupsPath?: string;
  /** `--systemd-cgroup`. */
  systemd: boolean;
  /** Unprivileged caller: a cgroup that cannot be written is skipped, not an error. */
  rootless?: boolean;
}

/** What state.json keeps so that later commands find the cgroup again. */
export interface CgroupState {
  driver: CgroupDriverName;
  /**
   * Absolute cgroup directories. fs: controller -> dir (like runc's
   * `cgroup_paths`); fs2 and systemd on v2: `{"": dir}`.
   */
  paths: Record<string, string>;
  /** systemd: the unit and its slice, e.g. "runc-ts-abc.scope" in "system.slice". */
  unit?: string;
  slice?: string;
  rootless?: boolean;
}

/**
 * `runc events --stats` data, in runc's JSON shape: same field names and
 * order, and a field runc omits when it is zero (Go's omitempty) is absent
 * here too. The `intel_rdt` and `network_interfaces` fields of runc's event
 * are not cgroup data and are added by the caller.
 */
export interface CgroupStats {
  cpu: {
    usage: {
      /** Nanoseconds; absent when 0. */
      total?: number;
      percpu?: number[];
      percpu_kernel?: number[];
      percpu_user?: number[];
      kernel: number;
      user: number;
    };
    throttling: { periods?: number; throttledPeriods?: number; throttledTime?: number };
  };
  cpuset: CpusetStats;
  memory: {
    cache?: number;
    usage: MemoryEntry;
    /** Memory plus swap, on v2 as on v1. */
    swap: MemoryEntry;
    kernel: MemoryEntry;
    kernelTCP: MemoryEntry;
    raw?: Record<string, number>;
  };
  pids: { current?: number; limit?: number };
  blkio: BlkioStats;
  /** By page size as the cgroup files name it ("2MB", "1GB"). */
  hugetlb: Record<string, HugetlbEntry>;
}

export interface CpusetStats {
  cpus?: number[];
  cpu_exclusive: number;
  mems?: number[];
  mem_hardwall: number;
  mem_exclusive: number;
  memory_migrate: number;
  memory_spread_page: number;
  memory_spread_slab: number;
  memory_pressure: number;
  sched_load_balance: number;
  sched_relax_domain_level: number;
}

export interface MemoryEntry {
  limit: number;
  usage?: number;
  max?: number;
  failcnt: number;
}

export interface BlkioStats {
  ioServiceBytesRecursive?: BlkioEntry[];
  ioServicedRecursive?: BlkioEntry[];
  ioQueueRecursive?: BlkioEntry[];
  ioServiceTimeRecursive?: BlkioEntry[];
  ioWaitTimeRecursive?: BlkioEntry[];
  ioMergedRecursive?: BlkioEntry[];
  ioTimeRecursive?: BlkioEntry[];
  sectorsRecursive?: BlkioEntry[];
}

export interface BlkioEntry {
  major?: number;
  minor?: number;
  op?: string;
  value?: number;
}

export interface HugetlbEntry {
  usage?: number;
  max?: number;
  failcnt: number;
}

export type FreezerState = 'thawed' | 'frozen' | 'freezing' | 'undefined';

/**
 * One container's cgroup, whatever the driver. Filesystem drivers complete
 * synchronously; the interface is asynchronous for systemd (D-Bus).
 */
export interface CgroupManager {
  readonly driver: CgroupDriverName;
  /**
   * Makes state().paths known before apply where the driver must ask for
   * them (a rootless systemd unit lies below the user manager's cgroup).
   * Optional; a no-op when they are known.
   */
  prepare?(): Promise<void>;
  /** Creates the cgroup (and unit) and moves `pid` into it. */
  apply(pid: number): Promise<void>;
  /**
   * Writes resources: at create (after apply, before the user process runs)
   * and on `update`. `resources.devices` is the complete device rule list
   * (containerDeviceRules adds runc's defaults) and replaces the cgroup's
   * rules; undefined leaves device access as it is.
   */
  set(resources: LinuxResources): Promise<void>;
  /** Every pid in the cgroup and its descendants. */
  pids(): number[];
  stats(): CgroupStats;
  freeze(): Promise<void>;
  thaw(): Promise<void>;
  freezerState(): FreezerState;
  /** Removes the cgroup (retrying while EBUSY) and stops the unit. Idempotent. */
  destroy(): Promise<void>;
  exists(): boolean;
  /**
   * Calls `listener` for every OOM kill in the cgroup (v1: memory.oom_control
   * eventfd; v2: memory.events). Returns a function that stops listening.
   */
  onOom(listener: () => void): () => void;
  /** What to persist in state.json. */
  state(): CgroupState;
}
