// `runc create --dry-run` / `runc run --dry-run` (runc-ts only): the plan of a
// real bundle, printed, with nothing made on the host.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exampleSpec, renderSpec, type Spec, toRootless } from '@runc-ts/spec';
import { afterAll, describe, expect, it } from 'vitest';
import { cgroupDirsNamed } from '../support/cgroups.js';
import { stageRuntime } from '../support/rootless.js';
import { leftovers, Sandbox } from '../support/sandbox.js';

const sandbox = new Sandbox();
afterAll(() => sandbox.cleanup());

const isRoot = process.geteuid?.() === 0;

/** Host state a container with `id` from `bundle` could leave: everything must stay as it was. */
function hostTraces(id: string, bundle: string) {
  const mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((line) => line.includes(id) || line.includes(bundle));
  return {
    stateRoot: existsSync(sandbox.root),
    cgroups: cgroupDirsNamed(id),
    mountinfo,
    ...leftovers(bundle),
  };
}

const NOTHING = { stateRoot: false, cgroups: [], mountinfo: [], processes: [], mounts: [] };

type Shape = 'string' | 'number' | 'boolean' | 'array' | 'object' | 'null';

function shapeOf(value: unknown): Shape {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value as Shape;
}

/** Checks that `value` has every field of `shape` with that type (nested objects recursively). */
function expectShape(value: unknown, shape: Record<string, unknown>, where = 'report'): void {
  expect(shapeOf(value), where).toBe('object');
  for (const [key, expected] of Object.entries(shape)) {
    const field = (value as Record<string, unknown>)[key];
    if (typeof expected === 'string') {
      const allowed = expected.split('|');
      expect(allowed, `${where}.${key} is ${shapeOf(field)}`).toContain(shapeOf(field));
    } else {
      expectShape(field, expected as Record<string, unknown>, `${where}.${key}`);
    }
  }
}

const REPORT_SHAPE = {
  command: 'string',
  id: 'string',
  bundle: 'string',
  rootfs: 'string',
  stateDir: 'string',
  options: { noPivot: 'boolean', noNewKeyring: 'boolean', preserveFds: 'number' },
  namespaces: 'array',
  rootfsPropagation: 'array',
  readonlyRootfs: 'boolean',
  mounts: 'array',
  rootChange: 'string',
  devices: 'array',
  symlinks: 'array',
  maskedPaths: 'array',
  readonlyPaths: 'array',
  sysctl: 'object',
  process: {
    args: 'array',
    env: 'array',
    cwd: 'string',
    user: { uid: 'number', gid: 'number', additionalGids: 'array' },
    capabilities: {
      bounding: 'array',
      effective: 'array',
      permitted: 'array',
      inheritable: 'array',
      ambient: 'array',
    },
    rlimits: 'array',
    noNewPrivileges: 'boolean',
    terminal: 'boolean',
  },
  cgroup: { driver: 'string', paths: 'object', rootless: 'boolean', actions: 'array' },
  seccomp: 'object|null',
  hooks: {
    prestart: 'array',
    createRuntime: 'array',
    poststart: 'array',
    poststop: 'array',
    createContainer: 'array',
    startContainer: 'array',
  },
  warnings: 'array',
  ops: 'array',
};

const MOUNT_SHAPE = {
  kind: 'string',
  source: 'string',
  destination: 'string',
  type: 'string',
  flags: 'array',
  data: 'string',
  propagation: 'array',
};

describe('create --dry-run', () => {
  it('prints the plan as JSON and makes nothing: no state, cgroup, mount or process', (context) => {
    if (!isRoot) context.skip('needs root: compares with what a real create as root would make');
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['sleep', '100'];
      spec.mounts!.push({
        destination: '/data',
        type: 'bind',
        source: '/etc',
        options: ['rbind', 'ro'],
      });
      spec.hooks = { prestart: [{ path: '/bin/true', args: ['true', 'pre'] }] };
      spec.linux!.namespaces = [
        ...spec.linux!.namespaces!.filter((ns) => ns.type !== 'network'),
        { type: 'network', path: '/proc/1/ns/net' },
      ];
      spec.linux!.resources = { ...spec.linux!.resources, pids: { limit: 42 } };
      spec.linux!.seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        architectures: ['SCMP_ARCH_X86_64'],
        syscalls: [{ names: ['mount', 'umount2'], action: 'SCMP_ACT_ERRNO' }],
      };
    });
    const id = sandbox.id('dry');
    expect(hostTraces(id, bundle)).toEqual(NOTHING);

    const result = sandbox.runc([
      'create',
      '--dry-run',
      '--format',
      'json',
      '--bundle',
      bundle,
      id,
    ]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout);
    expectShape(report, REPORT_SHAPE);
    for (const mount of report.mounts) expectShape(mount, MOUNT_SHAPE, 'mount');

    expect(report).toMatchObject({
      command: 'create',
      id,
      bundle,
      rootfs: join(bundle, 'rootfs'),
      stateDir: join(sandbox.root, id),
      readonlyRootfs: true,
    });
    expect(report.namespaces).toContainEqual({
      type: 'network',
      action: 'join',
      path: '/proc/1/ns/net',
    });
    expect(report.namespaces).toContainEqual({ type: 'pid', action: 'new' });
    expect(report.mounts.map((m: { destination: string }) => m.destination).slice(0, 2)).toEqual([
      '/proc',
      '/dev',
    ]);
    expect(report.mounts).toContainEqual(
      expect.objectContaining({
        kind: 'bind',
        source: '/etc',
        destination: '/data',
        flags: ['BIND', 'REC'],
        remount: { set: ['RDONLY'], clear: [] },
      }),
    );
    expect(report.devices).toContainEqual(
      expect.objectContaining({ kind: 'node', path: '/dev/null', type: 'c', major: 1, minor: 3 }),
    );
    expect(report.maskedPaths).toContain('/proc/kcore');
    expect(report.readonlyPaths).toContain('/proc/sys');
    expect(report.process).toMatchObject({
      args: ['sleep', '100'],
      cwd: '/',
      user: { uid: 0, gid: 0 },
      noNewPrivileges: true,
      terminal: false,
    });
    expect(report.process.capabilities.bounding).toContain('CAP_KILL');
    // The pids limit as the cgroup driver would write it, in the container's cgroup.
    expect(report.cgroup.actions).toContainEqual({
      action: 'write',
      path: expect.stringMatching(new RegExp(`/${id}/pids\\.max$`)),
      value: '42',
    });
    expect(report.cgroup.actions).toContainEqual({
      action: 'mkdir',
      path: expect.stringContaining(id),
    });
    expect(report.seccomp).toMatchObject({
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86_64'],
      rules: 1,
      syscalls: 2,
      loaded: 'after-no-new-privs',
    });
    expect(report.seccomp.instructions).toBeGreaterThan(2);
    expect(report.hooks.prestart).toEqual([{ path: '/bin/true', args: ['true', 'pre'], env: [] }]);
    expect(report.ops[0]).toBe(`OPEN_FIFO ${JSON.stringify(join(sandbox.root, id, 'exec.fifo'))}`);
    expect(report.ops.at(-1)).toBe(
      'EXEC ["sleep","100"] ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","TERM=xterm"]',
    );

    expect(hostTraces(id, bundle)).toEqual(NOTHING);
  });

  it('prints readable text by default', (context) => {
    if (!isRoot) context.skip('needs root');
    const bundle = sandbox.bundle();
    const id = sandbox.id('text');
    const result = sandbox.runc(['create', '--dry-run', '--bundle', bundle, id]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe(`dry run of runc create ${id}: nothing was created`);
    expect(lines).toContain(`state: ${join(sandbox.root, id)} (not created)`);
    for (const heading of [
      'namespaces:',
      'mounts:',
      'devices:',
      'process:',
      'cgroup:',
      'seccomp:',
      'executor ops:',
    ]) {
      expect(lines).toContain(heading);
    }
    expect(lines).toContain('  new pid');
    expect(lines).toContain('  args: sh');
    expect(hostTraces(id, bundle)).toEqual(NOTHING);
  });

  it('--systemd-cgroup: the unit and its properties, without asking systemd', (context) => {
    if (!isRoot) context.skip('needs root');
    const id = sandbox.id('sd');
    const bundle = sandbox.bundle((spec) => {
      spec.linux!.cgroupsPath = `system.slice:runc:${id}`;
      spec.linux!.resources = { ...spec.linux!.resources, pids: { limit: 20 } };
    });
    const result = sandbox.runc([
      '--systemd-cgroup',
      'create',
      '--dry-run',
      '--format',
      'json',
      '--bundle',
      bundle,
      id,
    ]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const { cgroup } = JSON.parse(result.stdout);
    expect(cgroup.driver).toBe('systemd');
    expect(cgroup.systemd).toMatchObject({ unit: `runc-${id}.scope`, slice: 'system.slice' });
    const properties = Object.fromEntries(
      cgroup.systemd.properties.map((p: { name: string; value: unknown }) => [p.name, p.value]),
    );
    expect(properties).toMatchObject({ Slice: 'system.slice', Delegate: true, TasksMax: 20 });
    expect(cgroup.actions).toContainEqual({
      action: 'write',
      path: expect.stringMatching(new RegExp(`/runc-${id}\\.scope/pids\\.max$`)),
      value: '20',
    });
    expect(hostTraces(id, bundle)).toEqual(NOTHING);
  });

  it('run --dry-run shows the run-only flags; the console socket is not connected to', (context) => {
    if (!isRoot) context.skip('needs root');
    const bundle = sandbox.bundle((spec) => {
      spec.process!.terminal = true;
    });
    const id = sandbox.id('run');
    const socket = join(sandbox.dir, 'no-such-console.sock');
    const pidFile = join(sandbox.dir, 'dry.pid');
    const result = sandbox.runc([
      'run',
      '--dry-run',
      '--format',
      'json',
      '--detach',
      '--console-socket',
      socket,
      '--pid-file',
      pidFile,
      '--bundle',
      bundle,
      id,
    ]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.command).toBe('run');
    expect(report.options).toEqual({
      consoleSocket: socket,
      pidFile,
      noPivot: false,
      noNewKeyring: false,
      preserveFds: 0,
      detach: true,
      keep: false,
    });
    expect(report.process.terminal).toBe(true);
    expect(report.ops).toContain(`CONSOLE ${JSON.stringify(socket)}`);
    expect(existsSync(socket)).toBe(false);
    expect(existsSync(pidFile)).toBe(false);
    expect(hostTraces(id, bundle)).toEqual(NOTHING);
  });

  it('refuses --format without --dry-run and an unknown format', () => {
    const bundle = sandbox.bundle();
    const id = sandbox.id('fmt');
    const alone = sandbox.runc(['create', '--format', 'json', '--bundle', bundle, id]);
    expect(alone.status).toBe(1);
    expect(alone.stderr).toContain('--format is only used with --dry-run');
    const unknown = sandbox.runc([
      'create',
      '--dry-run',
      '--format',
      'yaml',
      '--bundle',
      bundle,
      id,
    ]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('invalid --format \\"yaml\\": use \\"text\\" or \\"json\\"');
    expect(hostTraces(id, bundle)).toEqual(NOTHING);
  });

  /** The message of a runc-ts error line (without the time). */
  const message = (stderr: string) => stderr.replace(/^time="[^"]*" /, '');

  const refused: [string, (spec: Spec) => void][] = [
    [
      'a config the parser refuses',
      (spec) => {
        spec.process!.cwd = 'relative';
      },
    ],
    [
      'a config the planner refuses',
      (spec) => {
        spec.linux!.sysctl = { 'kernel.printk': '1' };
      },
    ],
  ];
  for (const [what, edit] of refused) {
    it(`fails on ${what} with the error and exit code of a real create`, (context) => {
      if (!isRoot) context.skip('needs root: the real create is the reference');
      const bundle = sandbox.bundle(edit);
      const id = sandbox.id('bad');
      const dry = sandbox.runc(['create', '--dry-run', '--bundle', bundle, id]);
      expect(dry.status).toBe(1);
      expect(dry.stdout).toBe('');
      expect(hostTraces(id, bundle)).toEqual(NOTHING);
      const real = sandbox.runc(['create', '--bundle', bundle, id]);
      expect(real.status).toBe(dry.status);
      expect(message(dry.stderr)).toBe(message(real.stderr));
      expect(message(dry.stderr)).not.toBe('');
    });
  }

  it('fails for an id in use, as a real create does', (context) => {
    if (!isRoot) context.skip('needs root');
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['sleep', '100'];
    });
    const id = sandbox.id('used');
    expect(sandbox.runc(['create', '--bundle', bundle, id]).status).toBe(0);
    const dry = sandbox.runc(['create', '--dry-run', '--bundle', bundle, id]);
    expect(dry.status).toBe(1);
    expect(dry.stderr).toContain(`container with given ID already exists: ${id}`);
    expect(sandbox.state(id).status).toBe('created');
    expect(sandbox.runc(['delete', '--force', id]).status).toBe(0);
  });

  it('needs no root: an unprivileged user plans a rootless bundle, and no state directory is made', (context) => {
    if (!isRoot) context.skip('needs root to switch to the unprivileged user');
    if (spawnSync('setpriv', ['--version']).status !== 0) context.skip('setpriv is not installed');
    const nobody = 65534;
    // Readable by that user: the sandbox's own directory is root's only.
    const dir = mkdtempSync(join(tmpdir(), 'runc-ts-dry-'));
    try {
      chmodSync(dir, 0o755);
      const bundle = join(dir, 'bundle');
      cpSync(sandbox.bundle(), bundle, { recursive: true, verbatimSymlinks: true });
      const spec = toRootless(exampleSpec(), { uid: nobody, gid: nobody });
      spec.process!.terminal = false;
      writeFileSync(join(bundle, 'config.json'), renderSpec(spec));
      spawnSync('chmod', ['-R', 'a+rX', bundle]);
      const xdg = join(dir, 'xdg');
      mkdirSync(xdg, { mode: 0o700 });
      spawnSync('chown', [String(nobody), xdg]);
      const id = sandbox.id('nobody');
      // The checkout may be out of that user's reach (a 0700 parent): a copy it can run.
      const { runc: stagedRunc } = stageRuntime(join(dir, 'runtime'));
      const result = spawnSync(
        'setpriv',
        [
          '--reuid',
          String(nobody),
          '--regid',
          String(nobody),
          '--clear-groups',
          stagedRunc,
          'create',
          '--dry-run',
          '--format',
          'json',
          '--bundle',
          bundle,
          id,
        ],
        { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: dir, XDG_RUNTIME_DIR: xdg } },
      );
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      const report = JSON.parse(result.stdout);
      // The default --root is $XDG_RUNTIME_DIR/runc-ts, which a real command makes first.
      expect(report.stateDir).toBe(join(xdg, 'runc-ts', id));
      expect(report.namespaces).toContainEqual({ type: 'user', action: 'new' });
      expect(existsSync(join(xdg, 'runc-ts'))).toBe(false);
      expect(cgroupDirsNamed(id)).toEqual([]);
      expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
