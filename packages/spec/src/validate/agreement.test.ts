import { describe, expect, it } from 'vitest';
import { ConfigSchema, exampleSpec, renderSpec, validateConfig } from '../index.js';

// The fast validator must accept exactly what the zod schemas accept. Random
// single-value mutations of a rich config, seeded so failures reproduce.
function rng(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const replacements: unknown[] = [
  -1,
  0,
  1.5,
  2 ** 32,
  2 ** 70,
  '',
  'x',
  'SCMP_ACT_ALLOW',
  true,
  null,
  [],
  {},
  ['a'],
];

function leaves(value: unknown, path: (string | number)[] = [], out: (string | number)[][] = []) {
  out.push(path);
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      leaves(v, [...path, i], out);
    });
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) leaves(v, [...path, k], out);
  }
  return out;
}

function setAt(root: any, path: (string | number)[], value: unknown) {
  let node = root;
  for (const part of path.slice(0, -1)) node = node[part];
  node[path.at(-1)!] = value;
}

const rich = () => {
  const spec: any = JSON.parse(renderSpec(exampleSpec()));
  spec.linux.resources.memory = { limit: 1024, swap: -1, swappiness: 10 };
  spec.linux.resources.cpu = { shares: 2, quota: -1, cpus: '0-1' };
  spec.linux.resources.hugepageLimits = [{ pageSize: '2MB', limit: 10 }];
  spec.linux.seccomp = {
    defaultAction: 'SCMP_ACT_ERRNO',
    architectures: ['SCMP_ARCH_X86_64'],
    syscalls: [
      {
        names: ['read'],
        action: 'SCMP_ACT_ALLOW',
        args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }],
      },
    ],
  };
  spec.linux.devices = [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 438 }];
  spec.hooks = { prestart: [{ path: '/bin/true', timeout: 5 }] };
  spec.process.scheduler = { policy: 'SCHED_OTHER', nice: 1 };
  spec.annotations = { 'a.b': 'c' };
  return spec;
};

describe('fast validator and zod agree', () => {
  const paths = leaves(rich()).filter((p) => p.length > 0);
  const random = rng(20261128);
  const cases = Array.from({ length: 600 }, () => {
    const path = paths[Math.floor(random() * paths.length)]!;
    const value = replacements[Math.floor(random() * replacements.length)];
    return { path, value };
  });

  it('on 600 single-value mutations', () => {
    let rejected = 0;
    for (const { path, value } of cases) {
      const spec = rich();
      setAt(spec, path, value);
      const byZod = ConfigSchema.safeParse(spec).success;
      let byFast = true;
      try {
        validateConfig(spec);
      } catch {
        byFast = false;
      }
      expect(byFast, `${JSON.stringify(path)} = ${JSON.stringify(value)}`).toBe(byZod);
      if (!byZod) rejected++;
    }
    expect(rejected).toBeGreaterThan(200);
  });
});
