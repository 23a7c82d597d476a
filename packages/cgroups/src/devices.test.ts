import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LinuxDeviceCgroup } from '@runc-ts/spec';
import { afterEach, describe, expect, it } from 'vitest';
import { makeFakeV1, recordWrites } from '../test/test-cgroupfs.js';
import {
  applyV1DeviceRules,
  containerDeviceRules,
  type DeviceCgroupState,
  type DeviceWrite,
  deviceTransition,
  emulateDeviceRules,
  formatDeviceRule,
  type NormalizedDeviceRule,
  normalizeDeviceRule,
  parseDevicesList,
} from './devices.js';
import { CgroupError } from './errors.js';
import { observeCgroupWrites, RootlessSkips } from './fsutil.js';

/** The kernel's devices cgroup: applies writes in order and prints devices.list (exceptions in insertion order). */
function kernelDevicesList(
  writes: DeviceWrite[],
  start: DeviceCgroupState = { allowAll: true, exceptions: [] },
): string {
  let state = start;
  for (const write of writes) {
    const allow = write.file === 'devices.allow';
    const rule: NormalizedDeviceRule =
      write.value === 'a'
        ? { allow, type: 'a', major: -1, minor: -1, access: 'rwm' }
        : (() => {
            const [type, numbers, access] = write.value.split(' ') as [string, string, string];
            const [major, minor] = numbers.split(':').map((n) => (n === '*' ? -1 : Number(n))) as [
              number,
              number,
            ];
            return { allow, type: type as 'b' | 'c', major, minor, access };
          })();
    state = emulateDeviceRules([rule], state);
  }
  if (state.allowAll) return 'a *:* rwm\n';
  return state.exceptions.map((entry) => `${formatDeviceRule(entry)}\n`).join('');
}

function listFor(rules: LinuxDeviceCgroup[]): string {
  const normalized = containerDeviceRules(rules).map((rule, index) =>
    normalizeDeviceRule(rule, `[${index}]`),
  );
  return kernelDevicesList(
    deviceTransition({ allowAll: true, exceptions: [] }, emulateDeviceRules(normalized)),
  );
}

// devices.list of runc 1.1.5 containers on this host, for the same linux.resources.devices.
const RUNC_DEFAULT = `b *:* m
c *:* m
c 1:3 rwm
c 1:5 rwm
c 1:7 rwm
c 1:8 rwm
c 1:9 rwm
c 5:0 rwm
c 5:2 rwm
c 10:200 rwm
c 136:* rwm
`;

describe('containerDeviceRules', () => {
  it('appends runc default allowed devices after the config rules', () => {
    const rules = containerDeviceRules([{ allow: false, access: 'rwm' }]);
    expect(rules[0]).toEqual({ allow: false, access: 'rwm' });
    expect(rules).toHaveLength(12);
    expect(rules.slice(1).every((rule) => rule.allow)).toBe(true);
  });

  it("reproduces runc's devices.list for `runc spec`'s deny-all config", () => {
    expect(listFor([{ allow: false, access: 'rwm' }])).toBe(RUNC_DEFAULT);
  });

  it('starts from nothing allowed, as runc does, when the config has no rules', () => {
    expect(listFor([])).toBe(RUNC_DEFAULT);
  });

  it("reproduces runc's list for merged, wildcard and overridden rules", () => {
    expect(
      listFor([
        { allow: false, access: 'rwm' },
        { allow: true, type: 'c', major: 4, access: 'r' },
        { allow: true, type: 'c', major: 1, minor: 3, access: 'w' },
        { allow: false, type: 'c', major: 5, minor: 2, access: 'rwm' },
        { allow: true, type: 'b', major: 8, minor: 1, access: 'rw' },
      ]),
    ).toBe(
      'b *:* m\nc *:* m\nc 1:3 rwm\nc 1:5 rwm\nc 1:7 rwm\nc 1:8 rwm\nc 1:9 rwm\nc 4:* r\nc 5:0 rwm\nc 5:2 rwm\nb 8:1 rw\nc 10:200 rwm\nc 136:* rwm\n',
    );
  });

  it('removes access letters only from the exact entry, as the kernel and runc do', () => {
    expect(
      listFor([
        { allow: false, access: 'rwm' },
        { allow: true, type: 'c', major: 5, minor: 3, access: 'rwm' },
        { allow: false, type: 'c', major: 5, access: 'rwm' },
        { allow: true, type: 'b', major: 1, minor: 3, access: 'r' },
        { allow: true, type: 'c', major: 1, minor: 4, access: 'rwm' },
        { allow: false, type: 'c', major: 1, minor: 4, access: 'w' },
      ]),
    ).toBe(
      'b *:* m\nc *:* m\nb 1:3 r\nc 1:3 rwm\nc 1:4 rm\nc 1:5 rwm\nc 1:7 rwm\nc 1:8 rwm\nc 1:9 rwm\nc 5:0 rwm\nc 5:2 rwm\nc 5:3 rwm\nc 10:200 rwm\nc 136:* rwm\n',
    );
  });

  it('treats any type "a" rule as all devices', () => {
    expect(listFor([{ allow: true, access: 'rwm' }])).toBe('a *:* rwm\n');
    expect(listFor([{ allow: true, type: 'a', major: 2, minor: 3, access: 'r' }])).toBe(
      'a *:* rwm\n',
    );
  });
});

describe('normalizeDeviceRule', () => {
  it('fills the spec defaults', () => {
    expect(normalizeDeviceRule({ allow: true }, 'x')).toEqual({
      allow: true,
      type: 'a',
      major: -1,
      minor: -1,
      access: 'rwm',
    });
    expect(
      normalizeDeviceRule({ allow: true, type: 'c', major: 1, minor: 3, access: 'mwr' }, 'x')
        .access,
    ).toBe('rwm');
  });

  it('names the field of an invalid rule', () => {
    expect(() =>
      normalizeDeviceRule({ allow: true, type: 'p' }, 'linux.resources.devices[2]'),
    ).toThrow(/linux.resources.devices\[2\].type/);
    expect(() => normalizeDeviceRule({ allow: true, access: 'x' }, 'd')).toThrow(/d.access/);
    expect(() => normalizeDeviceRule({ allow: true, major: -5 }, 'd')).toThrow(CgroupError);
  });
});

describe('deviceTransition', () => {
  const whitelist = (text: string) => parseDevicesList(text);

  it('changes an allow-list without denying what stays allowed', () => {
    const current = whitelist('c 1:3 rwm\nc 1:5 rwm\nc 4:* r\n');
    const target = whitelist('c 1:3 rw\nc 1:5 rwm\nc 1:9 rwm\n');
    const writes = deviceTransition(current, target);
    expect(writes).toEqual([
      { file: 'devices.allow', value: 'c 1:9 rwm' },
      { file: 'devices.deny', value: 'c 1:3 m' },
      { file: 'devices.deny', value: 'c 4:* r' },
    ]);
    expect(writes.some((write) => write.value === 'a')).toBe(false);
    expect(kernelDevicesList(writes, current)).toBe('c 1:3 rw\nc 1:5 rwm\nc 1:9 rwm\n');
  });

  it('writes nothing when nothing changes', () => {
    expect(deviceTransition(whitelist(RUNC_DEFAULT), whitelist(RUNC_DEFAULT))).toEqual([]);
  });

  it('goes to allow-all by resetting and then denying', () => {
    const target: DeviceCgroupState = {
      allowAll: true,
      exceptions: [{ type: 'c', major: 1, minor: 4, access: 'rwm' }],
    };
    expect(deviceTransition(whitelist(RUNC_DEFAULT), target)).toEqual([
      { file: 'devices.allow', value: 'a' },
      { file: 'devices.deny', value: 'c 1:4 rwm' },
    ]);
  });
});

describe('applyV1DeviceRules', () => {
  let cleanup: (() => void) | undefined;
  afterEach(() => {
    observeCgroupWrites(undefined);
    cleanup?.();
  });

  it('writes "a" to devices.deny and then the allowed devices in runc order into a fresh cgroup', () => {
    const fake = makeFakeV1();
    cleanup = fake.cleanup;
    const dir = fake.makeCgroup('c1').devices as string;
    const recorder = recordWrites(dir);
    observeCgroupWrites(recorder.observe);
    applyV1DeviceRules(
      dir,
      containerDeviceRules([{ allow: false, access: 'rwm' }]),
      new RootlessSkips(false),
    );
    expect(recorder.writes[0]).toEqual(['devices.deny', 'a']);
    expect(
      recorder.writes
        .slice(1)
        .map(([, value]) => `${value}\n`)
        .join(''),
    ).toBe(RUNC_DEFAULT);
    expect(readFileSync(join(dir, 'devices.allow'), 'utf8')).toBe('c 136:* rwm');
  });

  it('only adds the difference to an existing allow-list', () => {
    const fake = makeFakeV1();
    cleanup = fake.cleanup;
    const dir = fake.makeCgroup('c1').devices as string;
    writeFileSync(join(dir, 'devices.list'), RUNC_DEFAULT);
    const recorder = recordWrites(dir);
    observeCgroupWrites(recorder.observe);
    applyV1DeviceRules(
      dir,
      containerDeviceRules([{ allow: true, type: 'c', major: 10, minor: 229, access: 'rwm' }]),
      new RootlessSkips(false),
    );
    expect(recorder.writes).toEqual([['devices.allow', 'c 10:229 rwm']]);
  });
});

describe('normalizeDeviceRule access', () => {
  it('keeps r, w and m in canonical order and ignores other letters, as runc does', () => {
    const rule = normalizeDeviceRule(
      { allow: true, type: 'c', major: 1, minor: 11, access: 'wra' },
      'd',
    );
    expect(rule.access).toBe('rw');
  });

  it('refuses an access without any of r, w, m, naming the field', () => {
    expect(() => normalizeDeviceRule({ allow: true, access: 'ax' }, 'devices[1]')).toThrow(
      'devices[1].access: "ax" has none of the letters r, w and m',
    );
  });
});
