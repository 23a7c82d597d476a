import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTestUser, ROOTLESS_USER, RootlessSandbox } from '../support/rootless.js';
import { type RunResult, referenceRunc, repoRoot, runCaptured, runcTs } from '../support/runc.js';
import { buildProbe } from '../support/seccomp.js';

/** The two OCI runtimes every engine scenario runs with: ours and the reference. */
export const runtimes = { 'runc-ts': runcTs, runc: referenceRunc } as const;
export type RuntimeName = keyof typeof runtimes;

/** Runs `scenario` with runc-ts and with runc, returning both results for comparison. */
export function both<T>(scenario: (runtime: RuntimeName) => T): { ours: T; theirs: T } {
  return { ours: scenario('runc-ts'), theirs: scenario('runc') };
}

/** Only what an engine passes through from the runtime: exit status, stdout, stderr. */
export function outcome(result: RunResult): RunResult {
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A client command's stdout, or an error with its exit status and stderr. */
export function ok(result: RunResult, what: string): string {
  if (result.status !== 0) throw new Error(`${what} exited ${result.status}: ${result.stderr}`);
  return result.stdout;
}

/**
 * A detached container's shell: says `started` (and `to-stderr` on stderr),
 * answers SIGUSR1 with `got-usr1` and SIGTERM with `got-term` and exit 5.
 */
export const signalScript =
  'echo started; echo to-stderr >&2; trap "echo got-usr1" USR1; trap "echo got-term; exit 5" TERM; ' +
  'while :; do sleep 0.1; done';

let uniqueNames = 0;
/** A container name no other test run (another pid) or scenario uses. */
export function uniqueName(label: string): string {
  uniqueNames++;
  return `rcts-${process.pid}-${uniqueNames}-${label}`;
}

/** Why an engine cannot be tested here (a missing binary), or undefined. */
export function missingBinaries(...binaries: string[]): string | undefined {
  const missing = binaries.filter((binary) => !findOnPath(binary));
  if (missing.length === 0) return undefined;
  return `${missing.join(', ')} not installed (scripts/setup installs them from Debian)`;
}

export function findOnPath(binary: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const candidate = join(dir, binary);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

export function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Polls `check` until it returns a value other than undefined, or throws after `ms`. */
export function waitFor<T>(what: string, check: () => T | undefined, ms = 15_000): T {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    sleep(50);
  }
}

/**
 * A private directory for one engine: its state, sockets, image and logs.
 * `cleanup()` unmounts whatever the engine left mounted under it (a stopped
 * engine can leave shm or rootfs mounts) and removes it, and the cgroup
 * parent the engine's containers were put under.
 */
export class EngineDir {
  readonly path: string;
  readonly cgroupParent: string;
  private readonly daemons: { name: string; pid: number }[] = [];

  constructor(readonly engine: string) {
    this.path = mkdtempSync(join(tmpdir(), `runc-ts-client-${engine}-`));
    this.cgroupParent = `runc-ts-client-${engine}-${process.pid}`;
  }

  /**
   * Runs a client command to its end, output through files (a detached
   * container's processes may inherit the client's stdio and would keep a
   * pipe open), in this directory: what the engine's helpers write relative
   * to their working directory stays here (conmon writes a file `oom` there
   * when a container's cgroup had an OOM kill).
   */
  run(
    binary: string,
    args: readonly string[],
    options: { env?: NodeJS.ProcessEnv; timeout?: number; input?: string } = {},
  ): RunResult {
    const result = runCaptured(binary, args, {
      dir: this.path,
      cwd: this.path,
      env: options.env ?? process.env,
      input: options.input,
      timeout: options.timeout ?? 60_000,
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  /**
   * Starts a daemon in the background, its output in `<name>.log`; it is
   * stopped (SIGTERM, then SIGKILL) by `stopDaemon` or `cleanup`.
   */
  startDaemon(name: string, binary: string, args: readonly string[]): number {
    const log = openSync(join(this.path, `${name}.log`), 'a');
    try {
      const child = spawn(binary, args, {
        cwd: this.path,
        stdio: ['ignore', log, log],
        detached: true,
      });
      child.unref();
      if (child.pid === undefined) throw new Error(`${binary} did not start`);
      this.daemons.push({ name, pid: child.pid });
      return child.pid;
    } finally {
      closeSync(log);
    }
  }

  daemonLog(name: string): string {
    try {
      return readFileSync(join(this.path, `${name}.log`), 'utf8');
    } catch {
      return '';
    }
  }

  daemonRunning(name: string): boolean {
    const daemon = this.daemons.find((entry) => entry.name === name);
    return daemon !== undefined && alive(daemon.pid);
  }

  /** Stops a daemon started by `startDaemon` and waits for it to exit. */
  stopDaemon(name: string, signal: NodeJS.Signals = 'SIGTERM'): void {
    const index = this.daemons.findIndex((daemon) => daemon.name === name);
    if (index < 0) return;
    const { pid } = this.daemons[index]!;
    this.daemons.splice(index, 1);
    if (!alive(pid)) return;
    process.kill(pid, signal);
    const deadline = Date.now() + 15_000;
    while (alive(pid) && Date.now() < deadline) sleep(50);
    if (alive(pid)) process.kill(pid, 'SIGKILL');
    while (alive(pid)) sleep(20);
  }

  cleanup(): void {
    for (const { name } of [...this.daemons].reverse()) this.stopDaemon(name);
    // what the engine left running: shims and monitors name their state
    // directory (and so this one) on their command line
    killAndWait(processesMentioning(this.path));
    unmountUnder(this.path);
    rmSync(this.path, { recursive: true, force: true });
    removeCgroupTree(this.cgroupParent);
  }
}

/** True while `pid` runs (a zombie counts as exited). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Lazily unmounts every mount at or below `dir`, deepest first. */
export function unmountUnder(dir: string): void {
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((point): point is string => !!point && (point === dir || point.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
  for (const point of points) spawnSync('umount', ['-l', point]);
}

/**
 * Removes the cgroup `name` (a top-level cgroup) and its children in every
 * hierarchy. Engines also mkdir the path under /sys/fs/cgroup/<controller>
 * for controllers this kernel has not mounted (plain tmpfs directories,
 * with files podman writes there): those are removed as files.
 */
export function removeCgroupTree(name: string): void {
  const cgroupMounts = new Set(
    readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .filter((line) => / - cgroup2? /.test(line))
      .map((line) => line.split(' ')[4]),
  );
  const remove = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) remove(join(dir, entry.name));
    }
    try {
      rmdirSync(dir);
    } catch {
      // still has processes: the engine's cleanup failed, leave it visible
    }
  };
  for (const hierarchy of readdirSync('/sys/fs/cgroup')) {
    const mount = join('/sys/fs/cgroup', hierarchy);
    if (cgroupMounts.has(mount)) remove(join(mount, name));
    else rmSync(join(mount, name), { recursive: true, force: true });
  }
}

/**
 * The test image's root filesystem, as a tar for `podman import` or
 * `docker import`: the static busybox of scripts/make-busybox-bundle, plus
 * the static seccomp probe (integration/support/seccomp-probe.c) when a C
 * compiler can build it. Returns the tar's path.
 */
export function busyboxImageTar(dir: string): { tar: string; rootfs: string; probe: boolean } {
  const bundle = join(dir, 'image');
  const made = spawnSync(join(repoRoot, 'scripts/make-busybox-bundle'), [bundle], {
    encoding: 'utf8',
  });
  if (made.status !== 0) throw new Error(`make-busybox-bundle failed: ${made.stderr}`);
  const rootfs = join(bundle, 'rootfs');
  const probePath = join(dir, 'seccomp-probe');
  const probe = buildProbe(probePath) === undefined;
  if (probe) {
    copyFileSync(probePath, join(rootfs, 'bin/seccomp-probe'));
    chmodSync(join(rootfs, 'bin/seccomp-probe'), 0o755);
  }
  const tar = join(dir, 'rootfs.tar');
  const packed = spawnSync('tar', ['-C', rootfs, '-cf', tar, '.'], { encoding: 'utf8' });
  if (packed.status !== 0) throw new Error(`tar failed: ${packed.stderr}`);
  return { tar, rootfs, probe };
}

/**
 * An OCI image archive (image layout, tarred) with `layerTar` as its one
 * uncompressed layer, named `name` for `ctr images import` (the
 * io.containerd.image.name annotation). Returns the archive's path.
 */
export function ociArchive(
  dir: string,
  layerTar: string,
  name: string,
  cmd: readonly string[] = ['sh'],
): string {
  const tag = createHash('sha256').update(name).digest('hex').slice(0, 12);
  const layout = join(dir, `oci-layout-${tag}`);
  const blobs = join(layout, 'blobs/sha256');
  mkdirSync(blobs, { recursive: true });
  const blob = (content: Buffer) => {
    const hex = createHash('sha256').update(content).digest('hex');
    writeFileSync(join(blobs, hex), content);
    return { digest: `sha256:${hex}`, size: content.length };
  };
  const layer = blob(readFileSync(layerTar));
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const config = blob(
    Buffer.from(
      JSON.stringify({
        architecture: arch,
        os: 'linux',
        config: { Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: cmd },
        rootfs: { type: 'layers', diff_ids: [layer.digest] },
      }),
    ),
  );
  const manifest = blob(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
      }),
    ),
  );
  writeFileSync(
    join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          ...manifest,
          annotations: { 'io.containerd.image.name': name },
        },
      ],
    }),
  );
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const archive = join(dir, `image-oci-${tag}.tar`);
  const packed = spawnSync(
    'tar',
    ['-C', layout, '-cf', archive, 'oci-layout', 'index.json', 'blobs'],
    {
      encoding: 'utf8',
    },
  );
  if (packed.status !== 0) throw new Error(`tar failed: ${packed.stderr}`);
  return archive;
}

/**
 * containerd's config.toml with every path under `base` (root, state,
 * sockets, the opt plugin's directory, which is /opt/containerd otherwise),
 * exactly as docs/clients.md shows it. Without `cri` (the CRI plugin's
 * section: the CRI test's) the CRI plugin is off, as the containerd and
 * docker tests have it.
 */
export function containerdConfigToml(base: string, cri?: readonly string[]): string {
  return [
    'version = 2',
    `root = "${base}/root"`,
    `state = "${base}/state"`,
    // the CRI plugin is not used by ctr or dockerd (and would want CNI)
    ...(cri ? [] : ['disabled_plugins = ["io.containerd.grpc.v1.cri"]']),
    '',
    '[grpc]',
    `  address = "${base}/containerd.sock"`,
    '',
    '[ttrpc]',
    `  address = "${base}/containerd.sock.ttrpc"`,
    '',
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = "${base}/opt"`,
    '',
    ...(cri ? [...cri, ''] : []),
  ].join('\n');
}

/**
 * The `ctr run` flags that point containerd's runc v2 shim at `runtime`
 * (`--runc-binary`, its state in `--runc-root`) with the private paths under
 * `base` that every task uses.
 */
export function ctrRuntimeFlags(base: string, runtime: RuntimeName): string[] {
  return [
    '--runc-binary',
    runtimes[runtime],
    '--runc-root',
    join(base, `runc-root-${runtime}`),
    '--snapshotter',
    'native',
    '--fifo-dir',
    join(base, 'fifo'),
  ];
}

/** Processes whose command line mentions `needle` (e.g. a private socket path). */
export function processesMentioning(needle: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(needle))
        found.push(Number(entry));
    } catch {
      // exited
    }
  }
  return found;
}

/**
 * Force-deletes every container a runtime still lists under `root` (what an
 * engine that died or failed left behind).
 */
export function deleteRuntimeContainers(runtime: RuntimeName, root: string, dir: string): void {
  if (!existsSync(root)) return;
  const listed = runCaptured(runtimes[runtime], ['--root', root, 'list', '-q'], { dir });
  for (const id of listed.stdout.split('\n').filter(Boolean)) {
    runCaptured(runtimes[runtime], ['--root', root, 'delete', '--force', id], { dir });
  }
}

/** The limits (hard) of this process, from /proc/self/limits. */
export function hardLimit(name: 'Max open files' | 'Max processes'): number {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith(name));
  const hard = line?.slice(26).trim().split(/\s+/)[1];
  return hard === 'unlimited' || hard === undefined ? Number.POSITIVE_INFINITY : Number(hard);
}

/** The first-level cgroup v1 directory of `pid` for `controller`. */
export function cgroupFileOf(pid: number, controller: string, file: string): string {
  for (const line of readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n')) {
    const [, controllers, path] = line.split(':');
    if (controllers!.split(',').includes(controller)) {
      const mount = readdirSync('/sys/fs/cgroup').find((entry) =>
        entry.split(',').includes(controller),
      );
      return readFileSync(join('/sys/fs/cgroup', mount ?? controller, path!, file), 'utf8').trim();
    }
    if (controllers === '' && path) {
      return readFileSync(join('/sys/fs/cgroup', path, file), 'utf8').trim();
    }
  }
  throw new Error(`process ${pid} has no ${controller} cgroup`);
}

/**
 * podman's configuration files under `base` (containers.conf, storage.conf
 * with vfs storage in `base`/storage and `base`/runroot, and an empty
 * registries.conf, exactly as docs/clients.md shows them; the ulimits: see
 * there), returned as the variables that point podman at them.
 */
function writePodmanConfig(base: string): Record<string, string> {
  const conf = join(base, 'containers.conf');
  writeFileSync(
    conf,
    [
      '[containers]',
      'default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]',
      '',
      '[engine]',
      'cgroup_manager = "cgroupfs"',
      'events_logger = "file"',
      '',
    ].join('\n'),
  );
  const storage = join(base, 'storage.conf');
  writeFileSync(
    storage,
    `[storage]\ndriver = "vfs"\nrunroot = "${base}/runroot"\ngraphroot = "${base}/storage"\n`,
  );
  const registries = join(base, 'registries.conf');
  writeFileSync(registries, '');
  return {
    CONTAINERS_CONF: conf,
    CONTAINERS_STORAGE_CONF: storage,
    CONTAINERS_REGISTRIES_CONF: registries,
  };
}

/** The directories podman's command line names under `base` (see `podmanArgs`). */
const podmanDirs = ['storage', 'runroot', 'tmp', 'state-runc-ts', 'state-runc'] as const;

/**
 * podman's private configuration under `dir` (`writePodmanConfig`), returned
 * as the environment that points podman at it.
 */
export function podmanEnvironment(dir: EngineDir): NodeJS.ProcessEnv {
  for (const sub of podmanDirs) mkdirSync(join(dir.path, sub));
  return { ...process.env, ...writePodmanConfig(dir.path) };
}

/**
 * podman's arguments (without `podman`) with the private paths under `base`
 * and `binary` as the OCI runtime, its state in `base`/state-`runtime`.
 */
function podmanArgs(
  base: string,
  runtime: RuntimeName,
  binary: string,
  args: readonly string[],
): string[] {
  return [
    '--root',
    join(base, 'storage'),
    '--runroot',
    join(base, 'runroot'),
    '--tmpdir',
    join(base, 'tmp'),
    '--runtime',
    binary,
    '--runtime-flag',
    `root=${join(base, `state-${runtime}`)}`,
    ...args,
  ];
}

/**
 * Removes every container a podman of the tests (private paths under `base`)
 * lists, each with the runtime that made it: podman remembers a container's
 * runtime binary but takes the runtime's --root from the command line, so a
 * `podman rm --all` with one runtime's flags cannot stop the other's
 * containers (and then leaves them running when told again). Last, the init
 * of every container still recorded in either runtime's state is killed.
 */
export function removePodmanContainers(
  base: string,
  podman: (runtime: RuntimeName, args: readonly string[]) => RunResult,
): void {
  const listed = podman('runc', ['ps', '--all', '--quiet', '--no-trunc']);
  for (const id of listed.stdout.split('\n').filter(Boolean)) {
    const madeBy = (['runc-ts', 'runc'] as const).find((runtime) =>
      existsSync(join(base, `state-${runtime}`, id)),
    );
    podman(madeBy ?? 'runc', ['rm', '--force', '--time', '0', id]);
  }
  killAndWait(
    (['runc-ts', 'runc'] as const).flatMap((runtime) =>
      recordedInits(join(base, `state-${runtime}`)),
    ),
  );
}

/**
 * The inits, still running, of the containers a runtime records under its
 * --root `root` (runc-ts: `pid` and `pidStartTime`; runc:
 * `init_process_pid` and `init_process_start`), checked by their start time.
 * A container with a pid namespace of its own ends with its init.
 */
export function recordedInits(root: string): number[] {
  if (!existsSync(root)) return [];
  const found: number[] = [];
  for (const id of readdirSync(root)) {
    try {
      const state = JSON.parse(readFileSync(join(root, id, 'state.json'), 'utf8'));
      const pid = Number(state.pid ?? state.init_process_pid);
      const start = String(state.pidStartTime ?? state.init_process_start);
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] === start) found.push(pid);
    } catch {
      // not a container's directory, or its init is gone
    }
  }
  return found;
}

/** podman's command line with the private paths and `runtime` as the OCI runtime. */
export function podmanCommandLine(
  dir: EngineDir,
  runtime: RuntimeName,
  args: readonly string[],
): string[] {
  return ['podman', ...podmanArgs(dir.path, runtime, runtimes[runtime], args)];
}

/**
 * An ordinary user's (rootless) podman: the test user of
 * integration/support/rootless.ts, in a sandbox it owns (its own HOME and
 * XDG_RUNTIME_DIR, podman's configuration and storage as for root's podman),
 * running its copy of the built runc-ts (the checkout may be out of its
 * reach) or runc 1.1.5. `cleanup()` removes the containers, stops podman's
 * pause process (it holds the user namespace podman made) and what else is
 * left, and removes the sandbox.
 */
export class RootlessPodman {
  readonly sandbox: RootlessSandbox;
  readonly env: Record<string, string>;

  constructor() {
    this.sandbox = new RootlessSandbox(ensureTestUser(ROOTLESS_USER, { subids: true }));
    const base = this.sandbox.dir;
    try {
      for (const sub of podmanDirs) {
        mkdirSync(join(base, sub));
        chownSync(join(base, sub), this.sandbox.user.uid, this.sandbox.user.gid);
      }
      this.env = writePodmanConfig(base);
    } catch (error) {
      this.sandbox.cleanup();
      throw error;
    }
  }

  get dir(): string {
    return this.sandbox.dir;
  }

  /** The runtime binary the user runs: its staged copy of runc-ts, or runc from PATH. */
  binary(runtime: RuntimeName): string {
    return runtime === 'runc-ts' ? this.sandbox.runcBinary : runtimes.runc;
  }

  /** podman's command line (as for root's podman: `podmanCommandLine`). */
  commandLine(runtime: RuntimeName, args: readonly string[]): string[] {
    return ['podman', ...podmanArgs(this.dir, runtime, this.binary(runtime), args)];
  }

  /** Runs podman as the user. */
  run(runtime: RuntimeName, args: readonly string[], timeout = 60_000): RunResult {
    return this.sandbox.run(this.commandLine(runtime, args), { env: this.env, timeout });
  }

  cleanup(): void {
    // as the user, in podman's user namespace: before its pause process goes
    removePodmanContainers(this.dir, (runtime, args) => this.run(runtime, args));
    // podman's pause process (it keeps the user namespace; its working
    // directory is the sandbox, as of every command the user ran), conmons
    // (their command lines name the sandbox) and processes whose root is in
    // it
    const leftover = [...processesMentioning(this.dir), ...processesInside(this.dir)];
    killAndWait(leftover);
    this.sandbox.cleanup();
  }
}

/** SIGKILLs `pids` and waits (10 s at most) until they have exited. */
export function killAndWait(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  const deadline = Date.now() + 10_000;
  while (pids.some(alive) && Date.now() < deadline) sleep(20);
}

/**
 * Processes whose root or working directory is `dir` or below it (a
 * container's, its rootfs in `dir`; a command run in `dir`).
 */
export function processesInside(dir: string): number[] {
  const inside = (path: string) => path === dir || path.startsWith(`${dir}/`);
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const pid = Number(entry);
      if (inside(readlinkSync(`/proc/${pid}/root`)) || inside(readlinkSync(`/proc/${pid}/cwd`))) {
        found.push(pid);
      }
    } catch {
      // exited
    }
  }
  return found;
}

/**
 * Writes `config` to `base`/config.toml and starts containerd with it (again,
 * after a stop: the same config); returns its socket once it serves.
 */
export function startContainerd(
  dir: EngineDir,
  base: string,
  config: string = containerdConfigToml(base),
): string {
  mkdirSync(base, { recursive: true });
  const path = join(base, 'config.toml');
  writeFileSync(path, config);
  dir.startDaemon('containerd', 'containerd', ['--config', path]);
  const socket = join(base, 'containerd.sock');
  waitFor(
    'containerd to serve',
    () => (dir.run('ctr', ['--address', socket, 'version']).status === 0 ? true : undefined),
    20_000,
  );
  return socket;
}

/**
 * Starts dockerd with private state under `dir` (exactly as docs/clients.md
 * shows it) on a containerd of its own (the one dockerd would start creates
 * /opt/containerd); returns the docker client's environment once it serves.
 */
export function startDockerd(dir: EngineDir): NodeJS.ProcessEnv {
  const base = dir.path;
  const containerd = startContainerd(dir, join(base, 'containerd'));
  mkdirSync(join(base, 'cli'));
  // without a config file of its own dockerd reads /etc/docker/daemon.json
  // and writes its trust key to /etc/docker/key.json
  writeFileSync(
    join(base, 'daemon.json'),
    `${JSON.stringify({ 'deprecated-key-path': join(base, 'key.json') }, null, 2)}\n`,
  );
  dir.startDaemon('dockerd', 'dockerd', [
    '--containerd',
    containerd,
    '--config-file',
    `${base}/daemon.json`,
    '--data-root',
    `${base}/data`,
    '--exec-root',
    `${base}/exec`,
    '--pidfile',
    `${base}/docker.pid`,
    '-H',
    `unix://${base}/docker.sock`,
    '--bridge',
    'none',
    '--iptables=false',
    '--ip-masq=false',
    '--storage-driver',
    'vfs',
    '--exec-opt',
    'native.cgroupdriver=cgroupfs',
    '--cgroup-parent',
    `/${dir.cgroupParent}`,
    '--add-runtime',
    `runc-ts=${runtimes['runc-ts']}`,
  ]);
  const env = {
    ...process.env,
    DOCKER_HOST: `unix://${base}/docker.sock`,
    DOCKER_CONFIG: join(base, 'cli'),
  };
  waitFor(
    'dockerd to serve',
    () => (dir.run('docker', ['version'], { env }).status === 0 ? true : undefined),
    60_000,
  );
  return env;
}
