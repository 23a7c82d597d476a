// What each command initialises at start-up, measured on the bundler that
// builds the compiled `runc`: scripts/compile.ts --trace-modules makes the
// same bundle (same lazy boundaries) with every module recording when its
// top level runs, and each command line below runs it under Bun.
//
// Bun initialises, with a package's index, every module that index
// re-exports and that the bundle uses anywhere; so heavy parts are reached
// through dynamic import() inside their package (Runtime.create/exec,
// lazy-exports.ts, the systemd driver's D-Bus side), never re-exported for
// eager use. This test is what keeps it so.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

const cli = join(fileURLToPath(import.meta.url), '../..');
const repo = join(cli, '../..');
const bun = join(repo, 'node_modules/@oven/bun-linux-x64/bin/bun');
const haveBun = existsSync(bun);
const noBun = haveBun
  ? undefined
  : `no Bun at ${bun} (the @oven/bun-linux-x64 package installs only on x86_64 Linux)`;

/** Modules the commands that read or signal containers must not initialise. */
const HEAVY: { pattern: RegExp; what: string }[] = [
  { pattern: /\/koffi\//, what: 'koffi' },
  { pattern: /^packages\/seccomp\/src\/(libseccomp|compile|enosys|bpf)/, what: 'seccomp compiler' },
  { pattern: /\/dbus-native\//, what: 'D-Bus (dbus-native)' },
  { pattern: /^packages\/cgroups\/src\/systemd\/(bus|client)\.ts$/, what: 'D-Bus client' },
  { pattern: /\/zod\//, what: 'zod' },
  { pattern: /^packages\/spec\/src\/(generated|validate|parse\.ts|schema)/, what: 'validators' },
  { pattern: /^packages\/namespaces\/src\//, what: 'the planner' },
  {
    pattern: /^packages\/libcontainer\/src\/(create|exec|executor|seccomp|features)\.ts$/,
    what: 'create/exec',
  },
];

let work: string;
let bundle: string;

beforeAll(() => {
  if (!haveBun) return;
  work = mkdtempSync(join(tmpdir(), 'runc-ts-startup-graph-'));
  bundle = join(work, 'bundle');
  mkdirSync(join(work, 'root'), { mode: 0o700 });
  const built = spawnSync(bun, [join(cli, 'scripts/compile.ts'), '--trace-modules', bundle], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (built.status !== 0) throw new Error(`trace build failed: ${built.stderr}`);
}, 90_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Repo-relative paths of the modules `runc <args>` initialised. */
function modulesOf(args: string[]): string[] {
  const trace = join(work, `trace-${args[0]}.json`);
  const run = spawnSync(bun, [join(bundle, 'main.js'), '--root', join(work, 'root'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, RUNC_TS_TRACE_MODULES: trace },
    timeout: 30_000,
  });
  if (!existsSync(trace)) throw new Error(`no trace from runc ${args.join(' ')}: ${run.stderr}`);
  return (JSON.parse(readFileSync(trace, 'utf8')) as string[]).map((path) => relative(repo, path));
}

function heavyIn(modules: string[]): string[] {
  return modules.flatMap((path) =>
    HEAVY.filter((h) => h.pattern.test(path)).map((h) => `${h.what}: ${path}`),
  );
}

/**
 * The polled commands read state files, /proc and the freezer only: no
 * Runtime, lifecycle or process-control code, no cgroup driver.
 */
const READ_ONLY = ['state', 'list'];
const NOT_READ_ONLY =
  /^packages\/(libcontainer\/src\/(container|process-control|cgroup|hooks)\.ts|cgroups\/src\/(fs-v1|fs-v2|manager|devices|writes|stats|oom|bpf\/|systemd\/))/;

/** The module each light command must initialise (its own work). */
const MAIN_MODULE: Record<string, string> = {
  state: 'packages/libcontainer/src/status.ts',
  list: 'packages/libcontainer/src/status.ts',
  start: 'packages/libcontainer/src/lifecycle/start.ts',
  kill: 'packages/libcontainer/src/lifecycle/kill.ts',
  delete: 'packages/libcontainer/src/lifecycle/delete.ts',
  pause: 'packages/libcontainer/src/lifecycle/pause.ts',
  resume: 'packages/libcontainer/src/lifecycle/pause.ts',
  ps: 'packages/libcontainer/src/container.ts',
  events: 'packages/libcontainer/src/container.ts',
};

/** The Runtime façade (and, with it, every verb and the run/exec paths). */
const RUNTIME = /^packages\/libcontainer\/src\/(container|events)\.ts$/;
const CGROUP_DRIVERS =
  /^packages\/(libcontainer\/src\/cgroup\.ts|cgroups\/src\/(fs-v1|fs-v2|manager|systemd\/index)\.ts)$/;

/**
 * The verbs the CLI calls without the Runtime, here on a container that does
 * not exist: none loads a cgroup driver before it has read the state naming
 * one (start and a plain kill never load one).
 */
const VERBS = ['start c', 'kill c KILL', 'kill --all c KILL', 'delete -f c', 'pause c', 'resume c'];

/** A stopped container whose state names the fs2 driver (a cgroup that does not exist). */
function writeStoppedFs2Container(id: string): void {
  mkdirSync(join(work, 'root', id), { mode: 0o711 });
  const state = {
    id,
    pid: 2147483646,
    pidStartTime: '1',
    bundle: join(work, 'no-bundle'),
    rootfs: join(work, 'no-bundle/rootfs'),
    created: '2026-01-01T00:00:00.000Z',
    owner: '',
    config: { ociVersion: '1.0.2', linux: { namespaces: [{ type: 'pid' }] } },
    cgroup: { driver: 'fs2', paths: { '': join(work, 'no-cgroup') } },
  };
  writeFileSync(join(work, 'root', id, 'state.json'), JSON.stringify(state), { mode: 0o600 });
}

// Containers that do not exist: the command fails after loading what it loads.
const LIGHT: string[][] = [
  ['state', 'c'],
  ['list'],
  ['list', '--format', 'json'],
  ['start', 'c'],
  ['kill', 'c', 'KILL'],
  ['delete', '-f', 'c'],
  ['pause', 'c'],
  ['resume', 'c'],
  ['ps', 'c'],
  ['events', '--stats', 'c'],
];

describe('start-up module graph (compiled runc)', () => {
  beforeEach((context) => {
    if (noBun) context.skip(noBun);
  });

  it.each(LIGHT)('`runc %s` initialises no planner, seccomp, D-Bus or validators', (...args) => {
    const modules = modulesOf(args);
    expect(modules).toContain(MAIN_MODULE[args[0]!]);
    expect(heavyIn(modules)).toEqual([]);
  });

  it.each(VERBS)(
    '`runc %s` initialises its verb without the Runtime or a cgroup driver',
    (line) => {
      const modules = modulesOf(line.split(' '));
      expect(modules.filter((path) => RUNTIME.test(path))).toEqual([]);
      expect(modules.filter((path) => CGROUP_DRIVERS.test(path))).toEqual([]);
    },
  );

  it.each(READ_ONLY.map((command) => [command]))(
    '`runc %s` initialises neither the Runtime nor a cgroup driver',
    (command) => {
      const modules = modulesOf([command, ...(command === 'state' ? ['c'] : [])]);
      expect(modules.filter((path) => NOT_READ_ONLY.test(path))).toEqual([]);
    },
  );

  it.each([
    ['kill --all', 'KILL'],
    ['delete -f', ''],
    ['pause', ''],
    ['resume', ''],
  ])('`runc %s` of a container loads the driver its state names, and no other', (verb, after) => {
    const id = `fs2-${verb.replace(/ .*/, '')}`;
    writeStoppedFs2Container(id);
    const modules = modulesOf([...verb.split(' '), id, ...(after ? [after] : [])]);
    expect(modules).toContain('packages/cgroups/src/fs-v2.ts');
    expect(
      modules.filter((path) =>
        /^packages\/(cgroups\/src\/(manager|systemd\/index)|libcontainer\/src\/cgroup)\.ts$/.test(
          path,
        ),
      ),
    ).toEqual([]);
    expect(modules.filter((path) => RUNTIME.test(path))).toEqual([]);
  });

  it('a command that takes a lock gets bun:ffi by a static import, not through require', () => {
    const modules = modulesOf(['start', 'c']);
    expect(modules).toContain('packages/cgroups/src/libc.ts');
    expect(modules).toContain('packages/cgroups/src/bun-ffi-static.ts');
    expect(modules).not.toContain('packages/cgroups/src/bun-ffi.ts');
  });

  it('create initialises the planner and seccomp, but neither D-Bus nor zod', () => {
    const modules = modulesOf(['create', '--bundle', join(work, 'no-bundle'), 'c']);
    expect(modules).toContain('packages/namespaces/src/plan-create.ts');
    expect(modules).toContain('packages/seccomp/src/compile.ts');
    expect(heavyIn(modules).filter((h) => /^(D-Bus|zod|koffi)/.test(h))).toEqual([]);
  });

  it('exec initialises the exec planner, not the create path', () => {
    const modules = modulesOf(['exec', 'c', 'true']);
    expect(modules).toContain('packages/libcontainer/src/exec.ts');
    expect(modules).not.toContain('packages/libcontainer/src/create.ts');
  });

  it('--version reads the libseccomp version without loading it', () => {
    expect(heavyIn(modulesOf(['--version'])).filter((h) => /^(koffi|D-Bus|zod)/.test(h))).toEqual(
      [],
    );
  });
});
