import { describe, expect, it } from 'vitest';
import {
  exampleSpec,
  parseConfig,
  parseProcess,
  parseResources,
  renderSpec,
  SpecError,
  validateConfig,
} from './index.js';

const base = () => JSON.parse(renderSpec(exampleSpec())) as Record<string, any>;

function errorOf(fn: () => unknown): SpecError {
  try {
    fn();
  } catch (error) {
    if (error instanceof SpecError) return error;
    throw error;
  }
  throw new Error('expected a SpecError');
}

// Ten hand-made bad configs: each error names the JSON path, and line:column.
const badConfigs: [string, (c: Record<string, any>) => void, RegExp][] = [
  [
    'memory limit given as a string',
    (c) => {
      c.linux.resources.memory = { limit: '1g' };
    },
    /^config\.json:\d+:\d+: linux\.resources\.memory\.limit: expected integer, got string "1g"$/,
  ],
  [
    'unknown namespace type',
    (c) => {
      c.linux.namespaces[1].type = 'net';
    },
    /^config\.json:\d+:\d+: linux\.namespaces\[1\]\.type: expected one of "mount", "pid", "network", "uts", "ipc", "user", "cgroup", "time", got string "net"$/,
  ],
  [
    'negative rlimit',
    (c) => {
      c.process.rlimits[0].soft = -1;
    },
    /^config\.json:\d+:\d+: process\.rlimits\[0\]\.soft: expected uint64 \(0 to 18446744073709551615\), got integer -1$/,
  ],
  [
    'negative cpu shares',
    (c) => {
      c.linux.resources.cpu = { shares: -2 };
    },
    /linux\.resources\.cpu\.shares: expected uint64 .*got integer -2$/,
  ],
  [
    'unknown seccomp action',
    (c) => {
      c.linux.seccomp = { defaultAction: 'SCMP_ACT_DENY' };
    },
    /linux\.seccomp\.defaultAction: expected one of "SCMP_ACT_KILL".*got string "SCMP_ACT_DENY"$/,
  ],
  [
    'terminal as a string',
    (c) => {
      c.process.terminal = 'yes';
    },
    /process\.terminal: expected boolean, got string "yes"$/,
  ],
  [
    'mount without destination',
    (c) => {
      delete c.mounts[2].destination;
    },
    /^config\.json:\d+:\d+: mounts\[2\]\.destination: required but missing$/,
  ],
  [
    'uid out of range',
    (c) => {
      c.process.user.uid = 4294967296;
    },
    /process\.user\.uid: expected uint32 \(0 to 4294967295\), got integer 4294967296$/,
  ],
  [
    'annotation value not a string',
    (c) => {
      c.annotations = { 'com.example.key': 1 };
    },
    /annotations\["com\.example\.key"\]: expected string, got integer 1$/,
  ],
  [
    'bad rootfs propagation',
    (c) => {
      c.linux.rootfsPropagation = 'shard';
    },
    /linux\.rootfsPropagation: expected one of "private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable", got string "shard"$/,
  ],
  [
    'device type not c/b/u/p',
    (c) => {
      c.linux.devices = [{ path: '/dev/x', type: 'z', major: 1, minor: 1 }];
    },
    /linux\.devices\[0\]\.type: expected a string matching \/\^\[cbup\]\$\/, got string "z"$/,
  ],
  [
    'root missing',
    (c) => {
      delete c.root;
    },
    /^config\.json:1:1: root: required but missing$/,
  ],
];

describe('hand-made bad configs', () => {
  it.each(badConfigs)('%s', (_name, mutate, expected) => {
    const config = base();
    mutate(config);
    const text = JSON.stringify(config, null, 2);
    const error = errorOf(() => parseConfig(text));
    expect(error.code).toBe('INVALID_DOCUMENT');
    expect(error.issues).toHaveLength(1);
    expect(error.message).toMatch(expected);
  });

  it('points at the line and column of the bad value', () => {
    const text = '{\n  "ociVersion": "1.3.0",\n  "root": {"path": "rootfs"},\n  "hostname": 7\n}';
    expect(() => parseConfig(text)).toThrow(
      'config.json:4:15: hostname: expected string, got integer 7',
    );
  });

  it('lists every problem, not just the first', () => {
    const config = base();
    config.hostname = 1;
    config.process.cwd = 2;
    config.linux.namespaces[0].type = 'bogus';
    const error = errorOf(() => parseConfig(JSON.stringify(config)));
    expect(error.issues.map((issue) => issue.path)).toEqual([
      'process.cwd',
      'hostname',
      'linux.namespaces[0].type',
    ]);
  });

  // Found by the property test (fuzz.test.ts): every issue was located by
  // rescanning the text, so 16,000 bad items took 35 s to reject.
  it('rejects thousands of bad values in linear time, locating the ones it lists', () => {
    const text = JSON.stringify({ cwd: '/', args: Array(30_000).fill(1) }, null, 1);
    const started = performance.now();
    const error = errorOf(() => parseProcess(text));
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(error.issues).toHaveLength(30_000);
    expect(error.issues[19]).toMatchObject({ path: 'args[19]', line: 23, column: 3 });
    expect(error.issues[20]).toEqual({
      path: 'args[20]',
      message: 'expected string, got integer 1',
    });
    expect(error.message).toContain('and 29980 more problem(s)');
  }, 60_000);

  it('reports the wrong top-level type', () => {
    expect(() => parseConfig('[]')).toThrow('config.json:1:1: expected an object, got array');
  });
});

describe('malformed JSON', () => {
  it.each([
    ['{]', 'config.json:1:2: invalid JSON: expected a string key, found "]"'],
    [
      '{\n  "ociVersion": "1.3.0",\n  "root": {"path": "rootfs"}\n  "hostname": "x"\n}',
      'config.json:4:3: invalid JSON: expected "," or "}" in object, found "\\""',
    ],
    ['{"a": [1, 2,]}', 'config.json:1:13: invalid JSON: unexpected "]", expected a JSON value'],
    ['{"a": "unterminated', 'config.json:1:7: invalid JSON: unterminated string'],
    ['', 'config.json:1:1: invalid JSON: unexpected end of input, expected a JSON value'],
    ['{} x', 'config.json:1:4: invalid JSON: unexpected "x" after the top-level value'],
  ])('%j', (text, message) => {
    const error = errorOf(() => parseConfig(text));
    expect(error.code).toBe('INVALID_JSON');
    expect(error.message).toBe(message);
  });
});

describe('requirements for create', () => {
  it('requires a process', () => {
    const config = base();
    delete config.process;
    expect(() => validateConfig(config)).not.toThrow();
    expect(() => parseConfig(JSON.stringify(config), { forCreate: true })).toThrow(
      'config.json:1:1: process: required to create a container, but missing',
    );
  });

  it('requires at least one argument', () => {
    const config = base();
    config.process.args = [];
    expect(() => validateConfig(config, { forCreate: true })).toThrow(
      'config.json: process.args: must name the program to run (at least one argument)',
    );
  });

  it('requires an absolute cwd', () => {
    const config = base();
    config.process.cwd = 'tmp';
    expect(() => validateConfig(config, { forCreate: true })).toThrow(
      'config.json: process.cwd: must be an absolute path, got "tmp"',
    );
  });
});

describe('what is accepted', () => {
  it('keeps unknown properties', () => {
    const config = base();
    config.vendorExtension = { x: 1 };
    config.linux.resources.oomScoreAdj = 100;
    const parsed = parseConfig(JSON.stringify(config)) as Record<string, any>;
    expect(parsed.vendorExtension).toEqual({ x: 1 });
    expect(parsed.linux.resources.oomScoreAdj).toBe(100);
  });

  it('accepts int64 and uint64 values beyond 2^53', () => {
    const config = base();
    config.linux.resources.memory = { limit: 'INT64_MAX', swap: -1 };
    config.linux.resources.hugepageLimits = [{ pageSize: '2MB', limit: 'UINT64_MAX' }];
    const text = JSON.stringify(config)
      .replace('"INT64_MAX"', '9223372036854775807')
      .replace('"UINT64_MAX"', '18446744073709551615');
    expect(() => parseConfig(text)).not.toThrow();
    expect(() =>
      parseConfig(text.replace('18446744073709551615', '18446744073709551617000')),
    ).toThrow(/hugepageLimits\[0\]\.limit: expected uint64/);
  });

  it('parses an exec process.json, cwd required', () => {
    expect(parseProcess('{"cwd": "/", "args": ["ls"]}').args).toEqual(['ls']);
    expect(() => parseProcess('{"args": ["ls"]}')).toThrow(
      'process.json:1:1: cwd: required but missing',
    );
  });
});

describe('parseResources', () => {
  it('accepts a linux.resources object', () => {
    expect(parseResources('{"memory": {"limit": 1048576}, "pids": {"limit": 10}}')).toEqual({
      memory: { limit: 1048576 },
      pids: { limit: 10 },
    });
  });

  it('names the file, position and field of a bad value', () => {
    expect(() => parseResources('{\n  "memory": {"limit": "1g"}\n}', { source: 'r.json' })).toThrow(
      /r\.json:2:\d+: memory\.limit: expected integer/,
    );
  });
});

describe('keys in another case, as runc (Go) reads them', () => {
  it('takes a property spelled in another case for the property', () => {
    const config = base();
    config.linux.resources.CPU = { Cpus: '0', MEMS: '0' };
    config.Hostname = 'folded';
    delete config.hostname;
    const parsed = parseConfig(JSON.stringify(config)) as Record<string, any>;
    expect(parsed.linux.resources.cpu).toEqual({ cpus: '0', mems: '0' });
    expect(parsed.linux.resources.CPU).toBeUndefined();
    expect(parsed.hostname).toBe('folded');
  });

  it('checks a folded property like any other', () => {
    const config = base();
    config.linux.resources.Memory = { Limit: '1g' };
    expect(() => parseConfig(JSON.stringify(config))).toThrow(/memory\.limit: expected integer/);
  });

  it('leaves the keys of maps alone and lets the later of two spellings win', () => {
    const config = base();
    config.annotations = { Foo: 'a', foo: 'b' };
    config.linux.sysctl = { 'Net.Ipv4.Ip_forward': '1' };
    const text = JSON.stringify(config).replace(
      '"ociVersion"',
      '"process": {"cwd": "/", "args": ["early"]}, "ociVersion"',
    );
    const parsed = parseConfig(text) as Record<string, any>;
    expect(parsed.annotations).toEqual({ Foo: 'a', foo: 'b' });
    expect(parsed.linux.sysctl).toEqual({ 'Net.Ipv4.Ip_forward': '1' });
    expect(parsed.process.args).toEqual(['sh']);
    const later = JSON.stringify(config).replace(
      /}$/,
      ', "PROCESS": {"cwd": "/", "args": ["late"]}}',
    );
    expect((parseConfig(later) as Record<string, any>).process.args).toEqual(['late']);
  });

  it('folds the keys of an update -r document', () => {
    expect(parseResources('{"CPU": {"Cpus": "1"}, "Pids": {"LIMIT": 5}}')).toEqual({
      cpu: { cpus: '1' },
      pids: { limit: 5 },
    });
  });
});
