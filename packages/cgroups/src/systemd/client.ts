import {
  type DbusSignal,
  MANAGER_INTERFACE,
  SYSTEMD_PATH,
  SYSTEMD_SERVICE,
  type SystemdBus,
} from './bus.js';
import { SystemdError } from './errors.js';
import type { DbusValue, UnitProperty } from './properties.js';

const PROPERTIES_INTERFACE = 'org.freedesktop.DBus.Properties';
const DBUS_INTERFACE = 'org.freedesktop.DBus';

/** How long a start or stop job may take (runc waits 30 s too). */
export const DEFAULT_JOB_TIMEOUT_MS = 30_000;

/** The result JobRemoved reports: "done", "canceled", "timeout", "failed", "dependency", "skipped". */
export type JobResult = string;

/** D-Bus error names systemd answers with that the driver acts on. */
export const DBUS_ERRORS = {
  unitExists: 'org.freedesktop.systemd1.UnitExists',
  noSuchUnit: 'org.freedesktop.systemd1.NoSuchUnit',
  loadFailed: 'org.freedesktop.systemd1.LoadFailed',
} as const;

/**
 * systemd's manager API as the driver uses it, over a SystemdBus: unit
 * start/stop jobs awaited through JobRemoved, property changes and reads.
 */
export class SystemdClient {
  private subscribed: Promise<void> | undefined;
  /** Jobs that finished, by object path, kept until someone waits for them. */
  private readonly finishedJobs = new Map<string, JobResult>();
  private readonly jobWaiters = new Map<string, (result: JobResult) => void>();
  private readonly stopSignals: () => void;
  private versionCache: number | undefined;

  constructor(
    readonly bus: SystemdBus,
    private readonly jobTimeoutMs = DEFAULT_JOB_TIMEOUT_MS,
  ) {
    this.stopSignals = bus.onSignal((signal) => this.onSignal(signal));
  }

  close(): void {
    this.stopSignals();
    this.bus.close();
  }

  private onSignal(signal: DbusSignal): void {
    if (signal.interface !== MANAGER_INTERFACE || signal.member !== 'JobRemoved') return;
    // JobRemoved(u id, o job, s unit, s result)
    const [, job, , result] = signal.body as [number, string, string, string];
    const waiter = this.jobWaiters.get(job);
    if (waiter) waiter(result);
    else this.finishedJobs.set(job, result);
  }

  private manager(member: string, signature?: string, body?: DbusValue[]): Promise<unknown[]> {
    const call = { path: SYSTEMD_PATH, interface: MANAGER_INTERFACE, member };
    return this.bus.call(signature === undefined ? call : { ...call, signature, body: body ?? [] });
  }

  /**
   * Asks systemd to send job signals (Subscribe), through a match rule when
   * a bus daemon is in between. Done once, before the first job.
   */
  private subscribe(): Promise<void> {
    this.subscribed ??= (async () => {
      if (this.bus.viaBusDaemon) {
        await this.bus.call({
          destination: DBUS_INTERFACE,
          path: '/org/freedesktop/DBus',
          interface: DBUS_INTERFACE,
          member: 'AddMatch',
          signature: 's',
          body: [
            `type='signal',sender='${SYSTEMD_SERVICE}',path='${SYSTEMD_PATH}',interface='${MANAGER_INTERFACE}',member='JobRemoved'`,
          ],
        });
      }
      await this.manager('Subscribe');
    })();
    return this.subscribed;
  }

  /** systemd's major version, from Manager.Version ("252.39-1~deb12u2" -> 252); 0 when unreadable. */
  async version(): Promise<number> {
    if (this.versionCache === undefined) {
      const value = await this.getProperty(SYSTEMD_PATH, MANAGER_INTERFACE, 'Version');
      const match = typeof value === 'string' ? /(\d+)/.exec(value) : null;
      this.versionCache = match ? Number(match[1]) : 0;
    }
    return this.versionCache;
  }

  /** Properties.Get on an object of systemd; resolves with the variant's value. */
  async getProperty(path: string, iface: string, name: string): Promise<unknown> {
    const [variant] = await this.bus.call({
      path,
      interface: PROPERTIES_INTERFACE,
      member: 'Get',
      signature: 'ss',
      body: [iface, name],
    });
    return variantValue(variant);
  }

  /** The object path of a loaded unit; rejects with NoSuchUnit when systemd does not have it. */
  async getUnit(name: string): Promise<string> {
    const [path] = await this.manager('GetUnit', 's', [name]);
    return String(path);
  }

  /** A property of a unit (interface e.g. org.freedesktop.systemd1.Unit or .Scope). */
  async getUnitProperty(unit: string, iface: string, name: string): Promise<unknown> {
    return this.getProperty(await this.getUnit(unit), iface, name);
  }

  /**
   * StartTransientUnit(name, "replace", properties, no auxiliary units) and
   * waits for its job. A result other than "done" fails with
   * SYSTEMD_JOB_FAILED, and so does a job that does not end in time.
   */
  async startTransientUnit(name: string, properties: readonly UnitProperty[]): Promise<void> {
    await this.subscribe();
    const [job] = await this.manager('StartTransientUnit', 'ssa(sv)a(sa(sv))', [
      name,
      'replace',
      propertiesArgument(properties),
      [],
    ]);
    const result = await this.waitForJob(String(job), name, 'start');
    if (result !== 'done') {
      throw new SystemdError(
        'SYSTEMD_JOB_FAILED',
        `systemd could not start ${name}: its job ended with "${result}" (see journalctl -u ${name})`,
        { unit: name },
      );
    }
  }

  /**
   * StopUnit(name, "replace") and waits for its job. Resolves with the job's
   * result, or "no-such-unit" when systemd does not know the unit.
   */
  async stopUnit(name: string): Promise<JobResult> {
    await this.subscribe();
    let job: unknown;
    try {
      [job] = await this.manager('StopUnit', 'ss', [name, 'replace']);
    } catch (error) {
      if (error instanceof SystemdError && error.dbusError === DBUS_ERRORS.noSuchUnit)
        return 'no-such-unit';
      throw error;
    }
    return this.waitForJob(String(job), name, 'stop');
  }

  /** SetUnitProperties(name, runtime=true, properties): changes that last until reboot, like runc's. */
  async setUnitProperties(name: string, properties: readonly UnitProperty[]): Promise<void> {
    if (properties.length === 0) return;
    await this.manager('SetUnitProperties', 'sba(sv)', [
      name,
      true,
      propertiesArgument(properties),
    ]);
  }

  /** ResetFailedUnit(name); a unit systemd does not have is not an error. */
  async resetFailedUnit(name: string): Promise<void> {
    try {
      await this.manager('ResetFailedUnit', 's', [name]);
    } catch (error) {
      if (error instanceof SystemdError && error.dbusError === DBUS_ERRORS.noSuchUnit) return;
      throw error;
    }
  }

  private waitForJob(job: string, unit: string, what: string): Promise<JobResult> {
    const done = this.finishedJobs.get(job);
    if (done !== undefined) {
      this.finishedJobs.delete(job);
      return Promise.resolve(done);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.jobWaiters.delete(job);
        reject(
          new SystemdError(
            'SYSTEMD_TIMEOUT',
            `systemd did not finish the ${what} job of ${unit} (${job}) within ${this.jobTimeoutMs / 1000} s`,
            { unit },
          ),
        );
      }, this.jobTimeoutMs);
      this.jobWaiters.set(job, (result) => {
        clearTimeout(timer);
        this.jobWaiters.delete(job);
        resolve(result);
      });
    });
  }
}

/** The a(sv) argument: each property as [name, [signature, value]]. */
function propertiesArgument(properties: readonly UnitProperty[]): DbusValue[] {
  return properties.map((property) => [property.name, [property.signature, property.value]]);
}

/** dbus-native hands a variant over as [signature tree, [value]]. */
function variantValue(variant: unknown): unknown {
  if (Array.isArray(variant) && variant.length === 2 && Array.isArray(variant[1])) {
    return (variant[1] as unknown[])[0];
  }
  return variant;
}
