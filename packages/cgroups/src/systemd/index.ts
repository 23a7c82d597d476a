import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import type { LinuxResources } from '@runc-ts/spec';
import { CgroupError } from '../errors.js';
import { FsV1Manager } from '../fs-v1.js';
import { FsV2Manager } from '../fs-v2.js';
import { parseProcCgroup } from '../layout.js';
import { JOINED_V1_HIERARCHIES } from '../paths.js';
import type {
  CgroupConfig,
  CgroupLayout,
  CgroupManager,
  CgroupState,
  CgroupStats,
  FreezerState,
} from '../types.js';
import type { SystemdBusConnector } from './bus.js';
import type { SystemdClient } from './client.js';
import { SystemdError } from './errors.js';
import { unitPropertiesFromAnnotations } from './gvariant.js';
import { baseProperties, resourceProperties, type UnitProperty } from './properties.js';
import { systemdPlacement } from './unit.js';

export {
  type BusEndpoint,
  busAddressEndpoints,
  connectSystemdBus,
  type DbusMethodCall,
  type DbusSignal,
  type SystemdBus,
  type SystemdBusConnector,
  systemdEndpoints,
} from './bus.js';
export { type JobResult, SystemdClient } from './client.js';
export { SystemdError, type SystemdErrorCode } from './errors.js';
export {
  parseGVariant,
  SYSTEMD_PROPERTY_ANNOTATION,
  unitPropertiesFromAnnotations,
} from './gvariant.js';
export {
  baseProperties,
  cpuListBits,
  type DbusValue,
  type ResourcePropertiesContext,
  resourceProperties,
  UINT64_MAX,
  type UnitProperty,
} from './properties.js';
export { expandSlice, type SystemdPlacement, systemdPlacement } from './unit.js';

/**
 * The D-Bus client side, loaded when the driver first talks to systemd: a
 * container loaded from state (state, list, pause, ...) never does.
 */
async function loadDbusSide() {
  const [bus, client] = await Promise.all([import('./bus.js'), import('./client.js')]);
  return {
    connectSystemdBus: bus.connectSystemdBus,
    MANAGER_INTERFACE: bus.MANAGER_INTERFACE,
    SYSTEMD_PATH: bus.SYSTEMD_PATH,
    SystemdClient: client.SystemdClient,
    DEFAULT_JOB_TIMEOUT_MS: client.DEFAULT_JOB_TIMEOUT_MS,
    DBUS_ERRORS: client.DBUS_ERRORS,
  };
}
type DbusSide = Awaited<ReturnType<typeof loadDbusSide>>;

export interface SystemdManagerOptions {
  /** Opens the connection to systemd; connectSystemdBus by default. */
  connect?: SystemdBusConnector;
  /**
   * The container's annotations: `org.systemd.property.<Name>` ones become
   * extra properties of the unit when it starts (runc's "auxiliary properties").
   */
  annotations?: Record<string, string>;
  /** Told what systemd cannot be given (then only written to the cgroup); silent by default. */
  warn?: (message: string) => void;
  /** How long a unit's start or stop may take; 30 s by default. */
  jobTimeoutMs?: number;
  /** PID 1's cgroups by /proc/<pid>/cgroup key, where systemd's tree starts; read from /proc/1/cgroup when absent. */
  initCgroups?: Record<string, string>;
  /** The text of /proc/devices (for "<major>:*" device rules); read when needed when absent. */
  procDevices?: () => string;
}

/** See SystemdManager.planned. */
export interface PlannedUnit {
  unit: string;
  slice: string;
  /** StartTransientUnit's and SetUnitProperties' (PIDs aside: the init's, once it exists). */
  properties: UnitProperty[];
  fs: CgroupManager | undefined;
}

/** Where a restored manager comes from; keeps fromState's path through the constructor private. */
class Restored {
  constructor(readonly state: CgroupState) {}
}

/**
 * The systemd cgroup driver (runc --systemd-cgroup): the container gets a
 * transient scope (or slice) from systemd over D-Bus, with systemd's
 * resource properties; the fs driver then creates the hierarchies systemd
 * does not manage, writes every resource (including those systemd has no
 * property for) and does freezing, stats and OOM events, as runc does.
 */
export class SystemdManager implements CgroupManager {
  readonly driver = 'systemd' as const;
  /** The unit, e.g. "runc-abc.scope". */
  readonly unit: string;
  /** The slice the unit is in (Slice= of a scope, Wants= of a slice). */
  readonly slice: string;
  private readonly rootless: boolean;
  private readonly cgroupVersion: 1 | 2;
  private readonly layout: CgroupLayout;
  private readonly options: SystemdManagerOptions;
  /** The unit's cgroup below systemd's root, e.g. "/system.slice/runc-abc.scope"; unknown for a restored manager. */
  private readonly cgroupPath: string | undefined;
  private readonly description: string;
  private readonly extraProperties: UnitProperty[];
  /** Absent until known: a rootless unit's directory depends on the user manager's own cgroup. */
  private fs: FsV1Manager | FsV2Manager | undefined;

  constructor(config: CgroupConfig, layout: CgroupLayout, options?: SystemdManagerOptions);
  constructor(
    config: CgroupConfig | Restored,
    layout: CgroupLayout,
    options: SystemdManagerOptions = {},
  ) {
    this.layout = layout;
    this.options = options;
    this.cgroupVersion = layout.mode === 'unified' ? 2 : 1;
    if (config instanceof Restored) {
      const { state } = config;
      this.rootless = state.rootless ?? false;
      this.unit = state.unit ?? '';
      this.slice = state.slice ?? '';
      this.cgroupPath = undefined;
      this.description = '';
      this.extraProperties = [];
      this.fs = Object.keys(state.paths).length > 0 ? this.fsManager(state.paths) : undefined;
      return;
    }
    this.rootless = config.rootless ?? false;
    if (this.rootless && this.cgroupVersion === 1) {
      throw new CgroupError(
        'UNSUPPORTED',
        `a rootless container can use the systemd cgroup driver only on cgroup v2; this host has cgroup v1 (${layout.mode}). Run without --systemd-cgroup.`,
      );
    }
    const placement = systemdPlacement(config);
    this.unit = placement.unit;
    this.slice = placement.slice;
    this.cgroupPath = placement.cgroupPath;
    this.description = `libcontainer container ${placement.name}`;
    this.extraProperties = unitPropertiesFromAnnotations(options.annotations);
    if (!this.rootless) this.fs = this.fsManager(this.pathsBelow(this.systemdRoots()));
  }

  /** The manager of an existing container, from what state() returned when it was created. */
  static fromState(
    state: CgroupState,
    layout: CgroupLayout,
    options: SystemdManagerOptions = {},
  ): SystemdManager {
    if (state.driver !== 'systemd') {
      throw new CgroupError(
        'INVALID',
        `cgroup state of driver ${JSON.stringify(state.driver)} given to the systemd driver`,
      );
    }
    if (!state.unit || !state.slice) {
      throw new CgroupError('INVALID', 'cgroup state of driver systemd has no unit or slice');
    }
    return new SystemdManager(new Restored(state) as unknown as CgroupConfig, layout, options);
  }

  /** Where systemd's tree starts in each hierarchy: PID 1's cgroup, without its init.scope. */
  private systemdRoots(): Record<string, string> {
    const init = this.options.initCgroups ?? readInitCgroups();
    const roots: Record<string, string> = {};
    for (const [key, path] of Object.entries(init)) {
      roots[key] = path.replace(/\/init\.scope$/, '') || '/';
    }
    return roots;
  }

  /** The unit's directory in every hierarchy, `roots` giving systemd's root cgroup in each. */
  private pathsBelow(roots: Record<string, string>): Record<string, string> {
    const cgroupPath = this.cgroupPath ?? '/';
    const inHierarchy = (key: string, mountPoint: string) => {
      const full = posix.join(roots[key] ?? '/', cgroupPath);
      const mountRoot = this.layout.mountRoots?.[key] ?? '/';
      let inside = full;
      if (mountRoot !== '/') {
        if (full === mountRoot) inside = '/';
        else if (full.startsWith(`${mountRoot}/`)) inside = full.slice(mountRoot.length);
      }
      return posix.join(mountPoint, inside);
    };
    const paths: Record<string, string> = {};
    if (this.cgroupVersion === 2) {
      paths[''] = inHierarchy('', this.v2Mount());
      return paths;
    }
    for (const key of JOINED_V1_HIERARCHIES) {
      const mountPoint = this.layout.v1Mounts[key];
      if (mountPoint !== undefined) paths[key] = inHierarchy(key, mountPoint);
    }
    if (this.layout.mode === 'hybrid' && this.layout.v2Mount !== undefined) {
      paths[''] = inHierarchy('', this.layout.v2Mount);
    }
    return paths;
  }

  private v2Mount(): string {
    if (this.layout.v2Mount === undefined) {
      throw new CgroupError('UNSUPPORTED', 'cgroup2 is not mounted on this host');
    }
    return this.layout.v2Mount;
  }

  private fsManager(paths: Record<string, string>): FsV1Manager | FsV2Manager {
    if (this.cgroupVersion === 1) return new FsV1Manager(paths, { rootless: this.rootless });
    const dir = paths[''];
    if (dir === undefined) {
      throw new CgroupError(
        'INVALID',
        'cgroup state of driver systemd on cgroup v2 has no directory (paths[""])',
      );
    }
    const options: { rootless: boolean; mountPoint?: string } = { rootless: this.rootless };
    if (this.layout.v2Mount !== undefined) options.mountPoint = this.layout.v2Mount;
    return new FsV2Manager(dir, options);
  }

  private async withClient<T>(
    action: (client: SystemdClient, dbus: DbusSide) => Promise<T>,
  ): Promise<T> {
    const dbus = await loadDbusSide();
    const connect = this.options.connect ?? dbus.connectSystemdBus;
    const bus = await connect({ rootless: this.rootless });
    const client = new dbus.SystemdClient(
      bus,
      this.options.jobTimeoutMs ?? dbus.DEFAULT_JOB_TIMEOUT_MS,
    );
    try {
      return await action(client, dbus);
    } finally {
      client.close();
    }
  }

  private requireFs(what: string): FsV1Manager | FsV2Manager {
    if (this.fs === undefined) {
      throw new CgroupError(
        'INVALID',
        `${what}: the unit ${this.unit} has not been started (apply)`,
      );
    }
    return this.fs;
  }

  /**
   * Starts the unit with `pid` in it and waits until systemd has, then lets
   * the fs driver create and join the hierarchies systemd does not manage
   * (v1 cpuset, freezer, ...). A leftover failed unit of the same name is
   * reset and the start retried once; a live one is an error, except for a
   * slice, which may exist already (its processes are joined by the fs driver).
   */
  async apply(pid: number): Promise<void> {
    if (this.cgroupPath === undefined) {
      throw new CgroupError(
        'INVALID',
        `apply: ${this.unit} was loaded from state and exists already`,
      );
    }
    await this.withClient(async (client, dbus) => {
      if (this.rootless && this.fs === undefined) await this.locateBelowManager(client, dbus);
      const properties = [
        ...baseProperties({
          unit: this.unit,
          slice: this.slice,
          description: this.description,
          pid,
          cgroupVersion: this.cgroupVersion,
        }),
        ...this.extraProperties,
      ];
      await this.startUnit(client, properties, dbus.DBUS_ERRORS.unitExists);
    });
    await this.requireFs('apply').apply(pid);
  }

  /**
   * Where the unit's cgroup will be before apply: a rootless unit's is below
   * the user manager's own cgroup, which only that manager knows. Planning a
   * container that binds its cgroup directory (a cgroup mount without a
   * cgroup namespace) needs it; apply asks otherwise.
   */
  async prepare(): Promise<void> {
    if (this.fs !== undefined || this.cgroupPath === undefined) return;
    await this.withClient((client, dbus) => this.locateBelowManager(client, dbus));
  }

  private async locateBelowManager(client: SystemdClient, dbus: DbusSide): Promise<void> {
    const managerCgroup = await client.getProperty(
      dbus.SYSTEMD_PATH,
      dbus.MANAGER_INTERFACE,
      'ControlGroup',
    );
    this.fs = this.fsManager(this.pathsBelow({ '': String(managerCgroup || '/') }));
  }

  private async startUnit(
    client: SystemdClient,
    properties: UnitProperty[],
    unitExists: string,
  ): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await client.startTransientUnit(this.unit, properties);
        return;
      } catch (error) {
        if (!(error instanceof SystemdError) || error.dbusError !== unitExists) throw error;
        if (this.unit.endsWith('.slice')) return;
        if (attempt === 2) {
          throw new SystemdError(
            'SYSTEMD_UNIT_EXISTS',
            `systemd already has a unit ${this.unit} (linux.cgroupsPath names a unit in use; stop it with "systemctl stop ${this.unit}" or choose another name)`,
            { unit: this.unit, dbusError: error.dbusError, cause: error },
          );
        }
        // A failed unit of a previous container stays loaded until reset.
        await client.resetFailedUnit(this.unit);
      }
    }
  }

  /**
   * Sets the resources systemd has properties for on the unit (for the
   * lifetime of the unit, not persisted), then writes all of them through
   * the fs driver. Changing device rules makes systemd rewrite them from
   * "deny all", so a running container is frozen meanwhile, as runc does.
   */
  async set(resources: LinuxResources): Promise<void> {
    const fs = this.requireFs('set');
    await this.withClient(async (client) => {
      const properties = resourceProperties(resources, {
        cgroupVersion: this.cgroupVersion,
        systemdVersion: await client.version(),
        ...(this.options.procDevices ? { procDevices: this.options.procDevices } : {}),
        ...(this.options.warn ? { warn: this.options.warn } : {}),
      });
      const freezeMeanwhile = resources.devices !== undefined && fs.freezerState() === 'thawed';
      if (freezeMeanwhile) await fs.freeze();
      try {
        await client.setUnitProperties(this.unit, properties);
        await fs.set(resources);
      } finally {
        if (freezeMeanwhile) await fs.thaw();
      }
    });
  }

  /**
   * What apply and set would ask of systemd, without a connection to it
   * (`runc create --dry-run`): the unit's properties, resources included as
   * `systemdVersion` takes them, and the fs driver that writes the rest
   * (absent for a rootless unit: its place is the user manager's to say).
   */
  planned(resources: LinuxResources, systemdVersion: number): PlannedUnit {
    const properties = [
      ...baseProperties({
        unit: this.unit,
        slice: this.slice,
        description: this.description,
        pid: 0,
        cgroupVersion: this.cgroupVersion,
      }),
      ...this.extraProperties,
      ...resourceProperties(resources, {
        cgroupVersion: this.cgroupVersion,
        systemdVersion,
        ...(this.options.procDevices ? { procDevices: this.options.procDevices } : {}),
        ...(this.options.warn ? { warn: this.options.warn } : {}),
      }),
    ];
    return { unit: this.unit, slice: this.slice, properties, fs: this.fs };
  }

  pids(): number[] {
    return this.fs?.pids() ?? [];
  }

  stats(): CgroupStats {
    return this.requireFs('stats').stats();
  }

  /**
   * Freezes through the cgroup freezer, as runc does with systemd: systemd
   * has no freezer on cgroup v1 and its FreezeUnit (v2, systemd 246) does
   * the same write; the unit's FreezerState property therefore stays "running".
   */
  async freeze(): Promise<void> {
    await this.requireFs('freeze').freeze();
  }

  async thaw(): Promise<void> {
    await this.requireFs('thaw').thaw();
  }

  freezerState(): FreezerState {
    return this.fs?.freezerState() ?? 'undefined';
  }

  /**
   * Stops the unit and waits for systemd to remove it (a unit systemd does
   * not know is fine), resets it if it failed, then removes what is left
   * of the cgroups (the hierarchies systemd does not manage). Idempotent.
   */
  async destroy(): Promise<void> {
    let stopError: unknown;
    try {
      await this.withClient(async (client) => {
        const result = await client.stopUnit(this.unit);
        if (result !== 'done' && result !== 'no-such-unit') {
          this.options.warn?.(
            `stopping ${this.unit}: its job ended with "${result}"; removing its cgroups anyway`,
          );
        }
        await client.resetFailedUnit(this.unit);
      });
    } catch (error) {
      stopError = error;
    }
    await this.fs?.destroy();
    if (stopError !== undefined) throw stopError;
  }

  exists(): boolean {
    return this.fs?.exists() ?? false;
  }

  onOom(listener: () => void): () => void {
    return this.requireFs('OOM notification').onOom(listener);
  }

  state(): CgroupState {
    const state: CgroupState = {
      driver: 'systemd',
      paths: this.fs ? this.fs.state().paths : {},
      unit: this.unit,
      slice: this.slice,
    };
    if (this.rootless) state.rootless = true;
    return state;
  }
}

function readInitCgroups(): Record<string, string> {
  try {
    return parseProcCgroup(readFileSync('/proc/1/cgroup', 'utf8'));
  } catch (error) {
    throw new CgroupError('CGROUP_READ', `read /proc/1/cgroup: ${(error as Error).message}`, {
      cause: error,
      path: '/proc/1/cgroup',
    });
  }
}
