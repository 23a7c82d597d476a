import type { CgroupManager } from '@runc-ts/cgroups';
import { exampleSpec, type Spec, toRootless } from '@runc-ts/spec';
import { describe, expect, it } from 'vitest';
import { applyCgroup, resourceControllers, setContainerResources } from './cgroup.js';
import type { ContainerError } from './errors.js';
import {
  checkRootlessConfig,
  checkRootlessRlimits,
  checkUserNamespacesEnabled,
  explainToolFailure,
  isOwnIdOnly,
  ownCgroupDirs,
  parseHardLimits,
  planIdMapping,
  rootlessCgroupDirs,
  rootlessCgroupsAuto,
  runningInUserNamespace,
  setgroupsDenied,
  shouldHonorXdgRuntimeDir,
  subordinateRanges,
} from './rootless.js';
import { defaultStateRoot, isXdgStateRoot } from './state-root.js';

const me = { uid: 1000, gid: 1000, user: 'alice' };

type IdMap = NonNullable<NonNullable<Spec['linux']>['uidMappings']>[number];

function rootlessSpec(edit: (spec: Spec) => void = () => {}): Spec {
  const spec = toRootless(exampleSpec(), { uid: me.uid, gid: me.gid });
  edit(spec);
  return spec;
}

function thrown(fn: () => unknown): ContainerError {
  try {
    fn();
  } catch (error) {
    return error as ContainerError;
  }
  throw new Error('expected an error');
}

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units     
Max cpu time              unlimited            unlimited            seconds   
Max file size             unlimited            unlimited            bytes     
Max data size             unlimited            unlimited            bytes     
Max stack size            8388608              unlimited            bytes     
Max core file size        0                    unlimited            bytes     
Max resident set          unlimited            unlimited            bytes     
Max processes             96364                96364                processes 
Max open files            1024                 524288               files     
Max locked memory         8388608              8388608              bytes     
Max address space         unlimited            unlimited            bytes     
Max file locks            unlimited            unlimited            locks     
Max pending signals       96364                96364                signals   
Max msgqueue size         819200               819200               bytes     
Max nice priority         0                    0                    
Max realtime priority     0                    0                    
Max realtime timeout      unlimited            unlimited            us        
`;

describe('user namespace detection', () => {
  it('tells the initial user namespace from another one by /proc/self/uid_map', () => {
    expect(runningInUserNamespace(() => '         0          0 4294967295\n')).toBe(false);
    expect(runningInUserNamespace(() => '         0       1000          1\n')).toBe(true);
    expect(runningInUserNamespace(() => '0 0 4294967295\n1 1 1\n')).toBe(true);
    expect(
      runningInUserNamespace(() => {
        throw new Error('ENOENT');
      }),
    ).toBe(false);
  });
});

describe('setgroupsDenied', () => {
  it("reads the runtime's /proc/self/setgroups", () => {
    expect(setgroupsDenied(() => 'deny\n')).toBe(true);
    expect(setgroupsDenied(() => 'allow\n')).toBe(false);
    expect(
      setgroupsDenied(() => {
        throw new Error('ENOENT');
      }),
    ).toBe(false);
  });
});

describe('default --root (runc: $XDG_RUNTIME_DIR/runc)', () => {
  const inUserns = () => true;
  const initial = () => false;
  it('uses $XDG_RUNTIME_DIR/runc-ts for users, /run/runc-ts for real root', () => {
    expect(defaultStateRoot(1000, { XDG_RUNTIME_DIR: '/run/user/1000' }, initial)).toBe(
      '/run/user/1000/runc-ts',
    );
    expect(defaultStateRoot(1000, {}, initial)).toBe('/run/runc-ts');
    expect(defaultStateRoot(0, { XDG_RUNTIME_DIR: '/run/user/0' }, initial)).toBe('/run/runc-ts');
  });

  it('honours $XDG_RUNTIME_DIR for root in a user namespace unless $USER is root', () => {
    expect(shouldHonorXdgRuntimeDir({ XDG_RUNTIME_DIR: '/x' }, 0, inUserns)).toBe(true);
    expect(shouldHonorXdgRuntimeDir({ XDG_RUNTIME_DIR: '/x', USER: 'alice' }, 0, inUserns)).toBe(
      true,
    );
    expect(shouldHonorXdgRuntimeDir({ XDG_RUNTIME_DIR: '/x', USER: 'root' }, 0, inUserns)).toBe(
      false,
    );
    expect(shouldHonorXdgRuntimeDir({ XDG_RUNTIME_DIR: '' }, 1000, inUserns)).toBe(false);
  });

  it('recognises the XDG default', () => {
    expect(isXdgStateRoot('/run/user/1/runc-ts', { XDG_RUNTIME_DIR: '/run/user/1' })).toBe(true);
    expect(isXdgStateRoot('/tmp/state', { XDG_RUNTIME_DIR: '/run/user/1' })).toBe(false);
    expect(isXdgStateRoot('/run/runc-ts', {})).toBe(false);
  });
});

describe('--rootless auto (runc rootless_linux.go)', () => {
  const base = { inUserNamespace: () => false, systemd: false, systemdOwnerUid: () => undefined };
  it('is rootless without root, not for root in the initial namespace', () => {
    expect(rootlessCgroupsAuto({ ...base, euid: 1000 })).toBe(true);
    expect(rootlessCgroupsAuto({ ...base, euid: 0 })).toBe(false);
  });

  it('is rootless for root in a user namespace; with systemd, only when its owner is not root', () => {
    const userns = { ...base, euid: 0, inUserNamespace: () => true };
    expect(rootlessCgroupsAuto(userns)).toBe(true);
    expect(rootlessCgroupsAuto({ ...userns, systemd: true, systemdOwnerUid: () => 1000 })).toBe(
      true,
    );
    expect(rootlessCgroupsAuto({ ...userns, systemd: true, systemdOwnerUid: () => 0 })).toBe(false);
    // busctl failed: assumed root, as runc does
    expect(rootlessCgroupsAuto({ ...userns, systemd: true })).toBe(false);
  });
});

describe('checkUserNamespacesEnabled', () => {
  const sysctls = (values: Record<string, string>) => (path: string) => {
    const value = values[path];
    if (value === undefined) throw new Error('ENOENT');
    return `${value}\n`;
  };

  it('names max_user_namespaces when it is 0', () => {
    const error = thrown(() =>
      checkUserNamespacesEnabled(false, sysctls({ '/proc/sys/user/max_user_namespaces': '0' })),
    );
    expect(error.code).toBe('USERNS_DISABLED');
    expect(error.message).toContain('/proc/sys/user/max_user_namespaces is 0');
    expect(error.message).toContain('sysctl -w user.max_user_namespaces=');
  });

  it('checks the unprivileged-only knobs only without root', () => {
    const read = sysctls({
      '/proc/sys/user/max_user_namespaces': '63000',
      '/proc/sys/kernel/unprivileged_userns_clone': '0',
    });
    expect(() => checkUserNamespacesEnabled(false, read)).not.toThrow();
    expect(thrown(() => checkUserNamespacesEnabled(true, read)).message).toContain(
      'kernel.unprivileged_userns_clone=1',
    );
    const apparmor = sysctls({ '/proc/sys/kernel/apparmor_restrict_unprivileged_userns': '1' });
    expect(thrown(() => checkUserNamespacesEnabled(true, apparmor)).code).toBe('USERNS_DISABLED');
  });

  it('passes when the knobs are absent or on', () => {
    expect(() => checkUserNamespacesEnabled(true, sysctls({}))).not.toThrow();
  });
});

describe('checkRootlessConfig', () => {
  it('accepts what `runc spec --rootless` writes', () => {
    expect(() => checkRootlessConfig(rootlessSpec())).not.toThrow();
  });

  it('requires a user namespace and both mappings', () => {
    const noUserns = rootlessSpec((spec) => {
      spec.linux!.namespaces = spec.linux!.namespaces!.filter((ns) => ns.type !== 'user');
    });
    const error = thrown(() => checkRootlessConfig(noUserns));
    expect(error.code).toBe('ROOTLESS_CONFIG');
    expect(error.message).toMatch(/^linux\.namespaces: a rootless container requires a user/);
    const noGid = rootlessSpec((spec) => {
      spec.linux!.gidMappings = [];
    });
    expect(thrown(() => checkRootlessConfig(noGid)).message).toMatch(/^linux\.gidMappings/);
    // A joined user namespace brings its own mappings.
    const joined = rootlessSpec((spec) => {
      spec.linux!.namespaces = spec.linux!.namespaces!.map((ns) =>
        ns.type === 'user' ? { type: 'user', path: '/proc/1/ns/user' } : ns,
      );
      spec.linux!.uidMappings = [];
      spec.linux!.gidMappings = [];
    });
    expect(() => checkRootlessConfig(joined)).not.toThrow();
  });

  it('refuses uid=/gid= mount options for unmapped ids', () => {
    const spec = rootlessSpec((s) => {
      s.mounts!.push({ destination: '/data', type: 'tmpfs', source: 'tmpfs', options: ['gid=5'] });
    });
    const error = thrown(() => checkRootlessConfig(spec));
    expect(error.code).toBe('ROOTLESS_CONFIG');
    expect(error.message).toMatch(/^mounts\[\d+\]\.options\[0\]: gid=5 names a gid/);
    spec.linux!.gidMappings!.push({ containerID: 1, hostID: 100000, size: 10 });
    expect(() => checkRootlessConfig(spec)).not.toThrow();
  });
});

describe('rlimits without root', () => {
  it('reads the hard limits of /proc/self/limits', () => {
    const limits = parseHardLimits(LIMITS);
    expect(limits.get('RLIMIT_NOFILE')).toBe(524288);
    expect(limits.get('RLIMIT_CPU')).toBe(Number.POSITIVE_INFINITY);
    expect(limits.get('RLIMIT_RTTIME')).toBe(Number.POSITIVE_INFINITY);
    expect(limits.get('RLIMIT_NICE')).toBe(0);
    expect(limits.size).toBe(16);
  });

  it('refuses a hard limit above our own, naming the field', () => {
    const process = rootlessSpec().process!;
    process.rlimits = [
      { type: 'RLIMIT_CORE', hard: 2 ** 64 - 1, soft: 0 },
      { type: 'RLIMIT_NOFILE', hard: 1048576, soft: 1024 },
    ];
    const error = thrown(() => checkRootlessRlimits(process, 'process', () => LIMITS));
    expect(error.code).toBe('ROOTLESS_CONFIG');
    expect(error.message).toContain(
      'process.rlimits[1]: RLIMIT_NOFILE hard limit 1048576 is above this user',
    );
    process.rlimits = [{ type: 'RLIMIT_NOFILE', hard: 524288, soft: 1024 }];
    expect(() => checkRootlessRlimits(process, 'process', () => LIMITS)).not.toThrow();
    process.rlimits = [{ type: 'RLIMIT_NICE', hard: 2 ** 64 - 1, soft: 0 }];
    expect(thrown(() => checkRootlessRlimits(process, 'process', () => LIMITS)).message).toContain(
      'hard limit unlimited is above',
    );
  });
});

describe('id mappings without root', () => {
  const own: IdMap[] = [{ containerID: 0, hostID: 1000, size: 1 }];
  const ranges: IdMap[] = [...own, { containerID: 1, hostID: 100000, size: 65536 }];
  const tools = (name: string) => `/usr/bin/${name}`;

  it('writes the own id directly, with setgroups denied', () => {
    expect(isOwnIdOnly(own, 1000)).toBe(true);
    expect(isOwnIdOnly(own, 1001)).toBe(false);
    expect(planIdMapping(rootlessSpec(), me, tools)).toEqual({ denySetgroups: true });
  });

  it('uses newuidmap/newgidmap for anything more', () => {
    const spec = rootlessSpec((s) => {
      s.linux!.uidMappings = ranges;
    });
    expect(planIdMapping(spec, me, tools)).toEqual({
      uidTool: '/usr/bin/newuidmap',
      denySetgroups: true,
    });
    spec.linux!.gidMappings = ranges;
    expect(planIdMapping(spec, me, tools)).toEqual({
      uidTool: '/usr/bin/newuidmap',
      gidTool: '/usr/bin/newgidmap',
      denySetgroups: false,
    });
  });

  it('says what to install when the tool is missing', () => {
    const spec = rootlessSpec((s) => {
      s.linux!.gidMappings = ranges;
    });
    const error = thrown(() => planIdMapping(spec, me, () => undefined));
    expect(error.code).toBe('ID_MAPPING_TOOL_MISSING');
    expect(error.message).toContain('linux.gidMappings: mapping 0-0 -> 1000-1000, 1-65536 ->');
    expect(error.message).toContain('newgidmap is not on PATH: install it');
    expect(error.message).toContain('apt-get install uidmap');
  });

  it('reads /etc/subuid entries by name or uid', () => {
    const text = '# comment\nbob:200000:65536\nalice:100000:65536\n1000:300000:10\nbad line\n';
    expect(subordinateRanges(text, me)).toEqual([
      { start: 100000, count: 65536 },
      { start: 300000, count: 10 },
    ]);
    expect(subordinateRanges(text, { uid: 5, gid: 5, user: undefined })).toEqual([]);
  });

  it('explains a refused mapping from /etc/subuid', () => {
    const missing = explainToolFailure(
      'uid',
      ranges,
      me,
      'newuidmap: uid range not allowed',
      () => 'bob:200000:65536\n',
    );
    expect(missing.code).toBe('SUBID_MISSING');
    expect(missing.message).toContain('/etc/subuid has no entry for user alice');
    expect(missing.message).toContain('usermod --add-subuids 100000-165535 alice');
    expect(missing.message).toContain('(newuidmap: newuidmap: uid range not allowed)');

    const outside = explainToolFailure('gid', ranges, me, '', () => 'alice:500000:65536\n');
    expect(outside.code).toBe('SUBID_MISSING');
    expect(outside.message).toContain(
      'linux.gidMappings: 1-65536 -> 100000-165535 is outside what /etc/subgid grants user alice (host gids 500000-565535, and 1000 itself)',
    );

    const other = explainToolFailure('uid', ranges, me, 'boom', () => 'alice:100000:65536\n');
    expect(other.code).toBe('ID_MAPPING');
    expect(other.message).toContain('newuidmap failed to write');
  });
});

describe('cgroups of a rootless container (cgroup mount binds)', () => {
  it('finds our own directories below each mount', () => {
    const dirs = ownCgroupDirs(
      {
        v1Mounts: { cpu: '/sys/fs/cgroup/cpu', memory: '/sys/fs/cgroup/memory' },
        v2Mount: '/sys/fs/cgroup/unified',
        mountRoots: { memory: '/outer' },
      },
      { cpu: '/', memory: '/outer/user/1000', '': '/user.slice' },
    );
    expect(dirs).toEqual({
      cpu: '/sys/fs/cgroup/cpu',
      memory: '/sys/fs/cgroup/memory/user/1000',
      '': '/sys/fs/cgroup/unified/user.slice',
    });
  });

  it("keeps the container's directory where it can be entered, else our own", () => {
    const container = {
      cpu: '/sys/fs/cgroup/cpu/c1',
      memory: '/sys/fs/cgroup/memory/delegated/c1',
      '': '/sys/fs/cgroup/unified/c1',
      pids: '/sys/fs/cgroup/pids/c1',
    };
    const own = {
      cpu: '/sys/fs/cgroup/cpu',
      memory: '/sys/fs/cgroup/memory/delegated',
      '': '/sys/fs/cgroup/unified/me',
    };
    const seen: [string, string | undefined][] = [];
    const dirs = rootlessCgroupDirs(container, own, (dir, from) => {
      seen.push([dir, from]);
      return dir.includes('/delegated/');
    });
    expect(dirs).toEqual({
      cpu: '/sys/fs/cgroup/cpu',
      memory: '/sys/fs/cgroup/memory/delegated/c1',
      '': '/sys/fs/cgroup/unified/me',
    });
    // cgroup2 also needs the common ancestor: the current cgroup is passed.
    expect(seen).toContainEqual(['/sys/fs/cgroup/unified/c1', '/sys/fs/cgroup/unified/me']);
  });
});

describe('cgroups of a rootless container (limits, errors)', () => {
  it('names the controller each limit needs, as runc does', () => {
    expect(
      resourceControllers({
        cpu: { cpus: '0', shares: 2, mems: '' },
        pids: { limit: 10 },
        memory: {},
        blockIO: { weight: 10 },
        devices: [{ allow: false, access: 'rwm' }],
      }).map((n) => `${n.field}:${n.controller}`),
    ).toEqual([
      'linux.resources.cpu.cpus:cpuset',
      'linux.resources.cpu.shares:cpu',
      'linux.resources.pids:pids',
      'linux.resources.blockIO:blkio',
    ]);
  });

  const fakeManager = (paths: Record<string, string>, error?: unknown): CgroupManager =>
    ({
      apply: async () => {
        if (error) throw error;
      },
      set: async () => {},
      exists: () => false,
      state: () => ({ driver: 'fs', paths, rootless: true }),
    }) as unknown as CgroupManager;

  it("refuses a limit whose cgroup was skipped, with runc's words", async () => {
    const error = await setContainerResources(
      fakeManager({ memory: '/sys/fs/cgroup/memory/c1' }),
      { pids: { limit: 5 }, memory: { limit: 1 << 20 } },
      true,
    ).catch((e: ContainerError) => e);
    expect((error as ContainerError).code).toBe('ROOTLESS_CONFIG');
    expect((error as ContainerError).message).toMatch(
      /^cannot set pids limit: container could not join or create cgroup \(linux\.resources\.pids: /,
    );
    // Device rules are best effort: their failure is returned, not thrown.
    const manager = fakeManager({});
    manager.set = async (resources) => {
      if (resources.devices) throw new Error('no devices cgroup');
    };
    await expect(setContainerResources(manager, { devices: [] }, true)).resolves.toBe(
      'no devices cgroup',
    );
  });

  it('words a failed cgroup creation as runc does', async () => {
    const failure = Object.assign(new Error('create cgroup /x: Permission denied'), {
      code: 'CGROUP_CREATE',
      path: '/sys/fs/cgroup/pids/x',
      errno: 'EACCES',
    });
    const error = await applyCgroup(fakeManager({}, failure), 1).catch((e: ContainerError) => e);
    expect((error as ContainerError).message).toBe(
      'unable to apply cgroup configuration: create cgroup /sys/fs/cgroup/pids/x: permission denied (EACCES)',
    );
    const other = Object.assign(new Error('no bus'), { code: 'SYSTEMD_UNAVAILABLE' });
    await expect(applyCgroup(fakeManager({}, other), 1)).rejects.toBe(other);
  });
});
