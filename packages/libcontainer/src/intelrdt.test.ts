import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ContainerError } from './errors.js';
import {
  destroyIntelRdt,
  findResctrlRoot,
  intelRdtGroup,
  joinIntelRdt,
  prepareIntelRdt,
  schemataLines,
} from './intelrdt.js';

// A resctrl tree as the kernel shows it, in a temporary directory: info/ with
// the resources the "host" has, a root group and a pre-made CLOS "shared".
let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'resctrl-'));
  for (const dir of ['info/L3', 'info/MB', 'info/L3_MON', 'shared', 'mon_groups']) {
    mkdirSync(join(root, dir), { recursive: true });
  }
  writeFileSync(join(root, 'schemata'), '    L3:0=fff;1=fff\n    MB:0=100;1=100\n');
  writeFileSync(join(root, 'shared', 'schemata'), '    L3:0=00f;1=fff\n    MB:0= 50;1=100\n');
  writeFileSync(join(root, 'info', 'last_cmd_status'), 'ok\n');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const error = (call: () => unknown): ContainerError => {
  try {
    call();
  } catch (caught) {
    if (caught instanceof ContainerError) return caught;
    throw caught;
  }
  throw new Error('no ContainerError');
};

describe('findResctrlRoot', () => {
  it('finds the resctrl mount in mountinfo, with octal escapes', () => {
    const mountinfo = [
      '22 1 0:21 / /proc rw,nosuid - proc proc rw',
      '40 22 0:35 / /sys/fs/res\\040ctrl rw,relatime shared:20 - resctrl resctrl rw',
    ].join('\n');
    expect(findResctrlRoot(mountinfo)).toBe('/sys/fs/res ctrl');
    expect(findResctrlRoot('22 1 0:21 / /proc rw - proc proc rw')).toBeUndefined();
  });
});

describe('prepareIntelRdt (a resctrl tree in a temporary directory)', () => {
  it("makes the container's own group with its schemata, joins it, and delete removes it", () => {
    const group = prepareIntelRdt(
      { l3CacheSchema: 'L3:0=f0;1=f', memBwSchema: 'MB:0=20;1=70', schemata: ['L2:0=3'] },
      'c1',
      root,
    );
    expect(group).toEqual({ path: join(root, 'c1'), monitorPath: undefined, owned: true });
    expect(readFileSync(join(root, 'c1', 'schemata'), 'utf8')).toBe(
      'L3:0=f0;1=f\nMB:0=20;1=70\nL2:0=3\n',
    );
    joinIntelRdt(group, 123);
    joinIntelRdt(group, 124);
    expect(readFileSync(join(root, 'c1', 'tasks'), 'utf8')).toBe('123\n124\n');
    rmSync(join(root, 'c1', 'tasks'));
    rmSync(join(root, 'c1', 'schemata'));
    destroyIntelRdt(intelRdtGroup({}, 'c1', root));
    expect(existsSync(join(root, 'c1'))).toBe(false);
  });

  it('uses an existing CLOS by closID when its schemata match, and leaves it at delete', () => {
    const group = prepareIntelRdt(
      { closID: 'shared', l3CacheSchema: 'L3:0=f', enableMonitoring: true },
      'c2',
      root,
    );
    expect(group.path).toBe(join(root, 'shared'));
    expect(group.monitorPath).toBe(join(root, 'shared', 'mon_groups', 'c2'));
    expect(existsSync(group.monitorPath!)).toBe(true);
    // the pre-made CLOS keeps its schemata
    expect(readFileSync(join(root, 'shared', 'schemata'), 'utf8')).toContain('L3:0=00f');
    joinIntelRdt(group, 7);
    expect(readFileSync(join(root, 'shared', 'tasks'), 'utf8')).toBe('7\n');
    expect(readFileSync(join(group.monitorPath!, 'tasks'), 'utf8')).toBe('7\n');
    rmSync(join(group.monitorPath!, 'tasks'));
    destroyIntelRdt(intelRdtGroup({ closID: 'shared', enableMonitoring: true }, 'c2', root));
    expect(existsSync(group.monitorPath!)).toBe(false);
    expect(existsSync(join(root, 'shared'))).toBe(true);
    // closID alone: the CLOS as it is
    expect(prepareIntelRdt({ closID: 'shared' }, 'c3', root).path).toBe(join(root, 'shared'));
  });

  it.each([
    [
      { closID: 'shared', memBwSchema: 'MB:0=60' },
      'linux.intelRdt.closID: CLOS "shared" exists with MB:0=50, not 60 as the config asks',
    ],
    [
      { closID: 'nosuch' },
      `linux.intelRdt.closID: CLOS "nosuch" does not exist (${'ROOT'}/nosuch) and the config gives no schemata to make it`,
    ],
    [{ closID: '../x' }, 'linux.intelRdt.closID: "../x" is not a resctrl group name'],
    [{ closID: 'info' }, 'linux.intelRdt.closID: "info" is not a resctrl group name'],
  ])('refuses %j naming the field', (rdt, message) => {
    const caught = error(() => prepareIntelRdt(rdt, 'c4', root));
    expect(caught.code).toBe('INTEL_RDT');
    expect(caught.message).toBe(message.replace('ROOT', root));
  });

  it('refuses what the host has no resource for', () => {
    rmSync(join(root, 'info', 'MB'), { recursive: true });
    rmSync(join(root, 'info', 'L3_MON'), { recursive: true });
    expect(error(() => prepareIntelRdt({ memBwSchema: 'MB:0=10' }, 'c5', root)).message).toBe(
      'linux.intelRdt.memBwSchema: given, but this host has no memory bandwidth allocation (MBA)',
    );
    expect(error(() => prepareIntelRdt({ enableMonitoring: true }, 'c5', root)).message).toBe(
      'linux.intelRdt.enableMonitoring: set, but this host has no resctrl monitoring (L3_MON)',
    );
    rmSync(join(root, 'info', 'L3'), { recursive: true });
    expect(error(() => prepareIntelRdt({ l3CacheSchema: 'L3:0=1' }, 'c5', root)).message).toBe(
      'linux.intelRdt.l3CacheSchema: given, but this host has no L3 cache allocation (CAT)',
    );
    expect(existsSync(join(root, 'c5'))).toBe(false);
  });

  it("reports the kernel's refusal of the schemata (info/last_cmd_status)", () => {
    // schemata as a directory: the write fails as the kernel's refusal would
    mkdirSync(join(root, 'c6', 'schemata'), { recursive: true });
    writeFileSync(join(root, 'info', 'last_cmd_status'), 'Unknown or unsupported resource name\n');
    const caught = error(() => prepareIntelRdt({ schemata: ['XX:0=1'] }, 'c6', root));
    expect(caught.message).toBe(
      `linux.intelRdt: writing "XX:0=1" to ${join(root, 'c6', 'schemata')}: Unknown or unsupported resource name`,
    );
  });

  it('fails clearly where resctrl is not mounted (this host)', () => {
    const mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
    if (findResctrlRoot(mountinfo) !== undefined) return;
    expect(error(() => prepareIntelRdt({ closID: 'x' }, 'c7')).message).toMatch(
      /^linux\.intelRdt: the resctrl filesystem is not mounted/,
    );
  });

  it('lists schemata lines in runc order, multi-line fields split', () => {
    expect(
      schemataLines({
        schemata: ['L2:0=1', ''],
        memBwSchema: 'MB:0=1',
        l3CacheSchema: 'L3:0=1\nL3:1=2',
      }),
    ).toEqual(['L3:0=1', 'L3:1=2', 'MB:0=1', 'L2:0=1']);
  });
});
