// linux.netDevices: a veth end of the host moved into the container's
// network namespace under another name, with its address, and back at delete.
import { spawnSync } from 'node:child_process';
import { chmodSync, readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../support/sandbox.js';

const sandbox = new Sandbox();
// Names of at most 15 bytes, unique per test run.
const suffix = (process.pid % 100000).toString(36);
const hostEnd = `rtsv${suffix}a`;
const peerEnd = `rtsv${suffix}b`;

const ip = (...args: string[]) => spawnSync('ip', args, { encoding: 'utf8' });
const hostHas = (name: string) => ip('link', 'show', 'dev', name).status === 0;
/** Live processes named runc-ts-netdev (zombies aside). */
const helpers = () =>
  readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return stat.includes('(runc-ts-netdev)') && !/\) Z /.test(stat);
      } catch {
        return false;
      }
    });

let vethError: string | undefined;
beforeAll(() => {
  const made = ip('link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', peerEnd);
  if (made.status !== 0) {
    vethError = `ip link add ... type veth: ${made.stderr.trim() || made.error}`;
    return;
  }
  ip('addr', 'add', '10.213.7.1/24', 'dev', hostEnd);
});
afterAll(() => {
  sandbox.cleanup();
  // Deleting one end deletes the pair, wherever the other end is.
  for (const name of [hostEnd, peerEnd]) if (hostHas(name)) ip('link', 'del', name);
});

describe('linux.netDevices', () => {
  it('moves and renames the device with its address; delete brings it back', (context) => {
    if (vethError) context.skip(vethError);
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['sleep', '1000'];
      spec.linux!.netDevices = { [hostEnd]: { name: 'ctr0' } };
    });
    const id = sandbox.id('net');
    const started = sandbox.runc(['run', '-d', '-b', bundle, id]);
    expect(started.stderr).toBe('');
    expect(started.status).toBe(0);
    expect(hostHas(hostEnd)).toBe(false);
    // the executor's network device helper (runtime credentials) is gone: it
    // exits when the executor closes its channel at READY
    for (let i = 0; i < 20 && helpers().length > 0; i++) spawnSync('sleep', ['0.05']);
    expect(helpers()).toEqual([]);

    const shown = sandbox.runc(['exec', id, 'ip', '-o', 'addr', 'show', 'dev', 'ctr0']);
    expect(shown.status).toBe(0);
    expect(shown.stdout).toContain('inet 10.213.7.1/24');
    const flags = sandbox.runc(['exec', id, 'cat', '/sys/class/net/ctr0/flags']);
    expect(Number(flags.stdout.trim()) & 1).toBe(1); // IFF_UP

    expect(sandbox.runc(['delete', '--force', id]).status).toBe(0);
    expect(hostHas(hostEnd)).toBe(true);
    expect(ip('-o', 'addr', 'show', 'dev', hostEnd).stdout).toContain('inet 10.213.7.1/24');
  });

  it('works with a user namespace too (the move keeps the runtime credentials)', (context) => {
    if (vethError) context.skip(vethError);
    chmodSync(sandbox.dir, 0o755); // the namespace's root reaches the rootfs
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['sleep', '1000'];
      spec.linux!.netDevices = { [hostEnd]: {} };
      spec.linux!.namespaces!.push({ type: 'user' });
      spec.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      spec.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    });
    const id = sandbox.id('netu');
    const started = sandbox.runc(['run', '-d', '-b', bundle, id]);
    expect(started.stderr).toBe('');
    const shown = sandbox.runc(['exec', id, 'ip', '-o', 'addr', 'show', 'dev', hostEnd]);
    expect(shown.stdout).toContain('inet 10.213.7.1/24');
    expect(hostHas(hostEnd)).toBe(false);
    expect(sandbox.runc(['delete', '--force', id]).status).toBe(0);
    expect(hostHas(hostEnd)).toBe(true);
  });

  it('a create that fails after the move gives the device back', (context) => {
    if (vethError) context.skip(vethError);
    const bundle = sandbox.bundle((spec) => {
      spec.process!.args = ['/no/such/program'];
      spec.linux!.netDevices = { [hostEnd]: { name: 'ctr0' } };
      // fails after FORK, in the container: the init exists
      spec.hooks = { createContainer: [{ path: '/bin/false' }] };
    });
    const id = sandbox.id('netfail');
    const result = sandbox.runc(['run', '-d', '-b', bundle, id]);
    expect(result.status).toBe(1);
    expect(hostHas(hostEnd)).toBe(true);
  });

  it('fails create naming a missing device, leaving nothing behind', () => {
    const bundle = sandbox.bundle((spec) => {
      spec.linux!.netDevices = { rtsnosuchdev0: {} };
    });
    const id = sandbox.id('nodev');
    const result = sandbox.runc(['run', '-d', '-b', bundle, id]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      'netdev move rtsnosuchdev0: link not found: no such device (ENODEV)',
    );
    expect(sandbox.runc(['list', '-q']).stdout).not.toContain(id);
  });

  it('refuses bad names and a container without a network namespace', (context) => {
    if (vethError) context.skip(vethError);
    const cases: [(spec: import('@runc-ts/spec').Spec) => void, string][] = [
      [
        (spec) => {
          spec.linux!.netDevices = { [hostEnd]: { name: 'a/b' } };
        },
        `linux.netDevices.${hostEnd}.name: invalid network device name \\"a/b\\"`,
      ],
      [
        (spec) => {
          spec.linux!.netDevices = { [hostEnd]: { name: 'way-too-long-name0' } };
        },
        'is longer than 15 bytes',
      ],
      [
        (spec) => {
          spec.linux!.netDevices = { [hostEnd]: {} };
          spec.linux!.namespaces = spec.linux!.namespaces!.filter((n) => n.type !== 'network');
        },
        'linux.netDevices: network devices can only be moved into a network namespace',
      ],
    ];
    for (const [edit, message] of cases) {
      const id = sandbox.id('badnet');
      const result = sandbox.runc(['run', '-d', '-b', sandbox.bundle(edit), id]);
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(message);
      expect(hostHas(hostEnd)).toBe(true);
    }
  });
});
