import { exampleSpec, type Process } from '@runc-ts/spec';
import { describe, expect, it } from 'vitest';
import { dumpPlan, planExec } from './index.js';

const spec = () => {
  const s = exampleSpec();
  s.process!.terminal = false;
  return s;
};
const proc = (extra: Partial<Process> = {}): Process => ({
  ...spec().process!,
  args: ['ls', '-l'],
  ...extra,
});
const lines = (ops: ReturnType<typeof planExec>) => dumpPlan(ops).trimEnd().split('\n');

describe('planExec', () => {
  it("joins the init's namespaces, mount last, then forks and execs", () => {
    const ops = lines(planExec(spec(), proc(), { initPid: 42, detach: false, preserveFds: 0 }));
    expect(ops.slice(0, 6)).toEqual([
      'SETNS 1073741824 "/proc/42/ns/net"',
      'SETNS 536870912 "/proc/42/ns/pid"',
      'SETNS 67108864 "/proc/42/ns/uts"',
      'SETNS 134217728 "/proc/42/ns/ipc"',
      'SETNS 131072 "/proc/42/ns/mnt"',
      'FORK 1',
    ]);
    expect(ops.slice(-4)).toEqual([
      'RESOLVE_EXEC "ls" "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"',
      'READY',
      'CLOSE_FDS 3',
      'EXEC ["ls","-l"] ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","TERM=xterm"]',
    ]);
    expect(ops.some((line) => line.startsWith('WAIT_FIFO') || line.startsWith('MOUNT'))).toBe(
      false,
    );
  });

  it('joins a user namespace first and becomes its root', () => {
    const s = spec();
    s.linux!.namespaces!.push({ type: 'user' });
    s.linux!.uidMappings = [{ containerID: 0, hostID: 1000, size: 10 }];
    s.linux!.gidMappings = [{ containerID: 0, hostID: 1000, size: 10 }];
    const ops = lines(planExec(s, proc(), { initPid: 7, detach: true, preserveFds: 2 }));
    expect(ops.slice(0, 3)).toEqual(['SETNS 268435456 "/proc/7/ns/user"', 'SETGID 0', 'SETUID 0']);
    expect(ops).toContain('FORK 0');
    expect(ops).toContain('CLOSE_FDS 5');
  });

  it('relays a terminal in the foreground, sends it to a console socket otherwise', () => {
    const tty = proc({ terminal: true });
    expect(lines(planExec(spec(), tty, { initPid: 1, detach: false, preserveFds: 0 }))).toContain(
      'FORK 2',
    );
    const sock = lines(
      planExec(spec(), tty, { initPid: 1, detach: true, preserveFds: 0, consoleSocket: '/s' }),
    );
    expect(sock).toContain('FORK 0');
    expect(sock).toContain('CONSOLE "/s"');
  });
});
