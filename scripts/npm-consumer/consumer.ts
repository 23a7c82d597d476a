// A program of an ordinary Node project that installed the packed @runc-ts/*
// tarballs from npm (scripts/check-npm-packages copies it there, type-checks
// it against the installed declarations and runs it). It imports only the
// packages' public entries.
//   node consumer.js smoke                       every package, no root needed
//   node consumer.js run BUNDLE ROOT ID INIT     a busybox container, as root
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CgroupError, cleanCgroupsPath, detectLayout } from '@runc-ts/cgroups';
import { type CliIo, runCli } from '@runc-ts/cli';
import { ContainerError, Runtime, starterSpec, validateContainerId } from '@runc-ts/libcontainer';
import { MS_NOSUID, MS_RDONLY, PlanError, parseMountOptions } from '@runc-ts/namespaces';
import { compileSeccomp, SECCOMP_RET } from '@runc-ts/seccomp';
import { exampleSpec, OCI_VERSION, parseConfig, renderSpec, SpecError } from '@runc-ts/spec';

async function smoke(): Promise<void> {
  // @runc-ts/spec: the template validates; a bad document names its field.
  const config = parseConfig(renderSpec(exampleSpec()));
  assert.equal(config.ociVersion, OCI_VERSION);
  assert.throws(
    () => parseConfig('{"ociVersion": "1.3.0", "process": {"cwd": 7}}', { source: 'bad.json' }),
    (error: unknown) => error instanceof SpecError && /process\.cwd/.test(error.message),
  );

  // @runc-ts/cgroups: pure path rules, and the host's layout.
  assert.deepEqual(cleanCgroupsPath({ containerId: 'c1', cgroupsPath: '/a/../b' }), {
    path: '/b',
    absolute: true,
  });
  assert.ok(['legacy', 'hybrid', 'unified'].includes(detectLayout().mode));
  assert.equal(typeof CgroupError, 'function');

  // @runc-ts/seccomp: a small profile compiled to BPF through the system libseccomp.
  const compiled = compileSeccomp({
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }],
  });
  assert.ok(compiled.program.length > 0 && compiled.program.length % 8 === 0);
  assert.equal(SECCOMP_RET.ALLOW, 0x7fff0000);

  // @runc-ts/namespaces: mount options to flags.
  const options = parseMountOptions(['ro', 'nosuid']);
  assert.equal(options.flags & (MS_RDONLY | MS_NOSUID), MS_RDONLY | MS_NOSUID);
  assert.equal(typeof PlanError, 'function');

  // @runc-ts/libcontainer: ids, and an empty state root.
  validateContainerId('web-1');
  assert.throws(() => validateContainerId('../escape'), ContainerError);
  const root = mkdtempSync(join(tmpdir(), 'runc-ts-consumer-'));
  try {
    assert.deepEqual(new Runtime({ root, initPath: '/nonexistent' }).list(), []);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }

  // @runc-ts/cli: imported (ESM) and required (CommonJS).
  let out = '';
  const collect = (text: string) => {
    out += text;
  };
  const io: CliIo = { stdout: collect, stderr: collect };
  assert.equal(await runCli(['--version'], io), 0);
  assert.match(out, /runc-ts/);
  const required = createRequire(import.meta.url)('@runc-ts/cli') as { runCli: unknown };
  assert.equal(required.runCli, runCli);
  console.log('consumer: smoke ok');
}

async function run(bundle: string, root: string, id: string, initPath: string): Promise<void> {
  const config = await starterSpec();
  assert.ok(config.process);
  config.process.terminal = false;
  config.process.args = ['sh', '-c', 'echo hello from $(hostname)'];
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
  // The container's stdio are this process' fds 0-2 (/dev/null unless given).
  const runtime = new Runtime({ root, initPath });
  const status = await runtime.run(id, { bundle, stdio: [0, 1, 2] });
  assert.equal(status, 0);
  assert.deepEqual(runtime.list(), []);
  // Nothing of the container is left; --root keeps only its lock directory.
  assert.deepEqual(
    readdirSync(root).filter((entry) => entry !== '@locks'),
    [],
  );
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'smoke') {
  await smoke();
} else if (mode === 'run' && args.length === 4) {
  const [bundle, root, id, initPath] = args as [string, string, string, string];
  await run(bundle, root, id, initPath);
} else {
  console.error('usage: consumer.js smoke | run BUNDLE ROOT ID INIT');
  process.exit(2);
}
