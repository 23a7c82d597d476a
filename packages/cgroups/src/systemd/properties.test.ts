import type { LinuxResources } from '@runc-ts/spec';
import { describe, expect, it } from 'vitest';
import { containerDeviceRules } from '../devices.js';
import { CgroupError } from '../errors.js';
import {
  baseProperties,
  cpuListBits,
  deviceGroup,
  type ResourcePropertiesContext,
  resourceProperties,
  UINT64_MAX,
  type UnitProperty,
} from './properties.js';

const PROC_DEVICES = `Character devices:
  1 mem
  4 /dev/vc/0
  4 tty
136 pts
180 usb

Block devices:
  7 loop
  8 sd
254 virtblk
`;

function props(
  resources: LinuxResources,
  cgroupVersion: 1 | 2,
  extra: Partial<ResourcePropertiesContext> = {},
): UnitProperty[] {
  return resourceProperties(resources, {
    cgroupVersion,
    systemdVersion: 252,
    procDevices: () => PROC_DEVICES,
    ...extra,
  });
}

/** name=signature:value, the way the tests compare property lists. */
function brief(properties: UnitProperty[]): string[] {
  const show = (value: unknown): string =>
    Array.isArray(value) ? `[${value.map(show).join(',')}]` : String(value);
  return properties.map((p) => `${p.name}=${p.signature}:${show(p.value)}`);
}

function invalid(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(CgroupError);
    expect((error as CgroupError).code).toBe('INVALID');
    return (error as Error).message;
  }
  throw new Error('expected an INVALID CgroupError');
}

const MAX = UINT64_MAX.toString();

describe('baseProperties (what runc 1.1.5 sends in StartTransientUnit, seen with dbus-monitor)', () => {
  it('scope on cgroup v1', () => {
    expect(
      brief(
        baseProperties({
          unit: 'runc-m1.scope',
          slice: 'system.slice',
          description: 'libcontainer container m1',
          pid: 79,
          cgroupVersion: 1,
        }),
      ),
    ).toEqual([
      'Description=s:libcontainer container m1',
      'Slice=s:system.slice',
      'Delegate=b:true',
      'PIDs=au:[79]',
      'MemoryAccounting=b:true',
      'CPUAccounting=b:true',
      'BlockIOAccounting=b:true',
      'TasksAccounting=b:true',
      'DefaultDependencies=b:false',
    ]);
  });

  it('scope on cgroup v2 accounts IO instead of BlockIO', () => {
    const names = baseProperties({
      unit: 'runc-m1.scope',
      slice: 'system.slice',
      description: 'd',
      pid: 52,
      cgroupVersion: 2,
    }).map((p) => p.name);
    expect(names).toContain('IOAccounting');
    expect(names).not.toContain('BlockIOAccounting');
  });

  it('slice: Wants= its parent, no Delegate and no PIDs (systemd refuses them on slices)', () => {
    expect(
      brief(
        baseProperties({
          unit: 'system-c7.slice',
          slice: 'system.slice',
          description: 'd',
          pid: 10,
          cgroupVersion: 1,
        }),
      ).slice(0, 3),
    ).toEqual(['Description=s:d', 'Wants=as:[system.slice]', 'MemoryAccounting=b:true']);
  });
});

describe('resourceProperties on cgroup v1', () => {
  it('maps memory, cpu, blkio, pids and cpuset as runc does, in its order', () => {
    expect(
      brief(
        props(
          {
            memory: { limit: 52428800, reservation: 10485760, swap: 104857600 },
            cpu: { shares: 512, quota: 25000, period: 50000, cpus: '0-1', mems: '0' },
            pids: { limit: 77 },
            blockIO: { weight: 300 },
          },
          1,
        ),
      ),
    ).toEqual([
      'MemoryLimit=t:52428800',
      'CPUShares=t:512',
      'CPUQuotaPeriodUSec=t:50000',
      'CPUQuotaPerSecUSec=t:500000',
      'BlockIOWeight=t:300',
      'TasksMax=t:77',
      'AllowedCPUs=ay:[3]',
      'AllowedMemoryNodes=ay:[1]',
    ]);
  });

  it('turns -1 into infinity (2^64-1) and leaves 0 unset', () => {
    expect(
      brief(props({ memory: { limit: -1 }, pids: { limit: -1 }, cpu: { quota: -1 } }, 1)),
    ).toEqual([`MemoryLimit=t:${MAX}`, `CPUQuotaPerSecUSec=t:${MAX}`, `TasksMax=t:${MAX}`]);
    expect(props({ memory: { limit: 0 }, pids: { limit: 0 }, cpu: { shares: 0 } }, 1)).toEqual([]);
  });

  it('rounds a fractional CPU percentage up to the next 10 ms, with the default period', () => {
    // quota 33333 of 100000 is 333330 us/s: systemd keeps whole percents, so 340 ms.
    expect(brief(props({ cpu: { quota: 33333 } }, 1))).toEqual(['CPUQuotaPerSecUSec=t:340000']);
    expect(brief(props({ cpu: { quota: 10000 } }, 1))).toEqual(['CPUQuotaPerSecUSec=t:100000']);
  });

  it('a period alone sets the period and no quota', () => {
    expect(brief(props({ cpu: { period: 100000 } }, 1))).toEqual([
      'CPUQuotaPeriodUSec=t:100000',
      `CPUQuotaPerSecUSec=t:${MAX}`,
    ]);
  });

  it('leaves out what the systemd version does not have, and says so', () => {
    const warnings: string[] = [];
    const result = props({ cpu: { quota: 20000, period: 50000, cpus: '1' } }, 1, {
      systemdVersion: 241,
      warn: (message) => warnings.push(message),
    });
    expect(brief(result)).toEqual(['CPUQuotaPerSecUSec=t:400000']);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/systemd 241 has no CPUQuotaPeriodUSec/);
    expect(warnings[1]).toMatch(
      /systemd 241 has no AllowedCPUs \(244 or later does\): linux\.resources\.cpu\.cpus/,
    );
  });

  it('refuses unified resources, naming them', () => {
    expect(invalid(() => props({ unified: { 'memory.max': '1' } }, 1))).toBe(
      'linux.resources.unified: cannot be used on cgroup v1 (has "memory.max")',
    );
  });

  it('refuses values that are not limits', () => {
    expect(invalid(() => props({ memory: { limit: -2 } }, 1))).toMatch(
      /^linux\.resources\.memory\.limit: -2 is negative/,
    );
    expect(invalid(() => props({ cpu: { shares: 1.5 } }, 1))).toMatch(
      /^linux\.resources\.cpu\.shares: 1\.5 is not an integer/,
    );
  });
});

describe('resourceProperties on cgroup v2', () => {
  it('maps the v1-style resources with runc 1.1.5 conversions', () => {
    expect(
      brief(
        props(
          {
            memory: { limit: 52428800, reservation: 10485760, swap: 104857600 },
            cpu: { shares: 512, quota: 25000, period: 50000, cpus: '0-1', mems: '0' },
            pids: { limit: 77 },
            blockIO: { weight: 300 },
          },
          2,
        ),
      ),
    ).toEqual([
      'MemoryMax=t:52428800',
      'MemoryLow=t:10485760',
      // memory+swap 100 MiB with 50 MiB memory: 50 MiB of swap.
      'MemorySwapMax=t:52428800',
      'CPUWeight=t:20',
      'CPUQuotaPeriodUSec=t:50000',
      'CPUQuotaPerSecUSec=t:500000',
      // blkio weight 300 -> io weight 1 + (290 * 9999) / 990.
      'IOWeight=t:2930',
      'TasksMax=t:77',
      'AllowedCPUs=ay:[3]',
      'AllowedMemoryNodes=ay:[1]',
    ]);
  });

  it('converts swap like runc: unlimited memory without swap means unlimited swap', () => {
    expect(brief(props({ memory: { limit: -1, swap: 0 }, cpu: { shares: 2 } }, 2))).toEqual([
      `MemoryMax=t:${MAX}`,
      `MemorySwapMax=t:${MAX}`,
      'CPUWeight=t:1',
    ]);
    expect(
      brief(
        props({ memory: { limit: 50000000, swap: -1 }, cpu: { shares: 262144, quota: 10000 } }, 2),
      ),
    ).toEqual([
      'MemoryMax=t:50000000',
      `MemorySwapMax=t:${MAX}`,
      'CPUWeight=t:10000',
      'CPUQuotaPerSecUSec=t:100000',
    ]);
  });

  it('refuses a swap limit that cannot be converted', () => {
    expect(invalid(() => props({ memory: { swap: 100 } }, 2))).toMatch(
      /^linux\.resources\.memory\.swap: a swap limit needs a memory limit/,
    );
    expect(invalid(() => props({ memory: { limit: 200, swap: 100 } }, 2))).toMatch(
      /^linux\.resources\.memory\.swap: 100 is less than the memory limit 200/,
    );
  });

  it('maps the unified keys systemd has properties for (sorted), and only those', () => {
    expect(
      brief(
        props(
          {
            unified: {
              'cpu.max': 'max 50000',
              'cpu.weight': '77',
              'memory.high': '50000000',
              'memory.low': '1000000',
              'memory.min': '2000000',
              'memory.max': 'max',
              'memory.swap.max': '0',
              'pids.max': 'max',
              'cpuset.cpus': '1',
              'cpuset.mems': '0',
              'io.weight': '50',
            },
          },
          2,
        ),
      ),
    ).toEqual([
      'CPUQuotaPeriodUSec=t:50000',
      `CPUQuotaPerSecUSec=t:${MAX}`,
      'CPUWeight=t:77',
      'AllowedCPUs=ay:[2]',
      'AllowedMemoryNodes=ay:[1]',
      'MemoryHigh=t:50000000',
      'MemoryLow=t:1000000',
      `MemoryMax=t:${MAX}`,
      'MemoryMin=t:2000000',
      'MemorySwapMax=t:0',
      `TasksMax=t:${MAX}`,
    ]);
  });

  it('gives cpu.max without a period the default period, as runc does', () => {
    expect(brief(props({ unified: { 'cpu.max': '10000' } }, 2))).toEqual([
      'CPUQuotaPeriodUSec=t:100000',
      'CPUQuotaPerSecUSec=t:100000',
    ]);
  });

  it('refuses unified values it cannot convert, naming the key', () => {
    expect(invalid(() => props({ unified: { 'cpu.max': '10000 20000 30000' } }, 2))).toBe(
      'linux.resources.unified["cpu.max"]: "10000 20000 30000" is not "<quota|max> [<period>]"',
    );
    expect(invalid(() => props({ unified: { 'memory.max': '1G' } }, 2))).toMatch(
      /unified\["memory\.max"\]: "1G" is not a number or "max"/,
    );
    expect(invalid(() => props({ unified: { 'cpu.weight': '0' } }, 2))).toMatch(
      /outside 1\.\.10000/,
    );
  });
});

describe('device properties', () => {
  it("turns runc's default device list into an allow-list as runc does", () => {
    const result = props({ devices: containerDeviceRules([{ allow: false, access: 'rwm' }]) }, 1);
    expect(brief(result)).toEqual([
      'DevicePolicy=s:strict',
      'DeviceAllow=a(ss):[]',
      'DeviceAllow=a(ss):[[block-*,m],[char-*,m],[/dev/char/1:3,rwm],[/dev/char/1:5,rwm],[/dev/char/1:7,rwm],[/dev/char/1:8,rwm],[/dev/char/1:9,rwm],[/dev/char/5:0,rwm],[/dev/char/5:2,rwm],[/dev/char/10:200,rwm],[char-pts,rwm]]',
    ]);
  });

  it('merges access of one device, names major-only rules by driver and leaves "*:n" to the fs driver', () => {
    const warnings: string[] = [];
    const result = props(
      {
        devices: [
          { allow: false, access: 'rwm' },
          { allow: true, type: 'b', access: 'r' },
          { allow: true, type: 'b', access: 'm' },
          { allow: true, type: 'c', major: 180, access: 'rw' },
          { allow: true, type: 'c', minor: 5, access: 'rwm' },
          { allow: true, type: 'c', major: 99, access: 'r' },
          { allow: true, type: 'b', major: 8, minor: 0, access: 'rw' },
          { allow: false, type: 'b', major: 8, minor: 0, access: 'w' },
        ],
      },
      2,
      { warn: (message) => warnings.push(message) },
    );
    expect(brief(result)).toEqual([
      'DevicePolicy=s:strict',
      'DeviceAllow=a(ss):[]',
      'DeviceAllow=a(ss):[[block-*,rm],[/dev/block/8:0,r],[char-usb,rw]]',
    ]);
    expect(warnings).toEqual([
      'systemd has no form for the device rule "c *:5 rwm" (any major, one minor): it is applied through the devices cgroup only',
      'no char driver has major 99 in /proc/devices, so systemd cannot name the device rule "c 99:* r": it is applied through the devices cgroup only',
    ]);
  });

  it('allows everything with DevicePolicy=auto and an empty list', () => {
    expect(brief(props({ devices: [{ allow: true, access: 'rwm' }] }, 2))).toEqual([
      'DevicePolicy=s:auto',
      'DeviceAllow=a(ss):[]',
    ]);
  });

  it('cannot express a deny-list: denies everything and warns (the fs driver writes the rules)', () => {
    const warnings: string[] = [];
    const result = props(
      {
        devices: [
          { allow: true, access: 'rwm' },
          { allow: false, type: 'c', major: 1, minor: 3 },
        ],
      },
      1,
      { warn: (message) => warnings.push(message) },
    );
    expect(brief(result)).toEqual(['DevicePolicy=s:strict', 'DeviceAllow=a(ss):[]']);
    expect(warnings[0]).toMatch(/systemd has no device deny-lists/);
  });

  it('needs existing device nodes before systemd 240', () => {
    const result = props(
      {
        devices: [
          { allow: true, type: 'c', major: 1, minor: 3 },
          { allow: true, type: 'c', major: 1, minor: 99 },
        ],
      },
      1,
      { systemdVersion: 239, pathExists: (path) => path === '/dev/char/1:3' },
    );
    expect(brief(result)[2]).toBe('DeviceAllow=a(ss):[[/dev/char/1:3,rwm]]');
  });

  it('leaves the device policy alone when devices are not given (runc update)', () => {
    expect(props({ pids: { limit: 5 } }, 1).map((p) => p.name)).toEqual(['TasksMax']);
  });

  it('validates the rules, naming the entry', () => {
    expect(invalid(() => props({ devices: [{ allow: true, type: 'x' }] }, 1))).toMatch(
      /^linux\.resources\.devices\[0\]\.type/,
    );
  });
});

describe('cpuListBits', () => {
  it('sets bit n%8 of byte n/8 for each cpu', () => {
    expect(cpuListBits('0', 'f')).toEqual([1]);
    expect(cpuListBits('0-3,8', 'f')).toEqual([15, 1]);
    expect(cpuListBits('1, 9-10', 'f')).toEqual([2, 6]);
    expect(cpuListBits('63', 'f')).toEqual([0, 0, 0, 0, 0, 0, 0, 128]);
  });

  it('refuses what is not a cpu list', () => {
    expect(invalid(() => cpuListBits('3-1', 'linux.resources.cpu.cpus'))).toBe(
      'linux.resources.cpu.cpus: "3-1" is not a cpu list: the range 3-1 goes backwards',
    );
    expect(invalid(() => cpuListBits('a', 'f'))).toMatch(/"a" is not "N" or "N-M"/);
    expect(invalid(() => cpuListBits('0-', 'f'))).toMatch(/not "N" or "N-M"/);
    expect(invalid(() => cpuListBits('100000', 'f'))).toMatch(/above 65535/);
  });
});

describe('deviceGroup', () => {
  it('finds the first driver of a major in the right section', () => {
    expect(deviceGroup(PROC_DEVICES, 'char', 136)).toBe('pts');
    expect(deviceGroup(PROC_DEVICES, 'char', 4)).toBe('/dev/vc/0');
    expect(deviceGroup(PROC_DEVICES, 'block', 8)).toBe('sd');
    expect(deviceGroup(PROC_DEVICES, 'block', 136)).toBeUndefined();
  });
});
