// The two ways runc-ts is launched: the compiled `runc` (bin/runc, a Bun
// single executable: what users and engines run, and what every other
// integration test runs) and the Node.js fallback (`node dist/runc.cjs`,
// also behind bin/runc.cjs with a code cache). Both run the same sources;
// here both run real containers, seccomp included (bun:ffi in one, koffi in
// the other).
import { copyFileSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, runCaptured, runcTs } from '../support/runc.js';
import { Sandbox } from '../support/sandbox.js';

const sandbox = new Sandbox();
afterAll(() => sandbox.cleanup());

const nodeBundle = join(repoRoot, 'packages/cli/dist/runc.cjs');
const nodeLauncher = join(repoRoot, 'packages/cli/bin/runc.cjs');

const mkdirDenied = {
  defaultAction: 'SCMP_ACT_ALLOW' as const,
  syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' as const }],
};

/** `run` of a container that prints its hostname and fails a denied mkdir. */
function runProbe(command: string, prefix: string[]) {
  const bundle = sandbox.bundle((spec) => {
    spec.process!.args = ['sh', '-c', 'hostname; mkdir /tmp/x 2>&1; echo status=$?'];
    spec.hostname = 'launched';
    spec.linux!.seccomp = mkdirDenied;
  });
  return runCaptured(
    command,
    [...prefix, '--root', sandbox.root, 'run', '--bundle', bundle, sandbox.id('l')],
    { dir: sandbox.dir },
  );
}

describe('the compiled runc', () => {
  it('is a Bun single executable and says so in --version', () => {
    const result = runCaptured(runcTs, ['--version'], { dir: sandbox.dir });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(
      /^runc version \S+ \(runc-ts\)\ncommit: \S+\nspec: 1\.3\.0\nbun: /,
    );
  });

  it('runs a container with seccomp (libseccomp through bun:ffi)', () => {
    const result = runProbe(runcTs, []);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(
      /^launched\nmkdir: can't create directory '\/tmp\/x': Operation not permitted\nstatus=1\n$/,
    );
    expect(result.status).toBe(0);
  });

  it('finds its executor beside its own file: through a symlink, from any directory, whatever the environment says', () => {
    const dir = join(sandbox.dir, 'linked');
    mkdirSync(dir);
    const link = join(dir, 'runc');
    symlinkSync(runcTs, link);
    // A decoy where a cwd- or environment-based lookup would look.
    copyFileSync('/bin/false', join(dir, 'runc-ts-init'));
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['echo', 'found'];
    });
    const result = runCaptured(
      link,
      ['--root', sandbox.root, 'run', '--bundle', bundle, sandbox.id('link')],
      {
        dir: sandbox.dir,
        cwd: dir,
        env: { ...process.env, RUNC_TS_INIT: join(dir, 'runc-ts-init') },
      },
    );
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('found\n');
  });

  it('ignores .env and bunfig.toml in its working directory (the bundle, as containerd runs it)', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['sh', '-c', 'mkdir /tmp/x 2>&1; echo status=$?'];
      spec.linux!.seccomp = mkdirDenied;
    });
    const marker = join(sandbox.dir, 'preloaded');
    // Were they read, seccomp would load a library that does not exist,
    // and the preload script would leave its marker.
    writeFileSync(join(bundle, '.env'), 'RUNC_TS_LIBSECCOMP=/nonexistent/libseccomp.so.2\n');
    writeFileSync(
      join(bundle, 'preload.js'),
      `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'x');\n`,
    );
    writeFileSync(join(bundle, 'bunfig.toml'), 'preload = ["./preload.js"]\n');
    const result = runCaptured(runcTs, ['--root', sandbox.root, 'run', sandbox.id('cwd')], {
      dir: sandbox.dir,
      cwd: bundle,
    });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(
      "mkdir: can't create directory '/tmp/x': Operation not permitted\nstatus=1\n",
    );
    expect(existsSync(marker)).toBe(false);
  });
});

describe('the Node.js fallback', () => {
  it.each([
    ['node dist/runc.cjs', nodeBundle],
    ['node bin/runc.cjs', nodeLauncher],
  ])('%s: --version names node', (_label, script) => {
    const result = runCaptured(process.execPath, [script, '--version'], { dir: sandbox.dir });
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(
      /^runc version \S+ \(runc-ts\)\ncommit: \S+\nspec: 1\.3\.0\nnode: v/,
    );
  });

  it('node dist/runc.cjs runs a container with seccomp (libseccomp through koffi)', () => {
    const result = runProbe(process.execPath, [nodeBundle]);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(
      /^launched\nmkdir: can't create directory '\/tmp\/x': Operation not permitted\nstatus=1\n$/,
    );
    expect(result.status).toBe(0);
  });

  it('create/state/start/delete: the two builds share one state root', () => {
    const id = sandbox.id('mixed');
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['sleep', '30'];
    });
    const node = (args: string[]) =>
      runCaptured(process.execPath, [nodeBundle, '--root', sandbox.root, ...args], {
        dir: sandbox.dir,
      });
    expect(node(['create', '--bundle', bundle, id]).status).toBe(0);
    expect(JSON.parse(sandbox.runc(['state', id]).stdout).status).toBe('created');
    expect(sandbox.runc(['start', id]).status).toBe(0);
    expect(JSON.parse(node(['state', id]).stdout).status).toBe('running');
    expect(node(['delete', '--force', id]).status).toBe(0);
    expect(sandbox.runc(['list', '-q']).stdout).toBe('');
  });
});
