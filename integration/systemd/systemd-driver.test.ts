// The systemd cgroup driver against a real systemd: run inside the container
// integration/systemd/run-in-nspawn boots (integration/tests/systemd-nspawn.test.ts
// does that on the host), with its own vitest config:
//   integration/systemd/run-in-nspawn -- node_modules/.bin/vitest run --config integration/systemd/vitest.config.ts
// Each test makes uniquely named units around a `sleep` of its own and
// removes them, and the slices it made, in finally blocks.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// The driver's sources, not the package entry: this file only runs in the
// container, outside the integration project and its dependencies.
import { containerDeviceRules } from '../../packages/cgroups/src/devices.js';
import { CgroupError } from '../../packages/cgroups/src/errors.js';
import { detectLayout, parseProcCgroup } from '../../packages/cgroups/src/layout.js';
import {
  busAddressEndpoints,
  connectSystemdBus,
  resourceProperties,
  SystemdClient,
  SystemdError,
  SystemdManager,
} from '../../packages/cgroups/src/systemd/index.js';
import type { CgroupLayout } from '../../packages/cgroups/src/types.js';

const MiB = 1024 * 1024;

function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  const init = readFileSync('/proc/1/comm', 'utf8').trim();
  if (init !== 'systemd') return `PID 1 is ${JSON.stringify(init)}, not systemd`;
  if (!process.env.RUNC_TS_NSPAWN_GUEST && process.env.RUNC_TS_SYSTEMD_TESTS_ON_HOST !== '1') {
    return "not inside run-in-nspawn (set RUNC_TS_SYSTEMD_TESTS_ON_HOST=1 to use this host's systemd)";
  }
  return undefined;
}

const skip = skipReason();
if (skip) console.warn(`systemd driver tests skipped: ${skip}`);

let counter = 0;
/** Unit-name-safe and unique across runs in one systemd. */
function uniqueId(label: string): string {
  counter++;
  return `sdt${process.pid}x${counter}${label}`;
}

function sleeper(): ChildProcess & { pid: number } {
  const child = spawn('sleep', ['300'], { stdio: 'ignore' });
  if (child.pid === undefined) throw new Error('could not start sleep');
  return child as ChildProcess & { pid: number };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/** `systemctl show` as a map; a property shown on several lines (DeviceAllow) is joined with "\n". */
function show(unit: string, ...properties: string[]): Record<string, string> {
  const result = spawnSync('systemctl', ['show', unit, ...properties.flatMap((p) => ['-p', p])], {
    encoding: 'utf8',
  });
  expect(result.status, result.stderr).toBe(0);
  const values: Record<string, string> = {};
  for (const line of result.stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    values[key] = values[key] === undefined ? value : `${values[key]}\n${value}`;
  }
  return values;
}

function systemctl(...args: string[]): void {
  spawnSync('systemctl', args, { stdio: 'ignore' });
}

function read(dir: string | undefined, file: string): string {
  if (dir === undefined) throw new Error(`no directory for ${file}`);
  return readFileSync(join(dir, file), 'utf8').trim();
}

/** Whether the cgroup files of the limits exist here (not on a hybrid host's empty cgroup2). */
function limitsInCgroupfs(layout: CgroupLayout): boolean {
  if (layout.mode !== 'unified') {
    return ['memory', 'cpu', 'pids', 'freezer'].every((key) => layout.v1Mounts[key] !== undefined);
  }
  const controllers = readFileSync(join(layout.v2Mount ?? '', 'cgroup.controllers'), 'utf8');
  return ['memory', 'cpu', 'pids'].every((name) => controllers.split(/\s+/).includes(name));
}

describe.skipIf(skip)('SystemdManager against a real systemd (inside run-in-nspawn)', () => {
  const layout = skip ? undefined : detectLayout();
  const v2 = layout?.mode === 'unified';
  const withLimits = layout ? limitsInCgroupfs(layout) : false;
  if (layout && !withLimits) {
    console.warn(
      `cgroup limits are checked in systemd's unit properties only: this ${layout.mode} cgroup2 hierarchy has no memory/cpu/pids controllers (the host uses them in cgroup v1)`,
    );
  }

  it(`creates the scope, sets limits, freezes, thaws and removes it (cgroups ${layout?.mode})`, async () => {
    const id = uniqueId('life');
    const unit = `runc-${id}.scope`;
    const child = sleeper();
    const warnings: string[] = [];
    const manager = new SystemdManager({ containerId: id, systemd: true }, layout!, {
      warn: (message) => warnings.push(message),
    });
    let paths: Record<string, string> = {};
    try {
      await manager.apply(child.pid);
      paths = manager.state().paths;
      expect(manager.state()).toMatchObject({ driver: 'systemd', unit, slice: 'system.slice' });
      expect(
        show(
          unit,
          'ActiveState',
          'Slice',
          'ControlGroup',
          'Delegate',
          'Description',
          'DefaultDependencies',
        ),
      ).toEqual({
        ActiveState: 'active',
        Slice: 'system.slice',
        ControlGroup: `/system.slice/${unit}`,
        Delegate: 'yes',
        Description: `libcontainer container ${id}`,
        DefaultDependencies: 'no',
      });
      // The process is in the unit's cgroup in every hierarchy the driver reports.
      const own = parseProcCgroup(readFileSync(`/proc/${child.pid}/cgroup`, 'utf8'));
      for (const [key, dir] of Object.entries(paths)) {
        expect(dir.endsWith(`/system.slice/${unit}`), `${key}: ${dir}`).toBe(true);
        expect(own[key], key).toBe(`/system.slice/${unit}`);
        expect(existsSync(dir), dir).toBe(true);
      }
      expect(manager.pids()).toContain(child.pid);

      const resources = {
        memory: { limit: 64 * MiB },
        cpu: { shares: 512, quota: 20000, period: 100000 },
        pids: { limit: 42 },
      };
      if (withLimits) {
        await manager.set({
          ...resources,
          devices: v2 ? undefined : containerDeviceRules([{ allow: false, access: 'rwm' }]),
        });
      } else {
        // systemd takes the properties first; the fs driver then finds no controller.
        const error = await manager.set(resources).catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(CgroupError);
        expect((error as CgroupError).message).toMatch(
          /^linux\.resources\.cpu\.shares: cannot be set: the cpu controller is not enabled/,
        );
      }
      if (v2) {
        expect(
          show(
            unit,
            'MemoryMax',
            'CPUWeight',
            'TasksMax',
            'CPUQuotaPerSecUSec',
            'CPUQuotaPeriodUSec',
          ),
        ).toEqual({
          MemoryMax: String(64 * MiB),
          CPUWeight: '20',
          TasksMax: '42',
          CPUQuotaPerSecUSec: '200ms',
          CPUQuotaPeriodUSec: '100ms',
        });
      } else {
        const unitProps = show(
          unit,
          'MemoryLimit',
          'CPUShares',
          'TasksMax',
          'CPUQuotaPerSecUSec',
          'DevicePolicy',
          'DeviceAllow',
        );
        expect(unitProps).toMatchObject({
          MemoryLimit: String(64 * MiB),
          CPUShares: '512',
          TasksMax: '42',
          CPUQuotaPerSecUSec: '200ms',
          DevicePolicy: 'strict',
        });
        // What runc 1.1.5 gives its default devices (systemctl shows them newest first).
        expect(unitProps.DeviceAllow?.split('\n')).toEqual([
          'char-pts rwm',
          '/dev/char/10:200 rwm',
          '/dev/char/5:2 rwm',
          '/dev/char/5:0 rwm',
          '/dev/char/1:9 rwm',
          '/dev/char/1:8 rwm',
          '/dev/char/1:7 rwm',
          '/dev/char/1:5 rwm',
          '/dev/char/1:3 rwm',
          'char-* m',
          'block-* m',
        ]);
      }
      if (withLimits && !v2) {
        expect(read(paths.memory, 'memory.limit_in_bytes')).toBe(String(64 * MiB));
        expect(read(paths.cpu, 'cpu.shares')).toBe('512');
        expect(read(paths.cpu, 'cpu.cfs_quota_us')).toBe('20000');
        expect(read(paths.pids, 'pids.max')).toBe('42');
        const devices = read(paths.devices, 'devices.list').split('\n');
        expect(devices).toContain('c 1:3 rwm');
        expect(devices).not.toContain('a *:* rwm');
      } else if (withLimits) {
        expect(read(paths[''], 'memory.max')).toBe(String(64 * MiB));
        expect(read(paths[''], 'cpu.weight')).toBe('20');
        expect(read(paths[''], 'cpu.max')).toBe('20000 100000');
        expect(read(paths[''], 'pids.max')).toBe('42');
      }

      // As `runc update`: only the memory limit changes, the device policy stays.
      if (withLimits) {
        await manager.set({ memory: { limit: 32 * MiB } });
        expect(show(unit, v2 ? 'MemoryMax' : 'MemoryLimit')).toEqual({
          [v2 ? 'MemoryMax' : 'MemoryLimit']: String(32 * MiB),
        });
        if (!v2) {
          expect(show(unit, 'DevicePolicy').DevicePolicy).toBe('strict');
          expect(read(paths.memory, 'memory.limit_in_bytes')).toBe(String(32 * MiB));
        }
      }

      await manager.freeze();
      expect(manager.freezerState()).toBe('frozen');
      if (v2) expect(read(paths[''], 'cgroup.freeze')).toBe('1');
      else expect(read(paths.freezer, 'freezer.state')).toBe('FROZEN');
      expect(readFileSync(`/proc/${child.pid}/stat`, 'utf8')).toBeTruthy();
      await manager.thaw();
      expect(manager.freezerState()).toBe('thawed');
    } finally {
      await stop(child);
      await manager.destroy();
    }
    expect(show(unit, 'LoadState').LoadState).toBe('not-found');
    for (const dir of Object.values(paths)) expect(existsSync(dir), dir).toBe(false);
    expect(manager.exists()).toBe(false);
    await manager.destroy();
    expect(warnings).toEqual([]);
  });

  it('puts the scope in a nested slice of its own ("a-b.slice")', async () => {
    const tag = `n${process.pid}x${++counter}`;
    const slice = `runcts-${tag}.slice`;
    const id = uniqueId('nest');
    const child = sleeper();
    const manager = new SystemdManager(
      { containerId: id, cgroupsPath: `${slice}:test:${id}`, systemd: true },
      layout!,
    );
    try {
      await manager.apply(child.pid);
      expect(show(`test-${id}.scope`, 'ControlGroup', 'Slice')).toEqual({
        ControlGroup: `/runcts.slice/${slice}/test-${id}.scope`,
        Slice: slice,
      });
      for (const dir of Object.values(manager.state().paths)) {
        expect(dir.endsWith(`/runcts.slice/${slice}/test-${id}.scope`)).toBe(true);
      }
    } finally {
      await stop(child);
      await manager.destroy();
      systemctl('stop', slice, 'runcts.slice');
    }
  });

  it('refuses a second container with the same unit name until the first is gone', async () => {
    const id = uniqueId('twice');
    const unit = `runc-${id}.scope`;
    const first = sleeper();
    const second = sleeper();
    const one = new SystemdManager({ containerId: id, systemd: true }, layout!);
    const two = new SystemdManager({ containerId: id, systemd: true }, layout!);
    try {
      await one.apply(first.pid);
      const error = await two.apply(second.pid).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(SystemdError);
      expect((error as SystemdError).code).toBe('SYSTEMD_UNIT_EXISTS');
      expect(one.pids()).toEqual([first.pid]);
      await stop(first);
      await one.destroy();
      await two.apply(second.pid);
      expect(show(unit, 'ActiveState').ActiveState).toBe('active');
      expect(two.pids()).toEqual([second.pid]);
    } finally {
      await stop(first);
      await stop(second);
      await one.destroy();
      await two.destroy();
    }
  });

  it('makes a slice the container unit when the name ends in .slice', async () => {
    const slice = `system-runcts${process.pid}x${++counter}.slice`;
    const child = sleeper();
    const manager = new SystemdManager(
      { containerId: 'unused', cgroupsPath: `system.slice:runc:${slice}`, systemd: true },
      layout!,
    );
    let paths: Record<string, string> = {};
    try {
      await manager.apply(child.pid);
      paths = manager.state().paths;
      expect(show(slice, 'ActiveState', 'ControlGroup', 'Wants')).toEqual({
        ActiveState: 'active',
        ControlGroup: `/system.slice/${slice}`,
        Wants: 'system.slice',
      });
      expect(manager.pids()).toEqual([child.pid]);
    } finally {
      await stop(child);
      await manager.destroy();
    }
    // A stopped slice may stay loaded a while (systemd collects it later); it is inactive.
    expect(show(slice, 'ActiveState').ActiveState).toBe('inactive');
    for (const dir of Object.values(paths)) expect(existsSync(dir), dir).toBe(false);
  });

  it('takes annotations, comes back from its state and works through the system bus too', async () => {
    const id = uniqueId('state');
    const unit = `runc-${id}.scope`;
    const child = sleeper();
    // dbus-daemon is socket-activated in the container: the path through a bus daemon (Hello, AddMatch).
    const viaSystemBus = () =>
      connectSystemdBus(
        { rootless: false },
        busAddressEndpoints('unix:path=/run/dbus/system_bus_socket'),
      );
    const manager = new SystemdManager({ containerId: id, systemd: true }, layout!, {
      annotations: {
        'org.systemd.property.TimeoutStopSec': 'uint64 7',
        'org.systemd.property.CollectMode': "'inactive-or-failed'",
      },
      connect: viaSystemBus,
    });
    try {
      await manager.apply(child.pid);
      expect(show(unit, 'TimeoutStopUSec', 'CollectMode')).toEqual({
        TimeoutStopUSec: '7s',
        CollectMode: 'inactive-or-failed',
      });
      const state = JSON.parse(JSON.stringify(manager.state()));
      const restored = SystemdManager.fromState(state, layout!);
      expect(restored.pids()).toEqual([child.pid]);
      const client = new SystemdClient(await connectSystemdBus({ rootless: false }));
      try {
        await client.setUnitProperties(
          unit,
          resourceProperties(
            { pids: { limit: 7 } },
            { cgroupVersion: v2 ? 2 : 1, systemdVersion: await client.version() },
          ),
        );
        expect(await client.version()).toBeGreaterThanOrEqual(240);
      } finally {
        client.close();
      }
      expect(show(unit, 'TasksMax').TasksMax).toBe('7');
      await stop(child);
      await restored.destroy();
      expect(show(unit, 'LoadState').LoadState).toBe('not-found');
    } finally {
      await stop(child);
      await manager.destroy();
    }
  });
});
