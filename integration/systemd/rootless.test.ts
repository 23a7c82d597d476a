// `runc --systemd-cgroup` as an ordinary user, inside the systemd that
// integration/systemd/run-in-nspawn boots: the user's own systemd
// (user@UID.service, started here for a lingering test user) makes the
// container's scope below its user.slice, reached on
// $XDG_RUNTIME_DIR/systemd/private or on the session bus alone. Needs cgroup
// v2 (run-in-nspawn --cgroup v2). Each test removes its container; afterAll
// stops the user manager it started and the sandbox.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ensureTestUser,
  ROOTLESS_USER,
  RootlessSandbox,
  rootlessUnavailable,
  type TestUser,
} from '../support/rootless.js';

function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  const init = readFileSync('/proc/1/comm', 'utf8').trim();
  if (init !== 'systemd') return `PID 1 is ${JSON.stringify(init)}, not systemd`;
  if (!process.env.RUNC_TS_NSPAWN_GUEST) return 'not inside run-in-nspawn';
  if (!existsSync('/sys/fs/cgroup/cgroup.controllers')) {
    return 'cgroup v1 or hybrid here: rootless --systemd-cgroup needs cgroup v2 (run-in-nspawn --cgroup v2)';
  }
  return rootlessUnavailable();
}
const skip = skipReason();
if (skip) console.warn(`rootless --systemd-cgroup tests skipped: ${skip}`);

let user: TestUser;
let sandbox: RootlessSandbox;
let startedManager = false;
/** The user's runtime directory, where systemd --user listens (systemd/private, bus). */
let runtimeDir = '';

function systemctl(...args: string[]) {
  return spawnSync('systemctl', args, { encoding: 'utf8' });
}

beforeAll(() => {
  if (skip) return;
  user = ensureTestUser(ROOTLESS_USER, { subids: true });
  const service = `user@${user.uid}.service`;
  startedManager = systemctl('is-active', '--quiet', service).status !== 0;
  const started = systemctl('start', service);
  if (started.status !== 0) throw new Error(`systemctl start ${service}: ${started.stderr}`);
  runtimeDir = `/run/user/${user.uid}`;
  sandbox = new RootlessSandbox(user);
}, 60_000);

afterAll(() => {
  if (skip) return;
  sandbox?.cleanup();
  if (startedManager) systemctl('stop', `user@${user.uid}.service`);
});

/** The environment of a login session of the user: its systemd on $XDG_RUNTIME_DIR. */
const session = () => ({ XDG_RUNTIME_DIR: runtimeDir });

/** `systemctl --user show` of a unit, as the user; undefined when the user manager does not know it. */
function userUnit(unit: string): Record<string, string> | undefined {
  const shown = sandbox.run(['systemctl', '--user', 'show', unit], { env: session() });
  expect(shown.status, shown.stderr).toBe(0);
  const properties: Record<string, string> = {};
  for (const line of shown.stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) properties[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return properties.LoadState === 'not-found' ? undefined : properties;
}

/** The cgroup (v2) of a process, e.g. `/user.slice/user-1001.slice/...`. */
function cgroupOf(pid: number): string {
  const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('0::'));
  if (line === undefined) throw new Error(`no cgroup2 line for ${pid}`);
  return line.slice('0::'.length);
}

/** The user manager's cgroup controllers: what it can delegate to a scope. */
function delegatedControllers(): string[] {
  const dir = `/sys/fs/cgroup/user.slice/user-${user.uid}.slice/user@${user.uid}.service`;
  return readFileSync(`${dir}/cgroup.controllers`, 'utf8').trim().split(/\s+/).filter(Boolean);
}

const sleeping = (spec: { process?: { args?: string[] } }) => {
  spec.process!.args = ['sleep', '1000'];
};

describe.skipIf(skip !== undefined)('rootless runc --systemd-cgroup (systemd --user)', () => {
  it("runs the container in a scope of the user's systemd, below its user.slice; delete stops it", () => {
    const id = sandbox.id('scope');
    const unit = `runc-${id}.scope`;
    const bundle = sandbox.bundle(sleeping);
    try {
      const run = sandbox.runc(['--systemd-cgroup', 'run', '-d', '-b', bundle, id], {
        env: session(),
      });
      expect(run.status, run.stderr).toBe(0);
      const { pid } = sandbox.state(id) as { pid: number };
      expect(cgroupOf(pid)).toBe(
        `/user.slice/user-${user.uid}.slice/user@${user.uid}.service/user.slice/${unit}`,
      );
      expect(userUnit(unit)).toMatchObject({
        ActiveState: 'active',
        Slice: 'user.slice',
        Delegate: 'yes',
      });
      // Without a cgroup namespace its /sys/fs/cgroup is its own cgroup, bound
      // (a cgroup2 mount is refused in a user namespace): runc does the same.
      const cgroupMount = readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
        .split('\n')
        .map((line) => line.split(' '))
        .filter((fields) => fields[4] === '/sys/fs/cgroup')
        .at(-1);
      expect(cgroupMount?.[3]).toBe(
        `/user.slice/user-${user.uid}.slice/user@${user.uid}.service/user.slice/${unit}`,
      );
      // Delegated to the user: it can freeze its scope (cgroup.freeze is no controller).
      const scopeDir = `/sys/fs/cgroup${cgroupOf(pid)}`;
      expect(sandbox.runc(['--systemd-cgroup', 'pause', id], { env: session() }).status).toBe(0);
      expect(sandbox.state(id).status).toBe('paused');
      expect(readFileSync(`${scopeDir}/cgroup.freeze`, 'utf8').trim()).toBe('1');
      expect(sandbox.runc(['--systemd-cgroup', 'resume', id], { env: session() }).status).toBe(0);
      expect(sandbox.state(id).status).toBe('running');
      // The user manager runs it, not the system's systemd.
      expect(systemctl('show', '-p', 'LoadState', '--value', unit).stdout.trim()).toBe('not-found');

      const deleted = sandbox.runc(['--systemd-cgroup', 'delete', '--force', id], {
        env: session(),
      });
      expect(deleted.status, deleted.stderr).toBe(0);
      expect(userUnit(unit)?.ActiveState ?? 'inactive').toBe('inactive');
      expect(
        existsSync(
          `/sys/fs/cgroup/user.slice/user-${user.uid}.slice/user@${user.uid}.service/user.slice/${unit}`,
        ),
      ).toBe(false);
    } finally {
      sandbox.runc(['--systemd-cgroup', 'delete', '--force', id], { env: session() });
    }
  });

  it('reaches the user manager over the session bus alone (DBUS_SESSION_BUS_ADDRESS)', () => {
    const id = sandbox.id('bus');
    const unit = `runc-${id}.scope`;
    // An XDG_RUNTIME_DIR without systemd/private: only the bus address leads to systemd.
    const busOnly = {
      XDG_RUNTIME_DIR: sandbox.xdg,
      DBUS_SESSION_BUS_ADDRESS: `unix:path=${runtimeDir}/bus`,
    };
    try {
      const run = sandbox.runc(
        ['--systemd-cgroup', 'run', '-d', '-b', sandbox.bundle(sleeping), id],
        {
          env: busOnly,
        },
      );
      expect(run.status, run.stderr).toBe(0);
      expect(userUnit(unit)?.ActiveState).toBe('active');
      const deleted = sandbox.runc(['--systemd-cgroup', 'delete', '--force', id], { env: busOnly });
      expect(deleted.status, deleted.stderr).toBe(0);
      expect(userUnit(unit)?.ActiveState ?? 'inactive').toBe('inactive');
    } finally {
      sandbox.runc(['--systemd-cgroup', 'delete', '--force', id], { env: busOnly });
    }
  });

  it('without a user manager to reach: a clear error, exit 1, nothing left', () => {
    const id = sandbox.id('nobus');
    const run = sandbox.runc(
      ['--systemd-cgroup', 'run', '-d', '-b', sandbox.bundle(sleeping), id],
      {
        env: { XDG_RUNTIME_DIR: sandbox.xdg, DBUS_SESSION_BUS_ADDRESS: undefined },
      },
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("cannot reach the user's systemd (systemd --user) over D-Bus");
    expect(run.stderr).toContain(`${sandbox.xdg}/systemd/private`);
    expect(sandbox.runc(['list', '-q']).stdout).not.toContain(id);
  });

  /** Why limits cannot be enforced here: the user manager got no memory/pids controllers. */
  const noDelegatedLimits = (): string | undefined => {
    const controllers = delegatedControllers();
    if (controllers.includes('memory') && controllers.includes('pids')) return undefined;
    return `user@${user.uid}.service has the controllers [${controllers.join(' ')}], not memory and pids (nspawn --cgroup v2 on a cgroup v1 host: the controllers stay with v1)`;
  };
  const limitedBundle = (limit: number) =>
    sandbox.bundle((spec) => {
      spec.process!.args = ['sleep', '1000'];
      spec.linux!.resources = { memory: { limit }, pids: { limit: 20 } };
    });

  it('limits are enforced in the delegated scope', (context) => {
    const why = noDelegatedLimits();
    if (why) context.skip(why);
    const id = sandbox.id('limits');
    const unit = `runc-${id}.scope`;
    const limit = 32 * 1024 * 1024;
    try {
      const run = sandbox.runc(['--systemd-cgroup', 'run', '-d', '-b', limitedBundle(limit), id], {
        env: session(),
      });
      expect(run.status, run.stderr).toBe(0);
      expect(userUnit(unit)).toMatchObject({ MemoryMax: String(limit), TasksMax: '20' });
      const dir = `/sys/fs/cgroup${cgroupOf((sandbox.state(id) as { pid: number }).pid)}`;
      expect(readFileSync(`${dir}/memory.max`, 'utf8').trim()).toBe(String(limit));
      expect(readFileSync(`${dir}/pids.max`, 'utf8').trim()).toBe('20');
      // Really enforced: 30 more processes do not fit in 20.
      const forks = sandbox.runc(
        ['exec', id, 'sh', '-c', 'for i in $(seq 30); do sleep 100 & done 2>&1; wait'],
        { timeout: 20_000 },
      );
      expect(forks.stdout + forks.stderr).toMatch(/can't fork|Resource temporarily unavailable/);
    } finally {
      sandbox.runc(['--systemd-cgroup', 'delete', '--force', id], { env: session() });
    }
  });

  it('where the user manager has no controller to delegate, a limit fails naming the field, nothing left', (context) => {
    if (!noDelegatedLimits())
      context.skip('the user manager has memory and pids: limits are enforced');
    const id = sandbox.id('nolimits');
    const unit = `runc-${id}.scope`;
    const run = sandbox.runc(['--systemd-cgroup', 'run', '-d', '-b', limitedBundle(32 << 20), id], {
      env: session(),
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      `linux.resources.memory.limit: cannot be set: the memory controller is not enabled for /sys/fs/cgroup/user.slice/user-${user.uid}.slice/user@${user.uid}.service/user.slice/${unit}`,
    );
    expect(userUnit(unit)?.ActiveState ?? 'inactive').toBe('inactive');
    expect(sandbox.runc(['list', '-q']).stdout).not.toContain(id);
  });
});
