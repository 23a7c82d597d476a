import type { IdMapping, Mount, Spec } from '@runc-ts/spec';
import { describe, expect, it } from 'vitest';
import { PlanError } from './errors.js';
import { IDMAP_CLONE_RECURSIVE, IDMAP_RECURSIVE, mappingText } from './idmap.js';
import { MS_BIND, MS_NOSUID, MS_RDONLY, MS_SHARED } from './mount-options.js';
import { dumpPlan, type Op } from './plan.js';
import { type PlanContext, planCreate } from './plan-create.js';

const ctx: PlanContext = {
  rootfs: '/bundle/rootfs',
  fifoPath: '/run/runc-ts/c1/exec.fifo',
  containerId: 'c1',
  noPivot: false,
  noNewKeyring: false,
  preserveFds: 0,
  bundle: '/bundle',
};

const userMaps = {
  uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
  gidMappings: [{ containerID: 0, hostID: 200000, size: 65536 }],
};

type Userns = 'none' | 'new' | 'joined';

function spec(mounts: Mount[], userns: Userns = 'none'): Spec {
  const namespaces: NonNullable<Spec['linux']>['namespaces'] = [{ type: 'mount' }];
  if (userns === 'new') namespaces.push({ type: 'user' });
  if (userns === 'joined') namespaces.push({ type: 'user', path: '/proc/77/ns/user' });
  return {
    ociVersion: '1.3.0',
    root: { path: 'rootfs' },
    process: { cwd: '/', args: ['/bin/true'] },
    mounts,
    linux: { namespaces, ...(userns === 'new' ? userMaps : {}) },
  };
}

/** The dumped ops of the mounts (after ROOTFS, before the devices). */
function mountLines(mounts: Mount[], userns: Userns = 'none', extra: Partial<PlanContext> = {}) {
  const ops = planCreate(spec(mounts, userns), { ...ctx, ...extra });
  const lines = dumpPlan(ops).trimEnd().split('\n');
  const start = lines.findIndex((l) => l.startsWith('ROOTFS'));
  const end = lines.findIndex((l, i) => i > start && /^(MKNOD|BIND_DEVICE|SYMLINK|SYNC)/.test(l));
  return lines.slice(start + 1, end);
}

function planError(mounts: Mount[], userns: Userns = 'none', extra: Partial<PlanContext> = {}) {
  try {
    planCreate(spec(mounts, userns), { ...ctx, ...extra });
  } catch (error) {
    expect(error).toBeInstanceOf(PlanError);
    return { code: (error as PlanError).code, message: (error as PlanError).message };
  }
  throw new Error('planCreate did not throw');
}

const mapping = (containerID: number, hostID: number, size: number): IdMapping => ({
  containerID,
  hostID,
  size,
});

describe('id-mapped mounts: plan', () => {
  it('turns a bind mount with mappings into MOUNT_IDMAPPED (not recursive: runc)', () => {
    const lines = mountLines([
      {
        destination: '/data',
        source: '/srv/data',
        options: ['bind'],
        uidMappings: [mapping(0, 100000, 1000), mapping(1000, 5000, 1)],
        gidMappings: [mapping(0, 200000, 1000)],
      },
    ]);
    expect(lines).toEqual([
      'MOUNT_IDMAPPED "/srv/data" "/data" 0 "0 100000 1000\\n1000 5000 1\\n" "0 200000 1000\\n" "" 1',
    ]);
  });

  it('rbind clones submounts; ridmap also maps them; the last of idmap/ridmap wins', () => {
    const base = {
      destination: '/t',
      source: 'tree',
      uidMappings: [mapping(0, 1, 1)],
      gidMappings: [mapping(0, 1, 1)],
    };
    const flagsOf = (options: string[]) => mountLines([{ ...base, options }])[0]?.split(' ')[3];
    expect(flagsOf(['rbind'])).toBe(String(IDMAP_CLONE_RECURSIVE));
    expect(flagsOf(['rbind', 'idmap'])).toBe(String(IDMAP_CLONE_RECURSIVE));
    expect(flagsOf(['rbind', 'ridmap'])).toBe(String(IDMAP_CLONE_RECURSIVE | IDMAP_RECURSIVE));
    expect(flagsOf(['bind', 'ridmap'])).toBe(String(IDMAP_RECURSIVE));
    expect(flagsOf(['ridmap', 'bind', 'idmap'])).toBe('0');
    // a relative source is taken from the bundle, as for any bind mount
    expect(mountLines([{ ...base, options: ['bind'] }])[0]).toContain('"/bundle/tree" "/t"');
  });

  it('idmap without mappings takes the user namespace the container creates', () => {
    const lines = mountLines(
      [{ destination: '/d', source: '/s', options: ['rbind', 'idmap'] }],
      'new',
    );
    expect(lines).toEqual([
      'MOUNT_IDMAPPED "/s" "/d" 1 "0 100000 65536\\n" "0 200000 65536\\n" "" 1',
    ]);
  });

  it('... or the one it joins, by path', () => {
    const lines = mountLines(
      [{ destination: '/d', source: '/s', options: ['bind', 'ridmap'] }],
      'joined',
    );
    expect(lines).toEqual(['MOUNT_IDMAPPED "/s" "/d" 2 "" "" "/proc/77/ns/user" 1']);
  });

  it('explicit mappings win over the user namespace', () => {
    const lines = mountLines(
      [
        {
          destination: '/d',
          source: '/s',
          options: ['bind', 'idmap'],
          uidMappings: [mapping(5, 6, 7)],
          gidMappings: [mapping(8, 9, 10)],
        },
      ],
      'joined',
    );
    expect(lines).toEqual(['MOUNT_IDMAPPED "/s" "/d" 0 "5 6 7\\n" "8 9 10\\n" "" 1']);
  });

  it('keeps the other bind options: remount flags and propagation come after', () => {
    const lines = mountLines(
      [{ destination: '/d', source: '/s', options: ['rbind', 'ro', 'nosuid', 'rshared', 'idmap'] }],
      'new',
    );
    expect(lines).toEqual([
      'MOUNT_IDMAPPED "/s" "/d" 1 "0 100000 65536\\n" "0 200000 65536\\n" "" 1',
      `BIND_REMOUNT "/d" ${MS_BIND | MS_RDONLY | MS_NOSUID} 0`,
      `PROPAGATE "/d" ${MS_SHARED | 0x4000}`,
    ]);
  });

  it('a file source gets a file mount point', () => {
    const lines = mountLines(
      [{ destination: '/etc/f', source: '/srv/f', options: ['bind', 'idmap'] }],
      'new',
      { sourceIsFile: (path) => path === '/srv/f' },
    );
    expect(lines[0]?.endsWith(' 2')).toBe(true);
  });

  it('plain bind mounts stay MOUNT', () => {
    const ops: Op[] = planCreate(
      spec([{ destination: '/d', source: '/s', options: ['bind'] }]),
      ctx,
    );
    expect(ops.some((o) => o.op === 'MOUNT_IDMAPPED')).toBe(false);
  });
});

describe('id-mapped mounts: errors name the field', () => {
  const bind = (extra: Partial<Mount>): Mount => ({
    destination: '/d',
    source: '/s',
    options: ['bind'],
    ...extra,
  });
  const maps = { uidMappings: [mapping(0, 1, 1)], gidMappings: [mapping(0, 1, 1)] };

  it.each<[string, Mount, Userns, string]>([
    [
      'a filesystem mount with mappings',
      { destination: '/d', type: 'tmpfs', source: 'tmpfs', ...maps },
      'new',
      'mounts[0].uidMappings: id-mapped mounts are only supported for bind mounts (options bind or rbind)',
    ],
    [
      'a filesystem mount with idmap',
      { destination: '/d', type: 'tmpfs', source: 'tmpfs', options: ['mode=755', 'idmap'] },
      'new',
      'mounts[0].options[1]: id-mapped mounts are only supported for bind mounts (options bind or rbind)',
    ],
    [
      'uidMappings alone',
      bind({ uidMappings: maps.uidMappings }),
      'none',
      'mounts[0].gidMappings: an id-mapped mount needs both uidMappings and gidMappings',
    ],
    [
      'empty mappings',
      bind({ uidMappings: [], gidMappings: maps.gidMappings }),
      'new',
      'mounts[0].uidMappings: must list at least one mapping',
    ],
    [
      'a zero size',
      bind({ uidMappings: maps.uidMappings, gidMappings: [mapping(0, 1, 0)] }),
      'none',
      'mounts[0].gidMappings[0].size: must be at least 1',
    ],
    [
      'a containerID range past the last id',
      bind({ uidMappings: [mapping(4294967295, 1, 1)], gidMappings: maps.gidMappings }),
      'none',
      'mounts[0].uidMappings[0]: containerID 4294967295 + size 1 overflows: ids end at 4294967294',
    ],
    [
      'a hostID range past the last id',
      bind({ uidMappings: [mapping(0, 4294967200, 100)], gidMappings: maps.gidMappings }),
      'none',
      'mounts[0].uidMappings[0]: hostID 4294967200 + size 100 overflows: ids end at 4294967294',
    ],
    [
      'overlapping container ranges',
      bind({
        uidMappings: [mapping(100, 1000, 10), mapping(0, 2000, 101)],
        gidMappings: maps.gidMappings,
      }),
      'none',
      'mounts[0].uidMappings[1]: its containerID range overlaps the one of mounts[0].uidMappings[0]',
    ],
    [
      'overlapping host ranges',
      bind({
        uidMappings: maps.uidMappings,
        gidMappings: [mapping(0, 1000, 10), mapping(10, 1009, 1)],
      }),
      'none',
      'mounts[0].gidMappings[1]: its hostID range overlaps the one of mounts[0].gidMappings[0]',
    ],
    [
      'too many mappings',
      bind({
        uidMappings: Array.from({ length: 341 }, (_, i) => mapping(i, i, 1)),
        gidMappings: maps.gidMappings,
      }),
      'none',
      'mounts[0].uidMappings: 341 mappings: the kernel takes at most 340',
    ],
    [
      'ridmap without mappings or user namespace',
      bind({ options: ['rbind', 'ridmap'] }),
      'none',
      `mounts[0].options[1]: "ridmap" without uidMappings and gidMappings takes the container's user namespace mapping, but the container has no user namespace`,
    ],
  ])('rejects %s', (_name, mount, userns, message) => {
    expect(planError([mount], userns)).toEqual({ code: 'MOUNT_INVALID', message });
  });

  it('refuses id-mapped mounts in rootless containers', () => {
    expect(planError([bind({ options: ['bind', 'idmap'] })], 'new', { rootless: true })).toEqual({
      code: 'MOUNT_INVALID',
      message:
        'mounts[0].options[1]: id-mapped mounts are not supported in rootless containers: mount_setattr(MOUNT_ATTR_IDMAP) needs CAP_SYS_ADMIN over the source filesystem',
    });
  });

  it('accepts adjacent ranges and the largest ones', () => {
    expect(
      mountLines([
        bind({
          uidMappings: [mapping(0, 10, 10), mapping(10, 0, 10)],
          gidMappings: [mapping(0, 0, 4294967295)],
        }),
      ]),
    ).toEqual(['MOUNT_IDMAPPED "/s" "/d" 0 "0 10 10\\n10 0 10\\n" "0 0 4294967295\\n" "" 1']);
  });
});

describe('mappingText', () => {
  it('writes one uid_map line per mapping', () => {
    expect(mappingText([mapping(0, 1, 2), mapping(3, 4, 5)])).toBe('0 1 2\n3 4 5\n');
  });
});
