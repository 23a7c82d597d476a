import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { rootlessUnavailable } from '../../support/rootless.js';
import {
  busyboxImageTar,
  ctrRuntimeFlags,
  EngineDir,
  missingBinaries,
  ociArchive,
  ok,
  podmanCommandLine,
  podmanEnvironment,
  RootlessPodman,
  type RuntimeName,
  startContainerd,
  startDockerd,
} from '../engine.js';

// `run --rm <busybox> true` through each engine, with runc-ts and with runc
// 1.1.5: the wall time an engine's user sees. Engines are set up as the
// client tests set them up (engine.ts). The two runtimes alternate, run by
// run, so that drift in the machine's load hits both alike; the medians are
// printed as docs/performance.md's table rows.

const image = 'localhost/runc-ts-busybox:latest';
const rounds = Number(process.env.ROUNDS ?? 20);
const warmup = 3;
const dirs: EngineDir[] = [];
const cleanups: (() => void)[] = [];
const rows: string[] = [];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Times `once(runtime)` for both runtimes, alternating; adds a table row. */
function measure(engine: string, once: (runtime: RuntimeName) => void): void {
  const times: Record<RuntimeName, number[]> = { 'runc-ts': [], runc: [] };
  for (let round = 0; round < warmup + rounds; round++) {
    const order: RuntimeName[] = round % 2 ? ['runc', 'runc-ts'] : ['runc-ts', 'runc'];
    for (const runtime of order) {
      const start = process.hrtime.bigint();
      once(runtime);
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (round >= warmup) times[runtime].push(ms);
    }
  }
  const ref = median(times.runc);
  const ours = median(times['runc-ts']);
  rows.push(
    `| ${engine} | ${ref.toFixed(0)} | ${ours.toFixed(0)} (×${(ours / ref).toFixed(2)}) | ${(ours - ref).toFixed(0)} |`,
  );
}

function engineDir(name: string): EngineDir {
  const dir = new EngineDir(name);
  dirs.push(dir);
  return dir;
}

describe('run --rm true through each engine, runc-ts vs runc 1.1.5', () => {
  afterAll(() => {
    for (const dir of dirs) dir.cleanup();
    for (const cleanup of cleanups) cleanup();
    console.log(
      [
        `median wall time (ms) of ${rounds} runs each, after ${warmup} warm-up runs`,
        '| engine | runc 1.1.5 | runc-ts | difference |',
        '|---|---:|---:|---:|',
        ...rows,
      ].join('\n'),
    );
  });

  it('podman run --rm', (context) => {
    const missing = missingBinaries('podman', 'conmon');
    if (missing) context.skip(missing);
    const dir = engineDir('podman-bench');
    const env = podmanEnvironment(dir);
    const podman = (runtime: RuntimeName, args: string[]) => {
      const [binary, ...rest] = podmanCommandLine(dir, runtime, args);
      return dir.run(binary!, rest, { env });
    };
    ok(podman('runc-ts', ['import', busyboxImageTar(dir.path).tar, image]), 'podman import');
    const flags = ['--rm', '--network', 'none', '--cgroup-parent', `/${dir.cgroupParent}`];
    measure('podman 4.3 `run --rm`', (runtime) =>
      ok(podman(runtime, ['run', ...flags, image, 'true']), 'podman run'),
    );
  });

  it('rootless podman run --rm', (context) => {
    const missing = missingBinaries('podman', 'conmon') ?? rootlessUnavailable();
    if (missing) context.skip(missing);
    const podman = new RootlessPodman();
    cleanups.push(() => podman.cleanup());
    ok(podman.run('runc-ts', ['import', busyboxImageTar(podman.dir).tar, image]), 'podman import');
    measure('rootless podman 4.3 `run --rm` (an ordinary user)', (runtime) =>
      ok(podman.run(runtime, ['run', '--rm', '--network', 'none', image, 'true']), 'podman run'),
    );
  });

  it('ctr run --rm', (context) => {
    const missing = missingBinaries('containerd', 'ctr', 'containerd-shim-runc-v2');
    if (missing) context.skip(missing);
    const dir = engineDir('containerd-bench');
    const socket = startContainerd(dir, join(dir.path, 'containerd'));
    const ctr = (args: string[]) =>
      dir.run('ctr', ['--address', socket, '--namespace', 'runc-ts', ...args]);
    const archive = ociArchive(dir.path, busyboxImageTar(dir.path).tar, image);
    ok(ctr(['images', 'import', '--snapshotter', 'native', archive]), 'ctr images import');
    let runs = 0;
    measure('containerd 1.6 `ctr run --rm` (runc v2 shim)', (runtime) => {
      runs++;
      const id = `bench-${runs}`;
      const flags = [
        '--rm',
        ...ctrRuntimeFlags(dir.path, runtime),
        '--cgroup',
        `/${dir.cgroupParent}/${id}`,
      ];
      ok(ctr(['run', ...flags, image, id, 'true']), 'ctr run');
    });
  });

  it('docker run --rm', (context) => {
    const missing = missingBinaries('dockerd', 'docker', 'containerd', 'containerd-shim-runc-v2');
    if (missing) context.skip(missing);
    const dir = engineDir('docker-bench');
    const env = startDockerd(dir);
    ok(
      dir.run('docker', ['import', busyboxImageTar(dir.path).tar, image], { env }),
      'docker import',
    );
    measure('dockerd 20.10 `docker run --rm`', (runtime) => {
      const args = ['run', '--rm', '--runtime', runtime, '--network', 'none', image, 'true'];
      ok(dir.run('docker', args, { env }), 'docker run');
    });
  });
});
