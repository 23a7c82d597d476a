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

// The project's own example documents (packages/spec/testdata): every good
// one is accepted and every bad one rejected, by the fast validator and by
// zod alike, and each bad one is rejected with the message written below
// (file:line:column and the JSON path of the offending value).
const testdata = join(import.meta.dirname, '../testdata');

type Kind = 'config' | 'state' | 'features';

function examples(kind: Kind, verdict: 'good' | 'bad') {
  const dir = join(testdata, kind, verdict);
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => ({ name, text: readFileSync(join(dir, name), 'utf8') }));
}

const documents = {
  config: { parse: parseConfig, zod: ConfigSchema },
  state: { parse: parseState, zod: StateSchema },
  features: { parse: parseFeatures, zod: FeaturesSchema },
} as const;

/** The message of every bad example, by kind and file name. */
const expected: Record<Kind, Record<string, string>> = {
  config: {
    'annotation-value.json':
      'config.json:4:44: annotations["org.example.replicas"]: expected string, got integer 3',
    'hook-timeout.json':
      'config.json:5:63: hooks.poststop[0].timeout: expected positive integer (1 to 9007199254740991), got integer 0',
    'hugepage-page-size.json':
      'config.json:8:23: linux.resources.hugepageLimits[1].pageSize: expected a string matching /^[1-9][0-9]*[KMG]B$/, got string "2MiB"',
    'memory-limit-string.json':
      'config.json:5:41: linux.resources.memory.limit: expected integer, got string "256M"',
    'missing-oci-version.json': 'config.json:1:1: ociVersion: required but missing',
    'missing-root.json': 'config.json:1:1: root: required but missing',
    'mounts-not-array.json': 'config.json:4:13: mounts: expected an array, got object',
    'namespace-type.json':
      'config.json:5:49: linux.namespaces[1].type: expected one of "mount", "pid", "network", "uts", "ipc", "user", "cgroup", "time", got string "net"',
    'negative-uid.json':
      'config.json:4:61: process.user.uid: expected uint32 (0 to 4294967295), got integer -1',
    'net-device-name.json':
      'config.json:6:27: linux.netDevices.dummy0.name: expected string, got integer 7',
    'process-without-cwd.json': 'config.json:4:14: process.cwd: required but missing',
    'rdma-handles.json':
      'config.json:7:33: linux.resources.rdma.siw0.hcaHandles: expected integer, got string "three"',
    'rlimit-type.json':
      'config.json:7:27: process.rlimits[0].type: expected a string matching /^RLIMIT_[A-Z]+$/, got string "nofile"',
    'seccomp-action.json':
      'config.json:7:52: linux.seccomp.syscalls[0].action: expected one of "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY", got string "SCMP_ACT_DENY"',
  },
  state: {
    'missing-bundle.json': 'state.json:1:1: bundle: required but missing',
    'negative-pid.json':
      'state.json:5:10: pid: expected non-negative integer (0 to 9007199254740991), got integer -5',
    'paused.json':
      'state.json:4:13: status: expected one of "creating", "created", "running", "stopped", got string "paused"',
  },
  features: {
    'capability-name.json':
      'features.json:4:43: linux.capabilities[1]: expected a string matching /^CAP_[A-Z_]+$/, got string "SYS_ADMIN"',
    'cgroup-flag.json': 'features.json:4:32: linux.cgroup.v2: expected boolean, got string "yes"',
    'missing-oci-version-max.json': 'features.json:1:1: ociVersionMax: required but missing',
  },
};

function messageOf(parse: (text: string) => unknown, text: string): string {
  try {
    parse(text);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('the document was accepted');
}

describe.each(Object.keys(documents) as Kind[])('%s examples', (kind) => {
  const { parse, zod } = documents[kind];

  it('has good and bad examples, and an expected message for each bad one', () => {
    expect(examples(kind, 'good').length).toBeGreaterThan(1);
    expect(examples(kind, 'bad').map(({ name }) => name)).toEqual(
      Object.keys(expected[kind]).sort(),
    );
  });

  it.each(examples(kind, 'good'))('accepts good/$name (fast validator and zod)', ({ text }) => {
    expect(() => parse(text)).not.toThrow();
    expect(zod.safeParse(JSON.parse(text)).success).toBe(true);
  });

  it.each(examples(kind, 'bad'))('rejects bad/$name (fast validator and zod)', ({ name, text }) => {
    expect(messageOf(parse, text)).toBe(expected[kind][name]);
    expect(zod.safeParse(JSON.parse(text)).success).toBe(false);
  });

  // Malformed JSON is kept here rather than in testdata, where the formatter
  // would refuse it.
  it.each([
    ['{]', 2, 'expected a string key, found "]"'],
    ['{"ociVersion": "1.3.0",', 24, 'expected a string key, found end of input'],
    ['{"ociVersion": "1.3.0", "id": "x",}', 35, 'expected a string key, found "}"'],
  ])('rejects malformed JSON %j', (text, column, reason) => {
    expect(messageOf(parse, text)).toBe(`${kind}.json:1:${column}: invalid JSON: ${reason}`);
  });
});

describe('good examples stay good after a round trip through zod', () => {
  it.each(examples('config', 'good'))('$name', ({ text }) => {
    const parsed = ConfigSchema.parse(JSON.parse(text));
    expect(() => parseConfig(JSON.stringify(parsed))).not.toThrow();
  });
});
