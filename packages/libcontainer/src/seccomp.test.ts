import {
  chmodSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { locateLibseccomp } from '@runc-ts/seccomp';
import type { Spec } from '@runc-ts/spec';
import { afterAll, describe, expect, it } from 'vitest';
import { ContainerError } from './errors.js';
import { containerSeccomp, defaultSeccompCacheDir, seccompAgentState } from './seccomp.js';

const haveLibseccomp = locateLibseccomp() !== undefined;
if (!haveLibseccomp) {
  console.warn('containerSeccomp compile tests skipped: libseccomp.so.2 is not installed');
}
const withLib = it.skipIf(!haveLibseccomp);

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'runc-ts-seccomp-cache-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const spec = (seccomp?: NonNullable<Spec['linux']>['seccomp']): Spec => ({
  ociVersion: '1.3.0',
  root: { path: 'rootfs' },
  linux: seccomp ? { seccomp } : {},
});
const profile = {
  defaultAction: 'SCMP_ACT_ALLOW',
  syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }],
} as const;
const cacheFiles = (dir: string) => readdirSync(dir).filter((n) => n.startsWith('.seccomp-'));
const RET_ALLOW = Buffer.from([6, 0, 0, 0, 0, 0, 0xff, 0x7f]);

describe('containerSeccomp', () => {
  it('is undefined without linux.seccomp, and touches nothing', () => {
    const dir = tempDir();
    expect(containerSeccomp(spec(), { cacheDir: dir })).toBeUndefined();
    expect(cacheFiles(dir)).toEqual([]);
  });

  withLib('compiles once; the next container reads the cache', () => {
    const dir = tempDir();
    const first = containerSeccomp(spec(structuredClone(profile) as never), { cacheDir: dir });
    expect(first?.flags).toBe(0);
    expect(first!.program.length % 8).toBe(0);
    const [file] = cacheFiles(dir);
    expect(file).toMatch(/^\.seccomp-[0-9a-f]{40}\.json$/);
    // what is in the cache is what the next container gets
    const entry = JSON.parse(readFileSync(join(dir, file!), 'utf8'));
    writeFileSync(
      join(dir, file!),
      JSON.stringify({ ...entry, program: RET_ALLOW.toString('base64') }),
    );
    const second = containerSeccomp(spec(structuredClone(profile) as never), { cacheDir: dir });
    expect(Buffer.from(second!.program)).toEqual(RET_ALLOW);
    // another profile is another entry
    containerSeccomp(spec({ ...profile, defaultAction: 'SCMP_ACT_LOG' } as never), {
      cacheDir: dir,
    });
    expect(cacheFiles(dir)).toHaveLength(2);
  });

  withLib('a damaged entry is compiled again and replaced', () => {
    const dir = tempDir();
    containerSeccomp(spec(profile as never), { cacheDir: dir });
    const [file] = cacheFiles(dir);
    writeFileSync(join(dir, file!), '{"format":1,"program":"AAAA","flags":0}');
    const plan = containerSeccomp(spec(profile as never), { cacheDir: dir });
    expect(plan!.program.length).toBeGreaterThan(8);
    expect(JSON.parse(readFileSync(join(dir, file!), 'utf8')).program.length).toBeGreaterThan(8);
  });

  withLib('keeps the 16 newest entries', () => {
    const dir = tempDir();
    for (let i = 0; i < 20; i++) {
      const old = join(dir, `.seccomp-old${i}.json`);
      writeFileSync(old, '{}');
      utimesSync(old, 1000 + i, 1000 + i);
    }
    containerSeccomp(spec(profile as never), { cacheDir: dir });
    const left = cacheFiles(dir);
    expect(left).toHaveLength(16);
    expect(left).not.toContain('.seccomp-old0.json');
    expect(left.filter((n) => !n.startsWith('.seccomp-old'))).toHaveLength(1);
  });

  withLib('a NOTIFY profile carries its listener', () => {
    const plan = containerSeccomp(
      spec({
        defaultAction: 'SCMP_ACT_ALLOW',
        listenerPath: '/run/agent.sock',
        syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }],
      }),
      { cacheDir: false },
    );
    expect(plan).toMatchObject({ flags: 8, listenerPath: '/run/agent.sock' });
  });

  it('a profile that cannot be compiled is a PLAN error naming the field', () => {
    let error: unknown;
    try {
      containerSeccomp(spec({ defaultAction: 'SCMP_ACT_NOTIFY' }), { cacheDir: tempDir() });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ContainerError);
    expect(error).toMatchObject({
      code: 'PLAN',
      message: 'linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be used as default action',
    });
  });
});

describe('the cache directory', () => {
  it('is /run/runc-ts-seccomp for root, under $XDG_RUNTIME_DIR for others', () => {
    expect(defaultSeccompCacheDir(0, {})).toBe('/run/runc-ts-seccomp');
    expect(defaultSeccompCacheDir(1000, { XDG_RUNTIME_DIR: '/run/user/1000' })).toBe(
      '/run/user/1000/runc-ts-seccomp',
    );
    expect(defaultSeccompCacheDir(1000, {})).toBeUndefined();
  });

  withLib('is not used when others can write to it', () => {
    const dir = tempDir();
    chmodSync(dir, 0o777);
    expect(containerSeccomp(spec(profile as never), { cacheDir: dir })).toBeDefined();
    expect(cacheFiles(dir)).toEqual([]);
  });
});

describe('seccompAgentState', () => {
  const state = {
    ociVersion: '1.3.0',
    id: 'c1',
    status: 'creating' as const,
    pid: 42,
    bundle: '/b',
  };

  it("is the runtime-spec's container process state, metadata when there is some", () => {
    const withMeta = spec({
      defaultAction: 'SCMP_ACT_ALLOW',
      listenerPath: '/a',
      listenerMetadata: 'm',
    });
    expect(JSON.parse(seccompAgentState(withMeta, 42, state).toString())).toEqual({
      ociVersion: '1.3.0',
      fds: ['seccompFd'],
      pid: 42,
      metadata: 'm',
      state,
    });
    const plain = spec({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/a' });
    const message = JSON.parse(seccompAgentState(plain, 7, state).toString());
    expect(message).not.toHaveProperty('metadata');
    expect(message.pid).toBe(7);
    expect(Object.keys(message)).toEqual(['ociVersion', 'fds', 'pid', 'state']);
  });
});
