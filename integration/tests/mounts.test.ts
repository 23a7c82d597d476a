// Mount behaviours of runc >= 1.2 (issue 13, "Mounts"), compared with runc
// 1.1.5 on this machine where it already behaves so.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Spec } from '@runc-ts/spec';
import { afterAll, describe, expect, it } from 'vitest';
import { type RunResult, referenceRunc, runCaptured, runcTs } from '../support/runc.js';
import { leftovers, Sandbox } from '../support/sandbox.js';

const sandbox = new Sandbox();
afterAll(() => sandbox.cleanup());

const hasReference = existsSync(referenceRunc);

/** `runc run` of a copy of `bundle` with the reference runc (its own --root). */
function runReference(bundle: string): RunResult {
  const copy = `${bundle}-ref`;
  // cp -a: owners, modes and times as the test made them
  const copied = spawnSync('cp', ['-a', bundle, copy], { encoding: 'utf8' });
  if (copied.status !== 0) throw new Error(`cp -a ${bundle}: ${copied.stderr}`);
  const result = runCaptured(
    referenceRunc,
    ['--root', join(sandbox.dir, 'ref'), 'run', '-b', copy, sandbox.id('ref')],
    { dir: sandbox.dir, input: '', timeout: 20_000 },
  );
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A bundle running `sh -c script`, its rootfs prepared by `prepare`. */
function shellBundle(
  script: string,
  mounts: NonNullable<Spec['mounts']>,
  prepare: (rootfs: string) => void = () => {},
): string {
  const bundle = sandbox.bundle((spec) => {
    spec.process!.args = ['sh', '-c', script];
    // root reads what the copies' owners and modes allow anyone else
    const caps = spec.process!.capabilities!;
    for (const set of ['bounding', 'effective', 'permitted'] as const) {
      caps[set] = [...(caps[set] ?? []), 'CAP_DAC_OVERRIDE'];
    }
    spec.mounts!.push(...mounts);
  });
  prepare(join(bundle, 'rootfs'));
  return bundle;
}

function runOurs(bundle: string): RunResult {
  return sandbox.runc(['run', '-b', bundle, sandbox.id('run')]);
}

describe('tmpfs mode (item 17)', () => {
  const mounts: NonNullable<Spec['mounts']> = [
    { destination: '/existing', type: 'tmpfs', source: 'tmpfs' },
    { destination: '/created', type: 'tmpfs', source: 'tmpfs' },
    { destination: '/given', type: 'tmpfs', source: 'tmpfs', options: ['mode=0410'] },
  ];
  const prepare = (rootfs: string) => {
    mkdirSync(join(rootfs, 'existing'), { mode: 0o710 });
    chmodSync(join(rootfs, 'existing'), 0o710);
    mkdirSync(join(rootfs, 'given'), { mode: 0o755 });
  };
  const script = 'stat -c "%n %a" /existing /created /given';

  it('no mode: the covered directory mode, 1777 for a created one; mode= wins over an existing directory', () => {
    const bundle = shellBundle(script, mounts, prepare);
    const expected = {
      status: 0,
      stdout: '/existing 710\n/created 1777\n/given 410\n',
      stderr: '',
    };
    expect(runOurs(bundle)).toEqual(expected);
    // again on the same rootfs: /created and /given exist now (runc#3911)
    expect(runOurs(bundle)).toEqual({
      ...expected,
      stdout: '/existing 710\n/created 755\n/given 410\n',
    });
    if (hasReference) {
      // runc 1.1.5 agrees on an existing directory without mode= (it chmods
      // afterwards; 1.1.8+ passes mode= and honours a given one)
      const theirs = runReference(shellBundle('stat -c "%n %a" /existing', mounts, prepare));
      expect(theirs).toEqual({ status: 0, stdout: '/existing 710\n', stderr: '' });
    }
    expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
  });
});

describe('tmpcopyup (item 17)', () => {
  /** An image directory: owners, modes, set-id bits, symlinks, nested dirs. */
  const prepareData = (rootfs: string) => {
    const data = join(rootfs, 'data');
    mkdirSync(join(data, 'sub', 'deep'), { recursive: true });
    writeFileSync(join(data, 'f'), 'hello\n');
    chownSync(join(data, 'f'), 1000, 1001);
    chmodSync(join(data, 'f'), 0o640);
    writeFileSync(join(data, 'setuid'), '#!/bin/sh\n');
    chmodSync(join(data, 'setuid'), 0o4755);
    writeFileSync(join(data, 'sub', 'deep', 'y'), 'deep\n');
    chownSync(join(data, 'sub'), 7, 8);
    chmodSync(join(data, 'sub'), 0o750);
    symlinkSync('f', join(data, 'link'));
    symlinkSync('/etc/passwd', join(data, 'abs'));
    symlinkSync('../../../../../../../../etc', join(data, 'up'));
    chownSync(data, 5, 6);
    chmodSync(data, 0o710);
  };
  const listing =
    'cd /data && find . | sort | while read -r p; do stat -c "%n %a %u:%g %F %s" "$p"; ' +
    '[ -L "$p" ] && echo "  -> $(readlink "$p")"; done; cat f sub/deep/y';

  it('copies the covered directory (owners, modes, symlinks as links, nested dirs) as runc does', () => {
    const mounts = [
      { destination: '/data', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup'] },
    ];
    const bundle = shellBundle(
      `${listing}; grep -c " /data .* tmpfs " /proc/self/mountinfo`,
      mounts,
      prepareData,
    );
    const ours = runOurs(bundle);
    expect(ours.stderr).toBe('');
    expect(ours.stdout).toBe(
      [
        '. 710 0:0 directory 160',
        './abs 777 0:0 symbolic link 11',
        '  -> /etc/passwd',
        './f 640 1000:1001 regular file 6',
        './link 777 0:0 symbolic link 1',
        '  -> f',
        './setuid 4755 0:0 regular file 10',
        './sub 750 7:8 directory 60',
        './sub/deep 755 0:0 directory 60',
        './sub/deep/y 644 0:0 regular file 5',
        './up 777 0:0 symbolic link 27',
        '  -> ../../../../../../../../etc',
        'hello',
        'deep',
        '1',
        '',
      ].join('\n'),
    );
    if (hasReference)
      expect(runReference(shellBundle(listing, mounts, prepareData))).toEqual({
        status: 0,
        stdout: ours.stdout.replace(/1\n$/, ''),
        stderr: '',
      });
    expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
  });

  it('keeps times and copies device nodes and fifos (runc 1.1.5 fails on a fifo)', () => {
    const bundle = shellBundle(
      'stat -c "%n %F %t:%T %a" /data/null /data/fifo; stat -c "%n %Y" /data/old',
      [{ destination: '/data', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup'] }],
      (rootfs) => {
        mkdirSync(join(rootfs, 'data'));
        const made = spawnSync('sh', [
          '-c',
          `mknod -m 620 ${rootfs}/data/null c 1 3 && mkfifo -m 600 ${rootfs}/data/fifo`,
        ]);
        expect(made.status).toBe(0);
        writeFileSync(join(rootfs, 'data', 'old'), '');
        utimesSync(join(rootfs, 'data', 'old'), 1_000_000_000, 1_000_000_000);
      },
    );
    expect(runOurs(bundle)).toEqual({
      status: 0,
      stdout:
        '/data/null character special file 1:3 620\n/data/fifo fifo 0:0 600\n/data/old 1000000000\n',
      stderr: '',
    });
    expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
  });

  it('a destination symlink pointing out of the rootfs resolves inside it: no host content is copied', () => {
    const host = join(sandbox.dir, 'host-secret');
    mkdirSync(host);
    writeFileSync(join(host, 'secret'), 'host\n');
    const bundle = shellBundle(
      'ls -A /escape/; echo "[$(ls -A /inside 2>&1)]"',
      [{ destination: '/escape', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup'] }],
      (rootfs) => {
        // absolute: resolved in the root, so it names <rootfs><host>
        symlinkSync(host, join(rootfs, 'escape'));
        mkdirSync(join(rootfs, 'inside'));
      },
    );
    const ours = runOurs(bundle);
    expect(ours).toEqual({ status: 0, stdout: '[]\n', stderr: '' });
    // the tmpfs went to the path inside the rootfs, created there
    expect(existsSync(join(bundle, 'rootfs', host))).toBe(true);
    expect(readdirSync(host)).toEqual(['secret']);
    expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
    expect(leftovers(host)).toEqual({ processes: [], mounts: [] });
  });

  it('ro with tmpcopyup: filled first, read-only after', () => {
    const bundle = shellBundle(
      'cat /data/f; touch /data/new; grep " /data " /proc/self/mountinfo | cut -d" " -f6',
      [{ destination: '/data', type: 'tmpfs', source: 'tmpfs', options: ['ro', 'tmpcopyup'] }],
      (rootfs) => {
        mkdirSync(join(rootfs, 'data'));
        writeFileSync(join(rootfs, 'data', 'f'), 'content\n');
      },
    );
    expect(runOurs(bundle)).toEqual({
      status: 0,
      stdout: 'content\nro,relatime\n',
      stderr: 'touch: /data/new: Read-only file system\n',
    });
  });

  it('a copy that does not fit: the error names the entry and the step, nothing is left', () => {
    const bundle = shellBundle(
      'true',
      [
        {
          destination: '/data',
          type: 'tmpfs',
          source: 'tmpfs',
          options: ['size=8k', 'tmpcopyup'],
        },
      ],
      (rootfs) => {
        mkdirSync(join(rootfs, 'data'));
        writeFileSync(join(rootfs, 'data', 'big'), Buffer.alloc(64 * 1024, 1));
      },
    );
    const ours = runOurs(bundle);
    expect(ours.status).not.toBe(0);
    expect(ours.stderr).toContain('/data (tmpcopyup of /data/big: write)');
    expect(ours.stderr).toContain('no space left on device');
    expect(sandbox.runc(['list', '-q']).stdout).toBe('');
    expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
  });
});

describe('read-only /dev (item 15)', () => {
  const readonlyDev = (spec: Spec) => {
    for (const mount of spec.mounts ?? []) {
      if (mount.destination === '/dev') mount.options = [...(mount.options ?? []), 'ro'];
    }
  };
  const script =
    'grep -E " /dev(/pts)? " /proc/self/mountinfo | cut -d" " -f5,6; ' +
    'ls /dev/null /dev/zero /dev/ptmx /dev/pts/ptmx; echo x > /dev/null && echo null-writable; ' +
    'touch /dev/new';

  it('devpts and the default devices are set up below it first, as runc does', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['sh', '-c', script];
      readonlyDev(spec);
    });
    const ours = runOurs(bundle);
    expect(ours).toEqual({
      status: 1,
      stdout: [
        '/dev ro,nosuid',
        '/dev/pts rw,nosuid,noexec,relatime',
        '/dev/null',
        '/dev/ptmx',
        '/dev/pts/ptmx',
        '/dev/zero',
        'null-writable',
        '',
      ].join('\n'),
      stderr: 'touch: /dev/new: Read-only file system\n',
    });
    if (hasReference) expect(runReference(bundle)).toEqual(ours);
    expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
  });

  it('with a terminal: /dev/console is mounted before /dev becomes read-only', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.terminal = true;
      spec.process!.args = [
        'sh',
        '-c',
        'grep -E " /dev(/console)? " /proc/self/mountinfo | cut -d" " -f5,6',
      ];
      readonlyDev(spec);
    });
    const run = spawnSync(
      'script',
      [
        '-qec',
        `${runcTs} --root ${sandbox.root} run -b ${bundle} ${sandbox.id('tty')}`,
        '/dev/null',
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 },
    );
    expect(run.status).toBe(0);
    expect(run.stdout.replace(/\r/g, '').replace(/^\^@/, '')).toBe(
      '/dev ro,nosuid\n/dev/console rw,nosuid,noexec,relatime\n',
    );
    expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
  });
});

describe('rootfsPropagation (item 18)', () => {
  /**
   * A bundle under a shared host mount (its own peer group), so that slave
   * and shared propagation are visible in the container's mountinfo.
   */
  function sharedParent(): { dir: string; peerGroup: string; release: () => void } {
    const dir = join(sandbox.dir, `shared-${sandbox.id('p')}`);
    mkdirSync(dir);
    const sh = (script: string) => {
      const result = spawnSync('sh', ['-ec', script], { encoding: 'utf8' });
      if (result.status !== 0) throw new Error(`${script}: ${result.stderr}`);
      return result.stdout;
    };
    sh(`mount --bind ${dir} ${dir}; mount --make-private ${dir}; mount --make-shared ${dir}`);
    const line = sh(`grep " ${dir} " /proc/self/mountinfo`);
    const peerGroup = /shared:(\d+)/.exec(line)?.[1] ?? '';
    return { dir, peerGroup, release: () => sh(`umount -l ${dir}`) };
  }

  const rootLine =
    'awk \'$5 == "/" { s = ""; for (i = 7; $i != "-"; i++) s = s $i " "; print "[" s "]" }\' /proc/self/mountinfo';

  it.each([
    [undefined, /^\[master:(\d+) \]$/],
    ['rslave', /^\[master:(\d+) \]$/],
    // runc >= 1.5 keeps the rootfs' parent a slave (1.1.5: private)
    ['slave', /^\[master:(\d+) \]$/],
    ['private', /^\[\]$/],
    ['rprivate', /^\[\]$/],
    // runc >= 1.2 applies it to / after pivot_root (1.1.5 leaves it private)
    ['shared', /^\[shared:(\d+) \]$/],
    ['rshared', /^\[shared:(\d+) \]$/],
    ['unbindable', /^\[unbindable \]$/],
  ] as const)('%s: the root mount has the propagation runc leaves', (propagation, expected) => {
    const parent = sharedParent();
    try {
      const made = sandbox.bundle((spec) => {
        spec.process!.args = ['sh', '-c', rootLine];
        if (propagation) spec.linux!.rootfsPropagation = propagation;
      });
      const bundle = join(parent.dir, 'bundle');
      const copied = spawnSync('cp', ['-a', made, bundle], { encoding: 'utf8' });
      expect(copied.status).toBe(0);
      const ours = runOurs(bundle);
      expect(ours).toMatchObject({ status: 0, stderr: '' });
      const match = expected.exec(ours.stdout.trim());
      expect(match, ours.stdout).not.toBeNull();
      if (propagation === undefined || propagation.endsWith('slave')) {
        // a slave of the host's group: host mounts below the rootfs reach it
        expect(match?.[1]).toBe(parent.peerGroup);
      } else if (propagation.endsWith('shared')) {
        // a group of its own: nothing the container mounts reaches the host
        expect(match?.[1]).not.toBe(parent.peerGroup);
      }
      expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
    } finally {
      parent.release();
    }
  });

  it('rslave: a host mount made below the rootfs after create shows in the container; private: not', () => {
    for (const [propagation, seen] of [
      ['rslave', true],
      ['rprivate', false],
    ] as const) {
      const parent = sharedParent();
      const id = sandbox.id('prop');
      try {
        const made = sandbox.bundle((spec) => {
          spec.process!.args = ['sleep', '60'];
          spec.linux!.rootfsPropagation = propagation;
        });
        const bundle = join(parent.dir, 'bundle');
        expect(spawnSync('cp', ['-a', made, bundle]).status).toBe(0);
        mkdirSync(join(bundle, 'rootfs', 'late'));
        expect(sandbox.runc(['create', '-b', bundle, id])).toMatchObject({ status: 0 });
        const late = join(bundle, 'rootfs', 'late');
        expect(spawnSync('mount', ['-t', 'tmpfs', 'late-tmpfs', late]).status).toBe(0);
        try {
          const inside = sandbox.runc([
            'exec',
            id,
            'grep',
            '-c',
            ' /late ',
            '/proc/self/mountinfo',
          ]);
          expect(inside.stdout.trim(), propagation).toBe(seen ? '1' : '0');
        } finally {
          spawnSync('umount', ['-l', late]);
        }
      } finally {
        sandbox.runc(['delete', '-f', id]);
        parent.release();
      }
    }
  });
});

describe('mount targets through dangling symlinks (item 13)', () => {
  it('resolve inside the rootfs and create what is missing there, as runc does; the host is untouched', () => {
    const hostFile = join(sandbox.dir, 'host-file');
    writeFileSync(hostFile, 'from the host\n');
    const hostTarget = join(sandbox.dir, 'host-target');
    const mounts: NonNullable<Spec['mounts']> = [
      // the last element: a dangling absolute symlink to a file (runc#5090)
      { destination: '/etc/localtime', type: 'bind', source: hostFile, options: ['bind', 'ro'] },
      // a component: a chain of relative symlinks whose ".." would climb out
      { destination: '/c1/z', type: 'tmpfs', source: 'tmpfs' },
      // a component pointing at a host path that exists on the host
      { destination: '/h/dir', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup'] },
      { destination: '/q/f.txt', type: 'bind', source: hostFile, options: ['bind'] },
    ];
    const prepare = (rootfs: string) => {
      symlinkSync('/usr/share/zoneinfo/Asia/Shanghai', join(rootfs, 'etc', 'localtime'));
      symlinkSync('c2', join(rootfs, 'c1'));
      symlinkSync('../../../../../x/y', join(rootfs, 'c2'));
      symlinkSync(hostTarget, join(rootfs, 'h'));
      symlinkSync('/w/deep', join(rootfs, 'q'));
    };
    const script =
      'cat /etc/localtime /q/f.txt; ' +
      'awk \'$5 != "/" && $5 !~ "^/(proc|dev|sys)" { print $5 }\' /proc/self/mountinfo; ' +
      `ls -ld /usr/share/zoneinfo/Asia/Shanghai /x/y/z ${hostTarget}/dir /w/deep/f.txt | ` +
      'cut -c1-10';
    const expected = {
      status: 0,
      stdout: [
        'from the host',
        'from the host',
        '/usr/share/zoneinfo/Asia/Shanghai',
        '/x/y/z',
        `${hostTarget}/dir`,
        '/w/deep/f.txt',
        // ls sorts: the host-target path, /usr, /w, /x
        'drwxrwxrwt',
        '-rw-r--r--',
        '-rw-r--r--',
        'drwxrwxrwt',
        '',
      ].join('\n'),
      stderr: '',
    };
    if (hasReference) {
      // runc 1.1.5 agrees but for the modes of what it creates (0755 files,
      // and its tmpfs takes the created directory's 0755)
      const theirs = runReference(shellBundle(script, mounts, prepare));
      expect(theirs.stdout.split('\n').slice(0, 6)).toEqual(
        expected.stdout.split('\n').slice(0, 6),
      );
    }
    const bundle = shellBundle(script, mounts, prepare);
    expect(runOurs(bundle)).toEqual(expected);
    expect(existsSync(hostTarget)).toBe(false);
    expect(existsSync(join(bundle, 'rootfs', hostTarget, 'dir'))).toBe(true);
    expect(existsSync(join(bundle, 'rootfs', 'x', 'y', 'z'))).toBe(true);
    expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
  });
});

describe('--no-pivot (item 20)', () => {
  it('a process that unshares a user and mount namespace cannot mount a fresh procfs, as with runc', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = [
        'unshare',
        '-mrpf',
        'sh',
        '-euc',
        'mount -t proc none /proc && echo mounted a fresh procfs',
      ];
      const caps = spec.process!.capabilities!;
      caps.bounding = [...(caps.bounding ?? []), 'CAP_SETFCAP'];
      caps.permitted = [...(caps.permitted ?? []), 'CAP_SETFCAP'];
    });
    const expected = {
      status: 1,
      stdout: '',
      stderr: 'mount: permission denied (are you root?)\n',
    };
    expect(sandbox.runc(['run', '--no-pivot', '-b', bundle, sandbox.id('np')])).toEqual(expected);
    if (hasReference) {
      const copy = `${bundle}-ref`;
      expect(spawnSync('cp', ['-a', bundle, copy]).status).toBe(0);
      const theirs = runCaptured(
        referenceRunc,
        ['--root', join(sandbox.dir, 'ref'), 'run', '--no-pivot', '-b', copy, sandbox.id('ref')],
        { dir: sandbox.dir, input: '', timeout: 20_000 },
      );
      expect({ status: theirs.status, stdout: theirs.stdout, stderr: theirs.stderr }).toEqual(
        expected,
      );
    }
    // the host's /proc is untouched: covered only in the container's namespace
    expect(readdirSync('/proc')).toContain('self');
    expect(
      spawnSync('sh', ['-c', 'grep -c " /proc .* - proc " /proc/self/mountinfo'], {
        encoding: 'utf8',
      }).stdout.trim(),
    ).toBe('1');
    expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
  });

  it('the container still gets its own /proc and /sys', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = [
        'sh',
        '-c',
        'cat /proc/self/comm; ls /sys/kernel >/dev/null && echo sys',
      ];
    });
    expect(sandbox.runc(['run', '--no-pivot', '-b', bundle, sandbox.id('np')])).toEqual({
      status: 0,
      stdout: 'cat\nsys\n',
      stderr: '',
    });
  });
});

describe('propagation flags of bind mounts, id-mapped or not (item 19)', () => {
  const source = () => {
    const dir = join(sandbox.dir, `prop-src-${sandbox.id('s')}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'a'), 'a\n');
    return dir;
  };
  const script =
    'grep " /m " /proc/self/mountinfo | cut -d" " -f6,7; ls -ln /m | tail -1 | cut -c1-40';

  it.each([
    [['rbind', 'rshared'], 'rw,relatime shared:'],
    [['bind', 'shared'], 'rw,relatime shared:'],
    [['rbind', 'rslave'], 'rw,relatime -'],
    [['rbind', 'runbindable'], 'rw,relatime unbindable'],
  ])('%j: the propagation survives the root switch, as with runc', (options, expected) => {
    const mounts = [{ destination: '/m', type: 'bind', source: source(), options }];
    const bundle = shellBundle(script, mounts);
    const ours = runOurs(bundle);
    expect(ours.status).toBe(0);
    expect(ours.stdout.split('\n')[0]).toMatch(new RegExp(`^${expected}`));
    if (hasReference) {
      const theirs = runReference(shellBundle(script, mounts));
      // the peer group numbers of the two runs may differ
      const strip = (out: string) => out.replace(/shared:\d+/, 'shared:N');
      expect(strip(theirs.stdout)).toBe(strip(ours.stdout));
    }
    expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
  });

  it('idmap with rshared: the mount is id-mapped and shared', (context) => {
    const mapping = [{ containerID: 0, hostID: 1000, size: 10 }];
    const bundle = shellBundle(script, [
      {
        destination: '/m',
        type: 'bind',
        source: source(),
        options: ['rbind', 'idmap', 'rshared'],
        uidMappings: mapping,
        gidMappings: mapping,
      },
    ]);
    const ours = runOurs(bundle);
    if (/support id-mapped mounts/.test(ours.stderr)) {
      context.skip(`no id-mapped mounts here: ${ours.stderr.trim()}`);
    }
    expect(ours.stderr).toBe('');
    const [line, file] = ours.stdout.split('\n');
    expect(line).toMatch(/^rw,relatime,idmapped shared:\d+$/);
    // host root's file seen through the mapping 0 -> 1000
    expect(file).toMatch(/^-rw-r--r-- +1 1000 +1000 /);
    expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
  });
});

describe('mount order (item 14)', () => {
  const mapping = [{ containerID: 0, hostID: 0, size: 65536 }];
  const userns = (spec: Spec) => {
    spec.linux!.namespaces!.push({ type: 'user' });
    spec.linux!.uidMappings = mapping;
    spec.linux!.gidMappings = mapping;
  };
  const idmapped = [{ containerID: 0, hostID: 1000, size: 10 }];

  it.each([
    ['without a user namespace', false, false],
    ['with a user namespace', true, false],
    ['with an id-mapped source', false, true],
  ])(
    '%s: a bind whose source is under an earlier mount sees that mount',
    (_name, withUserns, withIdmap) => {
      const earlier = join(sandbox.dir, `earlier-${sandbox.id('o')}`);
      mkdirSync(earlier);
      writeFileSync(join(earlier, 'x'), 'from the earlier mount\n');
      const bundle = sandbox.bundle((spec) => {
        spec.process!.args = ['sh', '-c', 'cat /b/x; stat -c "%u:%g" /b/x'];
        if (withUserns) userns(spec);
      });
      const rootfs = join(bundle, 'rootfs');
      mkdirSync(join(rootfs, 'a'));
      writeFileSync(join(rootfs, 'a', 'x'), 'the rootfs underneath\n');
      const later: NonNullable<Spec['mounts']>[number] = {
        destination: '/b',
        type: 'bind',
        source: join(rootfs, 'a'),
        options: ['rbind', ...(withIdmap ? ['idmap'] : [])],
        ...(withIdmap ? { uidMappings: idmapped, gidMappings: idmapped } : {}),
      };
      const config = join(bundle, 'config.json');
      const spec = JSON.parse(readFileSync(config, 'utf8')) as Spec;
      spec.mounts!.push(
        { destination: '/a', type: 'bind', source: earlier, options: ['rbind'] },
        later,
      );
      writeFileSync(config, JSON.stringify(spec));
      expect(runOurs(bundle)).toEqual({
        status: 0,
        stdout: `from the earlier mount\n${withIdmap ? '1000:1000' : '0:0'}\n`,
        stderr: '',
      });
      expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
    },
  );
});

describe('bind mount flags of a locked source (item 16)', () => {
  /** A host tmpfs mounted ro,nosuid,nodev,noexec,noatime: the source. */
  function lockedSource(): { dir: string; release: () => void } {
    const dir = join(sandbox.dir, `locked-${sandbox.id('l')}`);
    mkdirSync(dir);
    const mounted = spawnSync(
      'mount',
      ['-t', 'tmpfs', '-o', 'ro,nosuid,nodev,noexec,noatime,size=1m', 'h7-locked', dir],
      { encoding: 'utf8' },
    );
    if (mounted.status !== 0) throw new Error(`mount tmpfs: ${mounted.stderr}`);
    return { dir, release: () => void spawnSync('umount', ['-l', dir]) };
  }
  const identity = [{ containerID: 0, hostID: 0, size: 65536 }];
  const script = 'grep " /m " /proc/self/mountinfo | cut -d" " -f6';

  it.each([
    // [options, user namespace, expected mount flags or error]
    [['rbind'], false, 'ro,nosuid,nodev,noexec,noatime'],
    [['rbind'], true, 'ro,nosuid,nodev,noexec,noatime'],
    // options given: exactly those (relatime without an atime option)
    [['rbind', 'nosuid'], false, 'rw,nosuid,relatime'],
    [['rbind', 'noatime', 'nosuid'], false, 'rw,nosuid,noatime'],
    // clearing-only options are applied (runc >= 1.2; 1.1.5 ignored them)
    [['rbind', 'rw'], false, 'rw,relatime'],
    // in a user namespace the source's flags are locked: kept unless cleared
    [['rbind', 'nosuid'], true, 'ro,nosuid,nodev,noexec,noatime'],
    [['rbind', 'noatime', 'nosuid'], true, 'ro,nosuid,nodev,noexec,noatime'],
    [['rbind', 'rw'], true, /the source's ro cannot be cleared \(locked/],
    [['rbind', 'relatime'], true, /access-time mode noatime cannot be changed to relatime/],
  ] as const)('%j, user namespace %s: %s', (options, withUserns, expected) => {
    const source = lockedSource();
    try {
      const bundle = sandbox.bundle((spec) => {
        spec.process!.args = ['sh', '-c', script];
        spec.mounts!.push({
          destination: '/m',
          type: 'bind',
          source: source.dir,
          options: [...options],
        });
        if (withUserns) {
          spec.linux!.namespaces!.push({ type: 'user' });
          spec.linux!.uidMappings = identity;
          spec.linux!.gidMappings = identity;
        }
      });
      const ours = runOurs(bundle);
      if (typeof expected === 'string') {
        expect(ours).toEqual({ status: 0, stdout: `${expected}\n`, stderr: '' });
      } else {
        expect(ours.status).toBe(1);
        expect(ours.stderr).toMatch(expected);
        expect(sandbox.runc(['list', '-q']).stdout).toBe('');
      }
      expect(leftovers(bundle)).toEqual({ processes: [], mounts: [] });
    } finally {
      source.release();
    }
  });
});
