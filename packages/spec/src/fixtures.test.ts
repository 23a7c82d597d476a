import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigSchema,
  FeaturesSchema,
  parseConfig,
  parseFeatures,
  parseState,
  StateSchema,
} from './index.js';
import { runtimeSpecFixtures } from './test-fixtures.js';

// The official runtime-spec examples (../shared/fixtures/runtime-spec/test).
// Non-Linux examples are out of scope: their platform objects are unknown
// properties to a Linux runtime, and a bad FreeBSD field does not concern it.
const isLinuxExample = (name: string) => !/^(freebsd|zos|windows|solaris|vm)-/.test(name);

function examples(kind: 'config' | 'state' | 'features', verdict: 'good' | 'bad') {
  const dir = join(runtimeSpecFixtures, 'test', kind, verdict);
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json') && isLinuxExample(name))
    .map((name) => ({ name, text: readFileSync(join(dir, name), 'utf8') }));
}

const documents = {
  config: { parse: parseConfig, zod: ConfigSchema },
  state: { parse: parseState, zod: StateSchema },
  features: { parse: parseFeatures, zod: FeaturesSchema },
} as const;

describe.each(Object.keys(documents) as (keyof typeof documents)[])('%s examples', (kind) => {
  const { parse, zod } = documents[kind];

  it('has examples to check', () => {
    expect(examples(kind, 'good').length).toBeGreaterThan(0);
    expect(examples(kind, 'bad').length).toBeGreaterThan(0);
  });

  it.each(examples(kind, 'good'))('accepts good/$name (fast validator and zod)', ({ text }) => {
    expect(() => parse(text)).not.toThrow();
    expect(zod.safeParse(JSON.parse(text)).success).toBe(true);
  });

  it.each(examples(kind, 'bad'))('rejects bad/$name (fast validator and zod)', ({ text }) => {
    expect(() => parse(text)).toThrow();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return; // malformed JSON: nothing for zod to see
    }
    expect(zod.safeParse(json).success).toBe(false);
  });
});

describe('bad examples name the offending path', () => {
  const expected: Record<string, RegExp> = {
    'linux-hugepage.json':
      /config\.json:11:33: linux\.resources\.hugepageLimits\[0\]\.pageSize: expected a string matching/,
    'linux-netdevice.json':
      /config\.json:9:25: linux\.netDevices\.eth0\.name: expected string, got integer 23/,
    'linux-rdma.json':
      /config\.json:10:35: linux\.resources\.rdma\.mlx5_1\.hcaHandles: expected integer, got string "not a uint32"/,
    'invalid-json.json': /config\.json:1:2: invalid JSON: expected a string key, found "\]"/,
  };
  it.each(examples('config', 'bad'))('$name', ({ name, text }) => {
    const pattern = expected[name];
    expect(pattern, `no expectation written for ${name}`).toBeDefined();
    expect(() => parseConfig(text)).toThrow(pattern!);
  });

  it('features without ociVersionMax', () => {
    const [bad] = examples('features', 'bad');
    expect(() => parseFeatures(bad!.text)).toThrow(
      /features\.json:1:1: ociVersionMax: required but missing/,
    );
  });
});
