// `runc --systemd-cgroup` end to end, inside the systemd that
// integration/systemd/run-in-nspawn boots: the CLI puts the container in a
// transient scope with its resources, and `delete` removes the unit.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../support/sandbox.js';

function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  const init = readFileSync('/proc/1/comm', 'utf8').trim();
  if (init !== 'systemd') return `PID 1 is ${JSON.stringify(init)}, not systemd`;
  if (!process.env.RUNC_TS_NSPAWN_GUEST) return 'not inside run-in-nspawn';
  return undefined;
}
const skip = skipReason();
if (skip) console.warn(`runc --systemd-cgroup tests skipped: ${skip}`);

const sandbox = new Sandbox();
afterAll(() => sandbox.cleanup());

/** `systemctl show` properties of a unit, or undefined when systemd does not know it. */
function unitProperties(unit: string): Record<string, string> | undefined {
  const shown = spawnSync('systemctl', ['show', unit], { encoding: 'utf8' });
  const properties: Record<string, string> = {};
  for (const line of shown.stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) properties[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return properties.LoadState === 'not-found' ? undefined : properties;
}

/** A unified hierarchy without controllers (nspawn --cgroup v2 on a hybrid host) cannot take limits. */
function noPidsController(): string | undefined {
  try {
    const controllers = readFileSync('/sys/fs/cgroup/cgroup.controllers', 'utf8');
    if (!controllers.split(/\s+/).includes('pids')) {
      return 'the cgroup2 hierarchy here has no pids controller (a hybrid host lends its controllers to v1)';
    }
  } catch {
    // not unified: v1 controllers are there
  }
  return undefined;
}
const noLimits = noPidsController();
if (!skip && noLimits) console.warn(`runc --systemd-cgroup limits test skipped: ${noLimits}`);

describe.skipIf(skip !== undefined)('runc --systemd-cgroup', () => {
  it.skipIf(noLimits !== undefined)(
    'runs a container in a scope with its limits, and delete removes the scope',
    () => {
      const bundle = sandbox.bundle((spec) => {
        spec.process!.args = ['sleep', '1000'];
        spec.linux!.resources = { ...spec.linux!.resources, pids: { limit: 33 } };
        spec.linux!.cgroupsPath = 'system.slice:runc-ts-it:cli';
      });
      const id = sandbox.id('sd');
      // The session keyring is refused in nspawn (EPERM), for runc too.
      const run = sandbox.runc([
        '--systemd-cgroup',
        'run',
        '-d',
        '--no-new-keyring',
        '-b',
        bundle,
        id,
      ]);
      expect(run.status, run.stderr).toBe(0);
      try {
        const unit = unitProperties('runc-ts-it-cli.scope');
        expect(unit?.ActiveState).toBe('active');
        expect(unit?.TasksMax).toBe('33');
        const pid = sandbox.state(id).pid;
        expect(
          unit?.MainPID === String(pid) ||
            readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes('runc-ts-it-cli.scope'),
        ).toBe(true);
        expect(sandbox.runc(['--systemd-cgroup', 'update', '--pids-limit', '44', id]).status).toBe(
          0,
        );
        expect(unitProperties('runc-ts-it-cli.scope')?.TasksMax).toBe('44');
        expect(sandbox.runc(['--systemd-cgroup', 'pause', id]).status).toBe(0);
        expect(sandbox.state(id).status).toBe('paused');
        expect(sandbox.runc(['--systemd-cgroup', 'resume', id]).status).toBe(0);
        const pids = JSON.parse(sandbox.runc(['ps', '-f', 'json', id]).stdout);
        expect(pids).toEqual([pid]);
      } finally {
        expect(sandbox.runc(['--systemd-cgroup', 'delete', '-f', id]).status).toBe(0);
      }
      expect(unitProperties('runc-ts-it-cli.scope')?.ActiveState ?? 'inactive').toBe('inactive');
    },
  );

  it('a failed create removes its unit', () => {
    const bundle = sandbox.bundle((spec) => {
      // A bind mount of a missing source fails create after the unit is
      // made (a missing binary no longer does: as with runc 1.5, that is
      // the exec's error, status 127, after start).
      spec.mounts!.push({
        destination: '/missing',
        source: '/no/such/source',
        type: 'bind',
        options: ['bind'],
      });
      spec.linux!.cgroupsPath = 'system.slice:runc-ts-it:fail';
    });
    const id = sandbox.id('sdfail');
    const result = sandbox.runc([
      '--systemd-cgroup',
      'run',
      '-d',
      '--no-new-keyring',
      '-b',
      bundle,
      id,
    ]);
    expect(result.status).not.toBe(0);
    expect(unitProperties('runc-ts-it-fail.scope')?.ActiveState ?? 'inactive').toBe('inactive');
  });
});
