import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/runc.js';
import {
  busyboxImageTar,
  containerdConfigToml,
  deleteRuntimeContainers,
  EngineDir,
  missingBinaries,
  ociArchive,
  type RuntimeName,
  runtimes,
  startContainerd,
} from './engine.js';

// The Kubernetes path: containerd 1.6's CRI plugin, started by the test with a
// private config.toml, with two runtime handlers, `runc-ts` and `runc` (runc
// 1.1.5), as a RuntimeClass would name them. A small CRI client (gRPC, the
// runtime.v1 API definition taken at test time from Debian's kubernetes
// source package by scripts/fetch-cri-api) runs the same pod with each
// handler; the two must agree. Pods use the host's network namespace
// (NamespaceMode NODE): no CNI, nothing of the host's network changed.

const image = 'localhost/runc-ts-busybox:latest';
const pauseImage = 'localhost/runc-ts-pause:latest';
let dir: EngineDir;
let skip: string | undefined;
let socket: string;
let client: grpc.Client & Record<string, any>;

/**
 * The CRI plugin's section of config.toml (`containerdConfigToml`), exactly
 * as docs/clients.md shows it (paths under `base`).
 */
function criSection(base: string): string[] {
  const handler = (name: RuntimeName) => [
    `    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.${name}]`,
    '      runtime_type = "io.containerd.runc.v2"',
    `      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.${name}.options]`,
    `        BinaryName = "${runtimes[name]}"`,
    `        Root = "${base}/runc-root-${name}"`,
  ];
  return [
    '[plugins."io.containerd.grpc.v1.cri"]',
    `  sandbox_image = "${pauseImage}"`,
    '  stream_server_address = "127.0.0.1"',
    '  stream_server_port = "0"',
    // the sandbox asks for oom_score_adj -998: lowering it needs
    // CAP_SYS_RESOURCE, which root lacks on the CI machine
    '  restrict_oom_score_adj = true',
    '  [plugins."io.containerd.grpc.v1.cri".cni]',
    `    bin_dir = "${base}/cni/bin"`,
    `    conf_dir = "${base}/cni/conf"`,
    '  [plugins."io.containerd.grpc.v1.cri".containerd]',
    '    snapshotter = "native"',
    '    default_runtime_name = "runc-ts"',
    ...handler('runc-ts'),
    ...handler('runc'),
  ];
}

function ctr(args: readonly string[]) {
  return dir.run('ctr', ['--address', socket, '--namespace', 'k8s.io', ...args]);
}

/** One unary CRI call. */
function call<T = any>(method: string, request: object): Promise<T> {
  return new Promise((resolve, reject) => {
    client[method](request, { deadline: Date.now() + 60_000 }, (error: Error | null, reply: T) =>
      error ? reject(new Error(`CRI ${method}: ${error.message}`)) : resolve(reply),
    );
  });
}

/** The runtime.v1 RuntimeService client, or the reason it cannot be made. */
function loadClient(): string | undefined {
  const fetched = spawnSync(join(repoRoot, 'scripts/fetch-cri-api'), { encoding: 'utf8' });
  if (fetched.status !== 0) {
    return `the CRI API definition could not be fetched (scripts/fetch-cri-api): ${fetched.stderr.trim()}`;
  }
  // gogoproto's options only steer Go code generation: dropped, with their import
  const source = readFileSync(fetched.stdout.trim(), 'utf8')
    .split('\n')
    .filter((line) => !line.includes('gogoproto'))
    .join('\n');
  const proto = join(dir.path, 'cri-api.proto');
  writeFileSync(proto, source);
  const definition = protoLoader.loadSync(proto, {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
  });
  const api = grpc.loadPackageDefinition(definition) as any;
  client = new api.runtime.v1.RuntimeService(`unix://${socket}`, grpc.credentials.createInsecure());
  return undefined;
}

let pods = 0;

/** A pod with two containers, run with `handler`; what the CRI calls returned. */
async function podScenario(handler: RuntimeName) {
  pods++;
  const sandboxConfig = {
    metadata: {
      name: `pod-${pods}`,
      uid: `uid-${process.pid}-${pods}`,
      namespace: 'runc-ts',
      attempt: 0,
    },
    log_directory: join(dir.path, 'logs', `pod-${pods}`),
    linux: {
      cgroup_parent: `/${dir.cgroupParent}/pod-${pods}`,
      security_context: { namespace_options: { network: 'NODE', pid: 'POD', ipc: 'POD' } },
    },
  };
  const { pod_sandbox_id: pod } = await call('RunPodSandbox', {
    config: sandboxConfig,
    runtime_handler: handler,
  });
  const container = async (name: string, memory: number) => {
    const { container_id: id } = await call('CreateContainer', {
      pod_sandbox_id: pod,
      config: {
        metadata: { name, attempt: 0 },
        image: { image },
        command: ['sleep', '1000'],
        log_path: `${name}.log`,
        linux: { resources: { memory_limit_in_bytes: String(memory) } },
      },
      sandbox_config: sandboxConfig,
    });
    await call('StartContainer', { container_id: id });
    return id as string;
  };
  const limited = await container('limited', 32 * 1024 * 1024);
  const other = await container('other', 0);
  const exec = async (id: string, script: string) => {
    const reply = await call('ExecSync', {
      container_id: id,
      cmd: ['sh', '-c', script],
      timeout: 30,
    });
    return {
      exitCode: reply.exit_code,
      stdout: Buffer.from(reply.stdout).toString(),
      stderr: Buffer.from(reply.stderr).toString(),
    };
  };
  // a pod on the host's network has the host's UTS namespace too (no hostname of its own)
  const namespaces = 'for ns in ipc uts pid; do readlink /proc/self/ns/$ns; done';
  const shared = {
    limited: (await exec(limited, namespaces)).stdout,
    other: (await exec(other, namespaces)).stdout,
    // the pod's pid namespace: PID 1 is the sandbox's pause process
    pid1: (await exec(other, 'tr "\\0" " " </proc/1/cmdline')).stdout,
  };
  const plain = await exec(other, 'echo out; echo err >&2; exit 3');
  const memory = await exec(
    limited,
    'cat /sys/fs/cgroup/memory/memory.limit_in_bytes; tail /dev/zero; echo tail=$?; ' +
      'grep "^oom_kill " /sys/fs/cgroup/memory/memory.oom_control',
  );
  const { stats } = await call('ContainerStats', { container_id: other });
  await call('StopContainer', { container_id: other, timeout: 10 });
  const { status } = await call('ContainerStatus', { container_id: other });
  await call('StopPodSandbox', { pod_sandbox_id: pod });
  await call('RemovePodSandbox', { pod_sandbox_id: pod });
  const remaining = (await call('ListPodSandbox', {})).items.filter(
    (item: any) => item.id === pod,
  ).length;
  return {
    sameNamespaces: shared.limited === shared.other && shared.limited.split('\n').length === 4,
    // ipc and pid are the pod's own
    podNamespaces: shared.other
      .split('\n')
      .filter((line) => /^(ipc|pid):/.test(line))
      .every((line) => readlinkSync(`/proc/self/ns/${line.split(':')[0]}`) !== line),
    pid1: shared.pid1,
    plain,
    memory,
    memoryUsed: Number(stats.memory.working_set_bytes.value) > 0,
    stopped: { state: status.state, exitCode: status.exit_code },
    remaining,
  };
}

describe('containerd 1.6 CRI (the Kubernetes path) with a runc-ts runtime handler (compared with runc 1.1.5)', () => {
  beforeAll(() => {
    skip = missingBinaries('containerd', 'ctr', 'containerd-shim-runc-v2');
    if (skip) {
      console.warn(`CRI tests skipped: ${skip}`);
      return;
    }
    dir = new EngineDir('cri');
    for (const sub of ['runc-root-runc-ts', 'runc-root-runc', 'cni/bin', 'cni/conf', 'logs']) {
      mkdirSync(join(dir.path, sub), { recursive: true });
    }
    socket = join(dir.path, 'containerd.sock');
    skip = loadClient();
    if (skip) {
      console.warn(`CRI tests skipped: ${skip}`);
      return;
    }
    startContainerd(dir, dir.path, containerdConfigToml(dir.path, criSection(dir.path)));
    const { tar } = busyboxImageTar(dir.path);
    for (const [name, cmd] of [
      [image, ['sh']],
      [pauseImage, ['sleep', '2147483647']],
    ] as const) {
      const imported = ctr([
        'images',
        'import',
        '--snapshotter',
        'native',
        ociArchive(dir.path, tar, name, cmd),
      ]);
      if (imported.status !== 0) throw new Error(`ctr images import: ${imported.stderr}`);
    }
  }, 180_000);

  afterAll(async () => {
    if (!dir) return;
    if (client && dir.daemonRunning('containerd')) {
      try {
        for (const item of (await call('ListPodSandbox', {})).items) {
          await call('StopPodSandbox', { pod_sandbox_id: item.id });
          await call('RemovePodSandbox', { pod_sandbox_id: item.id });
        }
      } catch {
        // the runtimes' state is removed below in any case
      }
    }
    client?.close();
    dir.stopDaemon('containerd');
    for (const runtime of ['runc-ts', 'runc'] as const) {
      deleteRuntimeContainers(runtime, join(dir.path, `runc-root-${runtime}`), dir.path);
    }
    dir.cleanup();
  }, 120_000);

  it('a pod of two containers: shared namespaces, ExecSync output and exit codes, a memory limit enforced, stats, stop, remove', async (context) => {
    if (skip) context.skip(skip);
    const ours = await podScenario('runc-ts');
    const theirs = await podScenario('runc');
    expect(ours).toEqual(theirs);
    expect(ours).toEqual({
      sameNamespaces: true,
      podNamespaces: true,
      pid1: 'sleep 2147483647 ',
      plain: { exitCode: 3, stdout: 'out\n', stderr: 'err\n' },
      memory: { exitCode: 0, stdout: '33554432\ntail=137\noom_kill 1\n', stderr: 'Killed\n' },
      memoryUsed: true,
      stopped: { state: 'CONTAINER_EXITED', exitCode: theirs.stopped.exitCode },
      remaining: 0,
    });
  }, 120_000);
});
