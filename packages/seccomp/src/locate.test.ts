import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { librarySearchPath, locateLibseccomp } from './locate.js';

const dir = mkdtempSync(join(tmpdir(), 'runc-ts-seccomp-locate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('locateLibseccomp', () => {
  it('reads the version from the file the soname link resolves to', () => {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    mkdirSync(a);
    mkdirSync(b);
    writeFileSync(join(b, 'libseccomp.so.2.9.1'), '');
    symlinkSync('libseccomp.so.2.9.1', join(b, 'libseccomp.so.2'));
    expect(locateLibseccomp([a, b], {})).toEqual({
      path: join(b, 'libseccomp.so.2'),
      realPath: join(b, 'libseccomp.so.2.9.1'),
      version: '2.9.1',
    });
  });

  it('has no version for an unversioned file, and nothing when not installed', () => {
    const c = join(dir, 'c');
    mkdirSync(c);
    writeFileSync(join(c, 'libseccomp.so.2'), '');
    expect(locateLibseccomp([c], {})?.version).toBeUndefined();
    expect(locateLibseccomp([join(dir, 'missing')], {})).toBeUndefined();
  });

  it('uses only $RUNC_TS_LIBSECCOMP when it is set', () => {
    const forced = join(dir, 'b', 'libseccomp.so.2');
    expect(locateLibseccomp([join(dir, 'c')], { RUNC_TS_LIBSECCOMP: forced })?.version).toBe(
      '2.9.1',
    );
    expect(
      locateLibseccomp([join(dir, 'b')], { RUNC_TS_LIBSECCOMP: '/nonexistent/x.so' }),
    ).toBeUndefined();
  });

  it('searches LD_LIBRARY_PATH first, then the multiarch and usual directories', () => {
    const path = librarySearchPath({ LD_LIBRARY_PATH: '/opt/lib:relative:' }, 'x64');
    expect(path.slice(0, 3)).toEqual([
      '/opt/lib',
      '/usr/local/lib/x86_64-linux-gnu',
      '/lib/x86_64-linux-gnu',
    ]);
    expect(path).toContain('/usr/lib64');
    expect(path).not.toContain('relative');
  });
});
