import { chmodSync, readFileSync, readlinkSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Sandbox } from '../support/sandbox.js';

const sandbox = new Sandbox();
afterAll(() => sandbox.cleanup());

describe('namespaces', () => {
  it('joins the namespaces of another container by path', () => {
    const first = sandbox.bundle((spec) => {
      spec.process!.args = ['sleep', '1000'];
    });
    const a = sandbox.id('ns-a');
    expect(sandbox.runc(['run', '-d', '-b', first, a]).status).toBe(0);
    const { pid } = sandbox.state(a);
    const result = sandbox.exec(
      ['sh', '-c', 'for ns in net ipc uts; do readlink /proc/self/ns/$ns; done; hostname'],
      (spec) => {
        spec.hostname = undefined;
        spec.linux!.namespaces = spec.linux!.namespaces!.map((ns) =>
          ns.type === 'network' || ns.type === 'ipc' || ns.type === 'uts'
            ? { type: ns.type, path: `/proc/${pid}/ns/${ns.type === 'network' ? 'net' : ns.type}` }
            : ns,
        );
      },
    );
    expect(result.stderr).toBe('');
    const expected = ['net', 'ipc', 'uts'].map((ns) => readlinkSync(`/proc/${pid}/ns/${ns}`));
    expect(result.stdout).toBe(`${expected.join('\n')}\nrunc\n`);
    expect(sandbox.runc(['delete', '-f', a]).status).toBe(0);
  });

  it('creates a user namespace with the configured mappings', () => {
    // The namespace's root (host uid 100000) must reach the bundle, as with runc.
    chmodSync(sandbox.dir, 0o755);
    const result = sandbox.exec(
      [
        'sh',
        '-c',
        'cat /proc/self/uid_map /proc/self/gid_map; id -u; ls -ln /bin/busybox | tr -s " " | cut -d" " -f3',
      ],
      (spec) => {
        spec.linux!.namespaces!.push({ type: 'user' });
        spec.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
        spec.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      },
    );
    expect(result.stderr).toBe('');
    expect(result.stdout.split('\n').map((line) => line.trim().replace(/\s+/g, ' '))).toEqual([
      '0 100000 65536',
      '0 100000 65536',
      '0',
      // Files owned by host root are unmapped inside: the overflow uid.
      '65534',
      '',
    ]);
  });
});

describe('a user namespace joined by path', () => {
  it('makes the container root there, with or without the mappings repeated (runc needs them)', () => {
    chmodSync(sandbox.dir, 0o755);
    const maps = [{ containerID: 0, hostID: 100000, size: 65536 }];
    const owner = sandbox.bundle((spec) => {
      spec.process!.args = ['sleep', '1000'];
      spec.linux!.namespaces!.push({ type: 'user' });
      spec.linux!.uidMappings = maps;
      spec.linux!.gidMappings = maps;
    });
    const id = sandbox.id('userns');
    expect(sandbox.runc(['run', '-d', '--bundle', owner, id]).status).toBe(0);
    try {
      const path = `/proc/${sandbox.state(id).pid}/ns/user`;
      for (const repeat of [false, true]) {
        const result = sandbox.exec(
          ['sh', '-c', 'cat /proc/self/uid_map; id -u; id -g'],
          (spec) => {
            spec.linux!.namespaces!.push({ type: 'user', path });
            if (repeat) {
              spec.linux!.uidMappings = maps;
              spec.linux!.gidMappings = maps;
            }
          },
        );
        expect(result.stderr).toBe('');
        expect(result.stdout.replace(/[ \t]+/g, ' ').trim()).toBe('0 100000 65536\n0\n0');
      }
    } finally {
      sandbox.runc(['delete', '--force', id]);
    }
  });
});

describe('time namespace offsets', () => {
  it('linux.timeOffsets moves the boottime and monotonic clocks of the container', () => {
    const hostUptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    const result = sandbox.exec(['cat', '/proc/uptime'], (spec) => {
      spec.linux!.namespaces!.push({ type: 'time' });
      spec.linux!.timeOffsets = { boottime: { secs: 86_400 }, monotonic: { secs: 3600 } };
    });
    expect(result.status, result.stderr).toBe(0);
    const uptime = Number(result.stdout.split(' ')[0]);
    expect(uptime - hostUptime).toBeGreaterThan(86_400 - 5);
    expect(uptime - hostUptime).toBeLessThan(86_400 + 60);
  });

  it('refuses offsets without a new time namespace, naming the field', () => {
    const result = sandbox.exec(['true'], (spec) => {
      spec.linux!.timeOffsets = { boottime: { secs: 5 } };
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('linux.timeOffsets');
  });
});
