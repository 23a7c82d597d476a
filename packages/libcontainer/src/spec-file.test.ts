import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '@runc-ts/spec';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ContainerError, defaultStateRoot } from './index.js';
import { writeStarterSpec } from './spec-file.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'runc-ts-spec-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as ContainerError).code;
  }
  return undefined;
}

describe('writeStarterSpec', () => {
  it('writes a valid config.json into the bundle', () => {
    const path = writeStarterSpec({ bundle: dir });
    expect(path).toBe(join(dir, 'config.json'));
    const config = parseConfig(readFileSync(path, 'utf8'), { forCreate: true });
    expect(config.process?.args).toEqual(['sh']);
    expect(config.linux?.uidMappings).toBeUndefined();
  });

  it('writes a rootless config mapping the caller', () => {
    writeStarterSpec({ bundle: dir, rootless: true });
    const config = parseConfig(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(config.linux?.uidMappings).toEqual([
      { containerID: 0, hostID: process.geteuid!(), size: 1 },
    ]);
  });

  it('refuses to overwrite, with runc wording, leaving the file untouched', () => {
    writeFileSync(join(dir, 'config.json'), 'mine');
    expect(() => writeStarterSpec({ bundle: dir })).toThrow(
      'File config.json exists. Remove it first',
    );
    expect(codeOf(() => writeStarterSpec({ bundle: dir }))).toBe('CONFIG_EXISTS');
    expect(readFileSync(join(dir, 'config.json'), 'utf8')).toBe('mine');
  });

  it('names a missing bundle directory', () => {
    const missing = join(dir, 'nope');
    expect(() => writeStarterSpec({ bundle: missing })).toThrow(
      `bundle directory ${missing}: no such file or directory (ENOENT)`,
    );
  });

  it('rejects a bundle that is a file', () => {
    const file = join(dir, 'file');
    writeFileSync(file, '');
    expect(codeOf(() => writeStarterSpec({ bundle: file }))).toBe('BUNDLE_INVALID');
  });
});

describe('defaultStateRoot', () => {
  it('is /run/runc-ts for root, $XDG_RUNTIME_DIR/runc-ts for others', () => {
    expect(defaultStateRoot(0, { XDG_RUNTIME_DIR: '/run/user/0' })).toBe('/run/runc-ts');
    expect(defaultStateRoot(1000, { XDG_RUNTIME_DIR: '/run/user/1000' })).toBe(
      '/run/user/1000/runc-ts',
    );
    expect(defaultStateRoot(1000, {})).toBe('/run/runc-ts');
  });
});
