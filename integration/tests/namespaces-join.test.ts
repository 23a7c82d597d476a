// Namespaces the container does not create: no mount namespace at all, one
// joined by path, a UTS namespace joined by path with a hostname, and
// namespaces owned by another user namespace than the joined one.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Spec } from '@runc-ts/spec';
import { afterAll, describe, expect, it } from 'vitest';
import { runCaptured, runcTs } from '../support/runc.js';
import { leftovers, Sandbox } from '../support/sandbox.js';

const sandbox = new Sandbox();
const holders: ChildProcess[] = [];
afterAll(() => {
  for (const holder of holders) holder.kill('SIGKILL');
  sandbox.cleanup();
});

const hasUnshare = spawnSync('unshare', ['--version']).status === 0;
const hasNsenter = spawnSync('nsenter', ['--version']).status === 0;
const NO_UTIL_LINUX = 'needs unshare(1) and nsenter(1) from util-linux';

/**
 * Runs `script` (sh) in a new private mount namespace: the runtime's mount
 * namespace of these tests, so that what a container without its own leaves
 * there goes with it, never into the host's. $RUNC, $ROOT, $BUNDLE, $ID set.
 */
function inPrivateMountNs(script: string, bundle: string, id: string) {
  return runCaptured('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], {
    dir: sandbox.dir,
    input: '',
    env: { ...process.env, RUNC: runcTs, ROOT: sandbox.root, BUNDLE: bundle, ID: id },
    timeout: 60_000,
  });
}

/** `key value` lines of a script's output. */
const facts = (stdout: string) =>
  new Map(
    stdout
      .split('\n')
      .filter((line) => line.includes(' '))
      .map((line) => [line.slice(0, line.indexOf(' ')), line.slice(line.indexOf(' ') + 1)]),
  );

/**
 * A process that holds the namespaces `command` (nsenter/unshare, which exec
 * the next program once they are in them) makes, until the tests end.
 */
async function holder(command: string[]): Promise<number> {
  const child = spawn(command[0]!, [...command.slice(1), 'sleep', '1000'], { stdio: 'ignore' });
  holders.push(child);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${command.join(' ')} did not start`);
  for (let i = 0; i < 200; i++) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep') return pid;
    } catch {
      // not there yet
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`${command.join(' ')} did not exec sleep`);
}

const withoutMountNs = (spec: Spec) => {
  spec.linux!.namespaces = spec.linux!.namespaces!.filter((ns) => ns.type !== 'mount');
  delete spec.linux!.maskedPaths;
  delete spec.linux!.readonlyPaths;
};

describe('no mount namespace of its own (runc, crun: mounts in the runtime namespace, chroot)', () => {
  it("runs in the runtime's mount namespace, rooted in its rootfs, leaving that namespace's propagation alone", (context) => {
    if (!hasUnshare) context.skip(NO_UTIL_LINUX);
    const bundle = sandbox.bundle((spec) => {
      withoutMountNs(spec);
      spec.root.readonly = true;
      spec.process!.args = [
        'sh',
        '-c',
        'echo "container $(readlink /proc/self/ns/mnt)"; echo "marker $(cat /marker)"; ' +
          'if touch /new 2>/dev/null; then echo "root rw"; else echo "root ro"; fi',
      ];
    });
    writeFileSync(join(bundle, 'rootfs/marker'), 'in the rootfs');
    const result = inPrivateMountNs(
      [
        'mount --make-rshared /',
        'echo "runtime $(readlink /proc/self/ns/mnt)"',
        '"$RUNC" --root "$ROOT" run --bundle "$BUNDLE" "$ID"; echo "status $?"',
        // What runc and crun leave too: the mounts stay in the runtime's namespace.
        'echo "left $(grep -c " $BUNDLE/rootfs/proc " /proc/self/mountinfo)"',
        'echo "propagation $(findmnt -no PROPAGATION /)"',
      ].join('\n'),
      bundle,
      sandbox.id('nomntns'),
    );
    const got = facts(result.stdout);
    expect(result.stderr).toBe('');
    expect(got.get('status')).toBe('0');
    expect(got.get('container')).toMatch(/^mnt:\[\d+\]$/);
    expect(got.get('container')).toBe(got.get('runtime'));
    expect(got.get('marker')).toBe('in the rootfs');
    expect(got.get('root')).toBe('ro');
    expect(got.get('left')).toBe('1');
    // runc 1.1.5 leaves the runtime's "/" private here.
    expect(got.get('propagation')).toBe('shared');
    // Nothing reached the host's namespace.
    expect(leftovers(bundle).mounts).toEqual([]);
  });

  it("exec joins the init's namespaces but keeps the runtime's root, as runc and crun", (context) => {
    if (!hasUnshare) context.skip(NO_UTIL_LINUX);
    const bundle = sandbox.bundle((spec) => {
      withoutMountNs(spec);
      spec.process!.args = ['sleep', '1000'];
    });
    writeFileSync(join(bundle, 'rootfs/marker'), 'in the rootfs');
    const result = inPrivateMountNs(
      [
        '"$RUNC" --root "$ROOT" run -d --bundle "$BUNDLE" "$ID" </dev/null >/dev/null',
        'pid=$("$RUNC" --root "$ROOT" state "$ID" | sed -n \'s/^ *"pid": \\([0-9]*\\),$/\\1/p\')',
        'echo "init $(cat /proc/$pid/root/marker)"',
        'echo "exec $("$RUNC" --root "$ROOT" exec "$ID" sh -c \'test -e /marker && echo rootfs || echo runtime\')"',
        '"$RUNC" --root "$ROOT" delete --force "$ID"; echo "deleted $?"',
      ].join('\n'),
      bundle,
      sandbox.id('nomntns-exec'),
    );
    expect(result.stderr).toBe('');
    expect(facts(result.stdout)).toEqual(
      new Map([
        ['init', 'in the rootfs'],
        ['exec', 'runtime'],
        ['deleted', '0'],
      ]),
    );
  });

  it.for(['maskedPaths', 'readonlyPaths'] as const)(
    'refuses linux.%s as runc does, leaving nothing behind',
    (field, context) => {
      if (!hasUnshare) context.skip(NO_UTIL_LINUX);
      const bundle = sandbox.bundle((spec) => {
        withoutMountNs(spec);
        spec.linux![field] = ['/proc/sys'];
      });
      const id = sandbox.id('nomntns-mask');
      const result = inPrivateMountNs(
        [
          '"$RUNC" --root "$ROOT" run --bundle "$BUNDLE" "$ID"; echo "status $?"',
          'echo "left $(grep -c " $BUNDLE/rootfs" /proc/self/mountinfo)"',
        ].join('\n'),
        bundle,
        id,
      );
      expect(result.stderr).toContain(
        `linux.${field}: unable to restrict sys entries without a private MNT namespace`,
      );
      expect(facts(result.stdout)).toEqual(
        new Map([
          ['status', '1'],
          ['left', '0'],
        ]),
      );
      expect(sandbox.runc(['list', '-q']).stdout).not.toContain(id);
    },
  );
});

describe('a mount namespace joined by path', () => {
  it('runs the container in it and makes its mounts there, masked paths included', (context) => {
    if (!hasUnshare) context.skip(NO_UTIL_LINUX);
    // A link to the held namespace, made by the script below (a path known before it runs).
    const nsFile = join(sandbox.dir, 'mntns');
    const bundle = sandbox.bundle((spec) => {
      spec.linux!.namespaces = spec.linux!.namespaces!.map((ns) =>
        ns.type === 'mount' ? { type: 'mount', path: nsFile } : ns,
      );
      spec.process!.args = [
        'sh',
        '-c',
        'echo "container $(readlink /proc/self/ns/mnt)"; echo "timer_list $(wc -c < /proc/timer_list)"',
      ];
    });
    const result = inPrivateMountNs(
      [
        // The namespace to join: a copy of this one, held by a process. (Not
        // bound onto a file with `unshare --mount=FILE`: that bind failed with
        // EINVAL now and then when other tests ran beside this one.)
        'unshare --mount --propagation unchanged sleep 1000 & holder=$!',
        'while [ "$(readlink /proc/$holder/ns/mnt)" = "$(readlink /proc/self/ns/mnt)" ]; do sleep 0.01; done',
        `ln -s /proc/$holder/ns/mnt "${nsFile}"`,
        'echo "joined $(readlink /proc/$holder/ns/mnt)"',
        'echo "runtime $(readlink /proc/self/ns/mnt)"',
        '"$RUNC" --root "$ROOT" run --bundle "$BUNDLE" "$ID"; echo "status $?"',
        'kill $holder',
        'echo "left $(grep -c " $BUNDLE/rootfs" /proc/self/mountinfo)"',
      ].join('\n'),
      bundle,
      sandbox.id('joinmnt'),
    );
    const got = facts(result.stdout);
    expect(result.stderr).toBe('');
    expect(got.get('status')).toBe('0');
    expect(got.get('joined')).toMatch(/^mnt:\[\d+\]$/);
    expect(got.get('joined')).not.toBe(got.get('runtime'));
    expect(got.get('container')).toBe(got.get('joined'));
    // linux.maskedPaths applied (runc needs a mount namespace of the container's for them).
    expect(got.get('timer_list')).toBe('0');
    // The mounts were made in the joined namespace, none in the runtime's.
    expect(got.get('left')).toBe('0');
    expect(leftovers(bundle).mounts).toEqual([]);
  });
});

describe('hostname with a UTS namespace joined by path', () => {
  it('is set in the joined namespace, as runc and crun set it', async (context) => {
    if (!hasUnshare || !hasNsenter) context.skip(NO_UTIL_LINUX);
    const pid = await holder(['unshare', '--uts']);
    const path = `/proc/${pid}/ns/uts`;
    const result = sandbox.exec(['sh', '-c', 'hostname; readlink /proc/self/ns/uts'], (spec) => {
      spec.linux!.namespaces = spec.linux!.namespaces!.map((ns) =>
        ns.type === 'uts' ? { type: 'uts', path } : ns,
      );
      spec.hostname = 'joined-uts';
      spec.domainname = 'joined.example';
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`joined-uts\n${readlinkSync(path)}\n`);
    const inHolder = spawnSync(
      'nsenter',
      [
        '--uts',
        '-t',
        String(pid),
        'cat',
        '/proc/sys/kernel/hostname',
        '/proc/sys/kernel/domainname',
      ],
      { encoding: 'utf8' },
    );
    expect(inHolder.stdout).toBe('joined-uts\njoined.example\n');
    expect(hostname()).not.toBe('joined-uts');
  });
});

describe('namespaces owned by another user namespace than the joined one', () => {
  it('joins a user namespace and network namespaces owned by the host and by that user namespace', async (context) => {
    if (!hasUnshare || !hasNsenter) context.skip(NO_UTIL_LINUX);
    // The namespace's root (host uid 100000) must reach the bundle.
    chmodSync(sandbox.dir, 0o755);
    const userPid = await holder(['unshare', '--user']);
    writeFileSync(`/proc/${userPid}/uid_map`, '0 100000 65536');
    writeFileSync(`/proc/${userPid}/gid_map`, '0 100000 65536');
    const hostOwned = await holder(['unshare', '--net']);
    // A network namespace made inside the user namespace (by its root).
    const usernsOwned = await holder([
      'nsenter',
      `--user=/proc/${userPid}/ns/user`,
      'unshare',
      '--net',
    ]);
    // A network namespace belongs to the user namespace its creator was in.
    const userns = readlinkSync(`/proc/${userPid}/ns/user`);
    expect(readlinkSync(`/proc/${hostOwned}/ns/user`)).toBe(readlinkSync('/proc/self/ns/user'));
    expect(readlinkSync(`/proc/${usernsOwned}/ns/user`)).toBe(userns);
    const maps = [{ containerID: 0, hostID: 100000, size: 65536 }];
    for (const netPid of [hostOwned, usernsOwned]) {
      const result = sandbox.exec(
        ['sh', '-c', 'readlink /proc/self/ns/user; readlink /proc/self/ns/net; id -u'],
        (spec) => {
          spec.linux!.namespaces = [
            { type: 'pid' },
            { type: 'ipc' },
            { type: 'uts' },
            { type: 'mount' },
            // Config order as a runtime user would write it: user first.
            { type: 'user', path: `/proc/${userPid}/ns/user` },
            { type: 'network', path: `/proc/${netPid}/ns/net` },
          ];
          spec.linux!.uidMappings = maps;
          spec.linux!.gidMappings = maps;
          // sysfs belongs to the network namespace's owner: bind the host's
          // (as runc's rootless template does).
          spec.mounts = spec.mounts!.map((m) =>
            m.destination === '/sys'
              ? {
                  destination: '/sys',
                  type: 'none',
                  source: '/sys',
                  options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'],
                }
              : m,
          );
        },
      );
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      expect(result.stdout).toBe(`${userns}\n${readlinkSync(`/proc/${netPid}/ns/net`)}\n0\n`);
    }
  });
});
