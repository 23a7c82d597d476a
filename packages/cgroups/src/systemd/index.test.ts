import { existsSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  FakeSystemd,
  type FakeUnit,
  type ReceivedProperty,
} from '../../test/systemd/fake-systemd.js';
import { type FakeV1, type FakeV2, makeFakeV1, makeFakeV2 } from '../../test/test-cgroupfs.js';
import { containerDeviceRules } from '../devices.js';
import { CgroupError } from '../errors.js';
import type { CgroupLayout } from '../types.js';
import { connectSystemdBus } from './bus.js';
import {
  expandSlice,
  SystemdError,
  SystemdManager,
  type SystemdManagerOptions,
  UINT64_MAX,
} from './index.js';

/** The hierarchies systemd creates a unit's cgroup in on v1 (the others are the fs driver's). */
const SYSTEMD_V1 = ['name=systemd', 'memory', 'cpu', 'cpuacct', 'blkio', 'pids', 'devices'];

const PROC_DEVICES = 'Character devices:\n  1 mem\n136 pts\n\nBlock devices:\n  8 sd\n';

let systemd: FakeSystemd;
let v1: FakeV1;
let layout: CgroupLayout;

beforeEach(async () => {
  systemd = await FakeSystemd.start();
  v1 = makeFakeV1();
  layout = { mode: 'legacy', v1Mounts: v1.mounts };
  // Like systemd: a started scope gets its cgroup, a stopped one loses those systemd manages.
  systemd.onStart = (unit) => {
    const slice = String(unit.properties.find((p) => p.name === 'Slice')?.value ?? '');
    v1.makeCgroup(unit.name.endsWith('.slice') ? expandSlice(unit.name) : `/${slice}/${unit.name}`);
  };
  systemd.onStop = (unit) => {
    const slice = unit.properties.find((p) => p.name === 'Slice')?.value ?? '';
    for (const key of Object.keys(v1.mounts)) {
      const dir = join(v1.mounts[key] as string, String(slice), unit.name);
      if (SYSTEMD_V1.includes(key)) rmSync(dir, { recursive: true, force: true });
      // cpuset and freezer stay: empty them as the kernel's files would not count.
      else if (existsSync(dir)) for (const file of readdirSync(dir)) unlinkSync(join(dir, file));
    }
  };
});

afterEach(async () => {
  await systemd.close();
  v1.cleanup();
});

function manager(
  cgroupsPath?: string,
  options: SystemdManagerOptions = {},
  over: { layout?: CgroupLayout; rootless?: boolean } = {},
): SystemdManager {
  return new SystemdManager(
    { containerId: 'ctr1', cgroupsPath, systemd: true, rootless: over.rootless ?? false },
    over.layout ?? layout,
    { connect: systemd.connector(), initCgroups: {}, procDevices: () => PROC_DEVICES, ...options },
  );
}

function brief(properties: ReceivedProperty[]): string[] {
  const show = (value: unknown): string =>
    Array.isArray(value) ? `[${value.map(show).join(',')}]` : String(value);
  return properties.map((p) => `${p.name}=${p.signature}:${show(p.value)}`);
}

async function failure<T extends Error>(
  promise: Promise<unknown>,
  type: new (...args: never[]) => T,
): Promise<T> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(type);
    return error as T;
  }
  throw new Error(`expected a ${type.name}`);
}

/** Each operation closes its connection; the fake sees the close a moment later. */
async function expectNoOpenConnection(): Promise<void> {
  for (let i = 0; i < 50 && systemd.openConnections > 0; i++) await sleep(10);
  expect(systemd.openConnections).toBe(0);
}

describe('SystemdManager.apply', () => {
  it("starts a transient scope with runc's properties and waits for its job (cgroup v1)", async () => {
    const m = manager();
    await m.apply(4242);
    expect(systemd.calls.map((call) => call.member)).toEqual(['Subscribe', 'StartTransientUnit']);
    const [start] = systemd.callsOf('StartTransientUnit');
    if (!start) throw new Error('no StartTransientUnit call');
    expect(start.signature).toBe('ssa(sv)a(sa(sv))');
    const [name, mode, properties, auxiliary] = start.args as [
      string,
      string,
      ReceivedProperty[],
      unknown[],
    ];
    expect([name, mode, auxiliary]).toEqual(['runc-ctr1.scope', 'replace', []]);
    expect(brief(properties)).toEqual([
      'Description=s:libcontainer container ctr1',
      'Slice=s:system.slice',
      'Delegate=b:true',
      'PIDs=au:[4242]',
      'MemoryAccounting=b:true',
      'CPUAccounting=b:true',
      'BlockIOAccounting=b:true',
      'TasksAccounting=b:true',
      'DefaultDependencies=b:false',
    ]);
    // The fs driver joined the hierarchies systemd does not manage.
    const paths = m.state().paths;
    expect(readFileSync(join(paths.cpuset as string, 'cgroup.procs'), 'utf8')).toBe('4242');
    expect(readFileSync(join(paths.freezer as string, 'cgroup.procs'), 'utf8')).toBe('4242');
    await expectNoOpenConnection();
  });

  it("reports the unit, its slice and a directory per hierarchy under systemd's root", () => {
    const m = manager('a-b.slice:pfx:c2', {
      initCgroups: { 'name=systemd': '/init.scope', memory: '/', cpu: '/machine/init.scope' },
    });
    const state = m.state();
    expect(state).toMatchObject({ driver: 'systemd', unit: 'pfx-c2.scope', slice: 'a-b.slice' });
    expect(state.paths['name=systemd']).toBe(
      join(v1.mounts['name=systemd'] as string, 'a.slice/a-b.slice/pfx-c2.scope'),
    );
    expect(state.paths.memory).toBe(
      join(v1.mounts.memory as string, 'a.slice/a-b.slice/pfx-c2.scope'),
    );
    // PID 1 below the hierarchy root (systemd in a container): the unit is below that too.
    expect(state.paths.cpu).toBe(
      join(v1.mounts.cpu as string, 'machine/a.slice/a-b.slice/pfx-c2.scope'),
    );
    expect(Object.keys(state.paths)).toContain('freezer');
  });

  it('adds the org.systemd.property.* annotations after its own properties', async () => {
    await manager(undefined, {
      annotations: {
        'org.systemd.property.CollectMode': "'inactive-or-failed'",
        'org.systemd.property.TimeoutStopSec': 'uint64 7',
      },
    }).apply(1);
    const properties = systemd.callsOf('StartTransientUnit')[0]?.args[2] as ReceivedProperty[];
    expect(brief(properties.slice(-2))).toEqual([
      'CollectMode=s:inactive-or-failed',
      'TimeoutStopUSec=t:7000000',
    ]);
  });

  it('fails with SYSTEMD_JOB_FAILED when the start job does not end "done"', async () => {
    systemd.jobResult = () => 'failed';
    const error = await failure(manager().apply(1), SystemdError);
    expect(error.code).toBe('SYSTEMD_JOB_FAILED');
    expect(error.message).toBe(
      'systemd could not start runc-ctr1.scope: its job ended with "failed" (see journalctl -u runc-ctr1.scope)',
    );
  });

  it('gives up waiting for a job after the timeout', async () => {
    systemd.sendJobSignals = false;
    const error = await failure(manager(undefined, { jobTimeoutMs: 100 }).apply(1), SystemdError);
    expect(error.code).toBe('SYSTEMD_TIMEOUT');
    expect(error.message).toMatch(
      /did not finish the start job of runc-ctr1\.scope \(\/org\/freedesktop\/systemd1\/job\/1\) within 0\.1 s/,
    );
    await expectNoOpenConnection();
  });

  it('resets a leftover failed unit of the same name and starts again', async () => {
    systemd.units.set('runc-ctr1.scope', {
      name: 'runc-ctr1.scope',
      activeState: 'failed',
      properties: [],
    });
    await manager().apply(1);
    expect(systemd.calls.map((call) => call.member)).toEqual([
      'Subscribe',
      'StartTransientUnit',
      'ResetFailedUnit',
      'StartTransientUnit',
    ]);
    expect(systemd.units.get('runc-ctr1.scope')?.activeState).toBe('active');
  });

  it('refuses to take over a live unit of the same name', async () => {
    const live: FakeUnit = { name: 'runc-ctr1.scope', activeState: 'active', properties: [] };
    systemd.units.set(live.name, live);
    const error = await failure(manager().apply(1), SystemdError);
    expect(error.code).toBe('SYSTEMD_UNIT_EXISTS');
    expect(error.message).toMatch(
      /^systemd already has a unit runc-ctr1\.scope \(linux\.cgroupsPath names a unit in use/,
    );
    expect(systemd.units.get(live.name)).toBe(live);
  });

  it('creates a slice without PIDs, accepts an existing one, and joins the pid through cgroupfs', async () => {
    const m = manager('system.slice:runc:system-pod1.slice');
    await m.apply(777);
    const properties = systemd.callsOf('StartTransientUnit')[0]?.args[2] as ReceivedProperty[];
    expect(brief(properties).slice(0, 2)).toEqual([
      'Description=s:libcontainer container system-pod1.slice',
      'Wants=as:[system.slice]',
    ]);
    expect(properties.map((p) => p.name)).not.toContain('PIDs');
    expect(readFileSync(join(m.state().paths.memory as string, 'cgroup.procs'), 'utf8')).toBe(
      '777',
    );
    await manager('system.slice:runc:system-pod1.slice').apply(0);
  });

  it('says clearly when systemd cannot be reached', async () => {
    const m = manager(undefined, {
      connect: (options) =>
        connectSystemdBus(options, [{ socket: join(v1.root, 'no-such-socket'), direct: true }]),
    });
    const error = await failure(m.apply(1), SystemdError);
    expect(error.code).toBe('SYSTEMD_UNAVAILABLE');
    expect(error.message).toMatch(
      /^cannot reach systemd over D-Bus \(.*\/no-such-socket: no such socket\)\. The systemd cgroup driver \(--systemd-cgroup\) needs systemd running as the init system; PID 1 /,
    );
    expect(error.message).toMatch(/Without systemd, leave out --systemd-cgroup\.$/);
  });

  it('reports a lost connection as SYSTEMD_UNAVAILABLE', async () => {
    systemd.failCall = (call) => {
      if (call.member === 'StartTransientUnit') systemd.dropConnections();
      return undefined;
    };
    const error = await failure(manager().apply(1), SystemdError);
    expect(error.code).toBe('SYSTEMD_UNAVAILABLE');
    expect(error.message).toMatch(
      /^org\.freedesktop\.systemd1\.Manager\.StartTransientUnit: connection to .* lost/,
    );
  });

  it('refuses a rootless container on cgroup v1, as runc does', () => {
    expect(() => manager(undefined, {}, { rootless: true })).toThrow(
      /a rootless container can use the systemd cgroup driver only on cgroup v2/,
    );
  });
});

describe('SystemdManager.set', () => {
  it('sets the unit properties (runtime) and then writes every resource through cgroupfs', async () => {
    const m = manager();
    await m.apply(1);
    await m.set({
      memory: { limit: 52428800, reservation: 1048576 },
      cpu: { shares: 512, quota: 25000, period: 50000 },
      pids: { limit: -1 },
    });
    const [call] = systemd.callsOf('SetUnitProperties');
    expect(call?.signature).toBe('sba(sv)');
    expect(call?.args.slice(0, 2)).toEqual(['runc-ctr1.scope', true]);
    expect(brief(call?.args[2] as ReceivedProperty[])).toEqual([
      'MemoryLimit=t:52428800',
      'CPUShares=t:512',
      'CPUQuotaPeriodUSec=t:50000',
      'CPUQuotaPerSecUSec=t:500000',
      `TasksMax=t:${UINT64_MAX}`,
    ]);
    const paths = m.state().paths;
    expect(readFileSync(join(paths.memory as string, 'memory.limit_in_bytes'), 'utf8')).toBe(
      '52428800',
    );
    // Not a systemd property on v1: only the fs driver sets it.
    expect(readFileSync(join(paths.memory as string, 'memory.soft_limit_in_bytes'), 'utf8')).toBe(
      '1048576',
    );
    expect(readFileSync(join(paths.pids as string, 'pids.max'), 'utf8')).toBe('max');
    expect(systemd.callsOf('Get')[0]?.args).toEqual([
      'org.freedesktop.systemd1.Manager',
      'Version',
    ]);
  });

  it('leaves newer properties out for an older systemd', async () => {
    systemd.version = '241';
    const m = manager();
    await m.apply(1);
    await m.set({ cpu: { period: 50000, cpus: '0' } });
    expect(brief(systemd.callsOf('SetUnitProperties')[0]?.args[2] as ReceivedProperty[])).toEqual([
      `CPUQuotaPerSecUSec=t:${UINT64_MAX}`,
    ]);
  });

  it('freezes the container while systemd rewrites its device rules', async () => {
    const m = manager();
    await m.apply(1);
    const freezerFile = join(m.state().paths.freezer as string, 'freezer.state');
    let stateDuringCall = '';
    systemd.failCall = (call) => {
      if (call.member === 'SetUnitProperties') stateDuringCall = readFileSync(freezerFile, 'utf8');
      return undefined;
    };
    await m.set({ devices: containerDeviceRules([{ allow: false, access: 'rwm' }]) });
    expect(stateDuringCall).toBe('FROZEN');
    expect(readFileSync(freezerFile, 'utf8')).toBe('THAWED');
    const properties = systemd.callsOf('SetUnitProperties')[0]?.args[2] as ReceivedProperty[];
    expect(brief(properties).slice(0, 2)).toEqual([
      'DevicePolicy=s:strict',
      'DeviceAllow=a(ss):[]',
    ]);
    expect((properties[2]?.value as unknown[] | undefined)?.length).toBe(11);
    // Then the fs driver: from "everything allowed" to the allow-list, denying everything first.
    expect(readFileSync(join(m.state().paths.devices as string, 'devices.deny'), 'utf8')).toBe('a');
  });

  it('does not thaw a container that was frozen already', async () => {
    const m = manager();
    await m.apply(1);
    await m.freeze();
    await m.set({ devices: [{ allow: true, access: 'rwm' }] });
    expect(m.freezerState()).toBe('frozen');
  });

  it("reports systemd's refusal with its D-Bus error, and writes nothing to cgroupfs", async () => {
    const m = manager();
    await m.apply(1);
    systemd.failCall = (call) =>
      call.member === 'SetUnitProperties'
        ? { name: 'org.freedesktop.DBus.Error.AccessDenied', message: 'Access denied' }
        : undefined;
    const error = await failure(m.set({ pids: { limit: 10 } }), SystemdError);
    expect(error.code).toBe('SYSTEMD_CALL_FAILED');
    expect(error.dbusError).toBe('org.freedesktop.DBus.Error.AccessDenied');
    expect(error.message).toBe('org.freedesktop.systemd1.Manager.SetUnitProperties: Access denied');
    expect(readFileSync(join(m.state().paths.pids as string, 'pids.max'), 'utf8')).toBe('max\n');
  });

  it('validates resources before changing anything', async () => {
    const m = manager();
    await m.apply(1);
    const error = await failure(m.set({ cpu: { cpus: '2-1' } }), CgroupError);
    expect(error.message).toMatch(/^linux\.resources\.cpu\.cpus: "2-1" is not a cpu list/);
    expect(systemd.callsOf('SetUnitProperties')).toEqual([]);
  });
});

describe('SystemdManager.planned (dry run)', () => {
  it("gives the unit's start and resource properties without a connection to systemd", () => {
    const m = manager('system.slice:runc:ctr1', {
      annotations: { 'org.systemd.property.CollectMode': "'inactive-or-failed'" },
    });
    const planned = m.planned(
      { memory: { limit: 52428800 }, cpu: { quota: 25000, period: 50000 }, pids: { limit: 9 } },
      244,
    );
    expect(planned.unit).toBe('runc-ctr1.scope');
    expect(planned.slice).toBe('system.slice');
    expect(brief(planned.properties)).toEqual([
      'Description=s:libcontainer container ctr1',
      'Slice=s:system.slice',
      'Delegate=b:true',
      'MemoryAccounting=b:true',
      'CPUAccounting=b:true',
      'BlockIOAccounting=b:true',
      'TasksAccounting=b:true',
      'DefaultDependencies=b:false',
      'CollectMode=s:inactive-or-failed',
      'MemoryLimit=t:52428800',
      'CPUQuotaPeriodUSec=t:50000',
      'CPUQuotaPerSecUSec=t:500000',
      'TasksMax=t:9',
    ]);
    // The fs driver that writes the rest, at the unit's directories.
    expect(planned.fs?.state().paths.memory).toBe(
      join(v1.mounts.memory as string, 'system.slice/runc-ctr1.scope'),
    );
    expect(systemd.calls).toEqual([]);
  });

  it("has no fs driver for a rootless unit: its place is the user manager's", () => {
    const v2 = makeFakeV2();
    try {
      const m = manager(
        undefined,
        {},
        { layout: { mode: 'unified', v1Mounts: {}, v2Mount: v2.root }, rootless: true },
      );
      expect(m.planned({}, 244).fs).toBeUndefined();
      expect(systemd.calls).toEqual([]);
    } finally {
      v2.cleanup();
    }
  });
});

describe('SystemdManager.destroy, state and fromState', () => {
  it('stops the unit, waits for it, resets it and removes the cgroups systemd leaves', async () => {
    const m = manager();
    await m.apply(1);
    const paths = m.state().paths;
    await m.destroy();
    expect(systemd.calls.slice(-2).map((call) => [call.member, call.args])).toEqual([
      ['StopUnit', ['runc-ctr1.scope', 'replace']],
      ['ResetFailedUnit', ['runc-ctr1.scope']],
    ]);
    for (const dir of Object.values(paths)) expect(existsSync(dir)).toBe(false);
    expect(m.exists()).toBe(false);
    // Again: the unit is gone (NoSuchUnit) and so are the directories.
    await m.destroy();
    await expectNoOpenConnection();
  });

  it('still removes the directories when systemd cannot be reached, then reports it', async () => {
    const m = manager();
    await m.apply(1);
    const paths = m.state().paths;
    // What the kernel would show once the processes are gone: directories without files.
    for (const dir of Object.values(paths))
      for (const file of readdirSync(dir)) unlinkSync(join(dir, file));
    await systemd.close();
    const error = await failure(m.destroy(), SystemdError);
    expect(error.code).toBe('SYSTEMD_UNAVAILABLE');
    for (const dir of Object.values(paths)) expect(existsSync(dir)).toBe(false);
    systemd = await FakeSystemd.start();
  });

  it('comes back from its state', async () => {
    const m = manager('system.slice:pfx:back');
    await m.apply(5);
    const state = JSON.parse(JSON.stringify(m.state()));
    const restored = SystemdManager.fromState(state, layout, { connect: systemd.connector() });
    expect(restored.state()).toEqual(m.state());
    expect(restored.pids()).toEqual([5]);
    await restored.set({ pids: { limit: 3 } });
    expect(systemd.callsOf('SetUnitProperties')[0]?.args[0]).toBe('pfx-back.scope');
    await restored.destroy();
    expect(restored.exists()).toBe(false);
    await expect(restored.apply(1)).rejects.toThrow(/loaded from state and exists already/);
    expect(() => SystemdManager.fromState({ driver: 'fs', paths: {} }, layout)).toThrow(
      CgroupError,
    );
    expect(() => SystemdManager.fromState({ driver: 'systemd', paths: {} }, layout)).toThrow(
      /no unit or slice/,
    );
  });

  it('freezes and thaws through the cgroup freezer', async () => {
    const m = manager();
    await m.apply(1);
    expect(m.freezerState()).toBe('thawed');
    await m.freeze();
    expect(m.freezerState()).toBe('frozen');
    await m.thaw();
    expect(m.freezerState()).toBe('thawed');
    expect(systemd.calls.map((call) => call.member)).not.toContain('FreezeUnit');
  });
});

describe('SystemdManager on cgroup v2', () => {
  let v2: FakeV2;
  let unified: CgroupLayout;

  beforeEach(() => {
    v2 = makeFakeV2();
    unified = { mode: 'unified', v1Mounts: {}, v2Mount: v2.root };
    systemd.onStart = (unit) => {
      const slice = String(unit.properties.find((p) => p.name === 'Slice')?.value ?? '');
      const base = systemd.controlGroup === '/' ? '' : systemd.controlGroup;
      v2.makeCgroup(`${base}/${slice}/${unit.name}`);
    };
    systemd.onStop = () => {};
  });

  afterEach(() => v2.cleanup());

  it('accounts IO, maps v2 properties, and keeps one directory', async () => {
    const m = manager(undefined, { initCgroups: { '': '/init.scope' } }, { layout: unified });
    expect(m.state().paths).toEqual({ '': join(v2.root, 'system.slice/runc-ctr1.scope') });
    await m.apply(9);
    const start = systemd.callsOf('StartTransientUnit')[0]?.args[2] as ReceivedProperty[];
    expect(start.map((p) => p.name)).toContain('IOAccounting');
    await m.set({
      memory: { limit: 52428800, swap: 104857600 },
      cpu: { shares: 1024 },
      unified: { 'memory.high': '40000000' },
    });
    expect(brief(systemd.callsOf('SetUnitProperties')[0]?.args[2] as ReceivedProperty[])).toEqual([
      'MemoryMax=t:52428800',
      'MemorySwapMax=t:52428800',
      'CPUWeight=t:39',
      'MemoryHigh=t:40000000',
    ]);
    const dir = m.state().paths[''] as string;
    expect(readFileSync(join(dir, 'memory.max'), 'utf8')).toBe('52428800');
    expect(readFileSync(join(dir, 'memory.high'), 'utf8')).toBe('40000000');
    // The fake's cgroup.events does not change by itself: say "frozen" as the kernel would.
    writeFileSync(join(dir, 'cgroup.events'), 'populated 1\nfrozen 1\n');
    await m.freeze();
    expect(readFileSync(join(dir, 'cgroup.freeze'), 'utf8')).toBe('1');
  });

  it("places a rootless unit below the user manager's cgroup", async () => {
    systemd.controlGroup = '/user.slice/user-1000.slice/user@1000.service';
    const m = manager(undefined, {}, { layout: unified, rootless: true });
    expect(m.state()).toEqual({
      driver: 'systemd',
      paths: {},
      unit: 'runc-ctr1.scope',
      slice: 'user.slice',
      rootless: true,
    });
    expect(m.exists()).toBe(false);
    await m.apply(3);
    expect(m.state().paths).toEqual({
      '': join(v2.root, 'user.slice/user-1000.slice/user@1000.service/user.slice/runc-ctr1.scope'),
    });
    expect(systemd.callsOf('Get')[0]?.args).toEqual([
      'org.freedesktop.systemd1.Manager',
      'ControlGroup',
    ]);
  });

  it("prepare() learns a rootless unit's directory before apply, asking once", async () => {
    systemd.controlGroup = '/user.slice/user-1000.slice/user@1000.service';
    const m = manager(undefined, {}, { layout: unified, rootless: true });
    await m.prepare();
    const dir = join(
      v2.root,
      'user.slice/user-1000.slice/user@1000.service/user.slice/runc-ctr1.scope',
    );
    expect(m.state().paths).toEqual({ '': dir });
    expect(systemd.callsOf('StartTransientUnit')).toEqual([]);
    await m.prepare();
    await m.apply(3);
    expect(m.state().paths).toEqual({ '': dir });
    expect(systemd.callsOf('Get')).toHaveLength(1);
  });
});
