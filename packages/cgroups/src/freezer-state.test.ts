import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freezerStateOf } from './freezer-state.js';
import { loadManager } from './manager.js';
import type { CgroupState } from './types.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'runc-ts-freezer-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The light reader and the driver agree, value or error. */
function expectSameAsDriver(state: CgroupState): void {
  const viaDriver = () => loadManager(state).freezerState();
  let expected: unknown;
  try {
    expected = viaDriver();
  } catch (error) {
    expect(() => freezerStateOf(state)).toThrow((error as Error).message);
    return;
  }
  expect(freezerStateOf(state)).toBe(expected);
}

describe('freezerStateOf', () => {
  it.each([
    ['THAWED\n', 'thawed'],
    ['FROZEN\n', 'frozen'],
    ['FREEZING\n', 'freezing'],
    ['bogus\n', 'undefined'],
  ])('reads a v1 freezer.state of %j as %s, as the fs driver does', (text, state) => {
    writeFileSync(join(dir, 'freezer.state'), text);
    const cgroup: CgroupState = { driver: 'fs', paths: { freezer: dir, memory: '/nowhere' } };
    expect(freezerStateOf(cgroup)).toBe(state);
    expectSameAsDriver(cgroup);
  });

  it('is undefined for fs without a freezer hierarchy or file', () => {
    expect(freezerStateOf({ driver: 'fs', paths: { memory: dir } })).toBe('undefined');
    expect(freezerStateOf({ driver: 'fs', paths: { freezer: join(dir, 'gone') } })).toBe(
      'undefined',
    );
  });

  it.each([
    ['0\n', 'frozen 0\n', 'thawed'],
    ['1\n', 'populated 1\nfrozen 1\n', 'frozen'],
    ['1\n', 'populated 1\nfrozen 0\n', 'freezing'],
  ])('reads a v2 cgroup.freeze %j with cgroup.events %j as %s', (freeze, events, state) => {
    const cgroup = join(dir, 'c');
    mkdirSync(cgroup);
    writeFileSync(join(cgroup, 'cgroup.freeze'), freeze);
    writeFileSync(join(cgroup, 'cgroup.events'), events);
    const saved: CgroupState = { driver: 'fs2', paths: { '': cgroup } };
    expect(freezerStateOf(saved)).toBe(state);
    expectSameAsDriver(saved);
  });

  it('is undefined for a v2 directory that is gone', () => {
    expect(freezerStateOf({ driver: 'fs2', paths: { '': join(dir, 'gone') } })).toBe('undefined');
  });

  it('fails as the drivers do on a state none accepts', () => {
    const bad: CgroupState[] = [
      { driver: 'fs2', paths: {} },
      { driver: 'systemd', paths: { '': dir } },
      { driver: 'nonsense' as CgroupState['driver'], paths: {} },
    ];
    for (const state of bad) {
      expect(() => freezerStateOf(state)).toThrow(/cgroup state/);
      expectSameAsDriver(state);
    }
  });

  it('reads a systemd unit through the fs side of this host, as the systemd driver does', () => {
    writeFileSync(join(dir, 'freezer.state'), 'FROZEN\n');
    writeFileSync(join(dir, 'cgroup.freeze'), '1\n');
    writeFileSync(join(dir, 'cgroup.events'), 'frozen 1\n');
    const unit = { unit: 'runc-ts-x.scope', slice: 'system.slice' };
    expectSameAsDriver({ driver: 'systemd', paths: { freezer: dir, '': dir }, ...unit });
    expect(freezerStateOf({ driver: 'systemd', paths: { freezer: dir, '': dir }, ...unit })).toBe(
      'frozen',
    );
    expect(freezerStateOf({ driver: 'systemd', paths: {}, ...unit })).toBe('undefined');
    expectSameAsDriver({ driver: 'systemd', paths: {}, ...unit });
  });
});
