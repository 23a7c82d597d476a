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
  it("joins the init's namespaces at once through a pidfd, then forks and execs", () => {
    const ops = lines(
      planExec(spec(), proc(), {
        initPid: 42,
        initStartTime: '1234',
        detach: false,
        preserveFds: 0,
      }),
    );
    // net | pid | uts | ipc | mnt
    const flags = 0x40000000 | 0x20000000 | 0x04000000 | 0x08000000 | 0x00020000;
    expect(ops.slice(0, 2)).toEqual([`SETNS_PID 42 ${flags} "1234"`, 'FORK 1']);
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

  it('leaves setgroups out where the runtime may not call it (setgroups denied)', () => {
    const base = { initPid: 42, detach: false, preserveFds: 0 };
    expect(lines(planExec(spec(), proc(), base))).toContain('SETGROUPS []');
    const denied = lines(planExec(spec(), proc(), { ...base, setgroupsDenied: true }));
    expect(denied.filter((line) => line.startsWith('SETGROUPS'))).toEqual([]);
    expect(denied).toContain('SETUID 0');
  });

  it('joins a user namespace first and becomes its root', () => {
    const s = spec();
    s.linux!.namespaces!.push({ type: 'user' });
    s.linux!.uidMappings = [{ containerID: 0, hostID: 1000, size: 10 }];
    s.linux!.gidMappings = [{ containerID: 0, hostID: 1000, size: 10 }];
    const ops = lines(planExec(s, proc(), { initPid: 7, detach: true, preserveFds: 2 }));
    const flags = 0x40000000 | 0x20000000 | 0x04000000 | 0x08000000 | 0x00020000 | 0x10000000;
    expect(ops.slice(0, 3)).toEqual([`SETNS_PID 7 ${flags} ""`, 'SETGID 0', 'SETUID 0']);
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
    // /dev/console is the init's pty (as with runc), not an exec'd process'
    expect(sock).not.toContain('MOUNT_CONSOLE');
  });

  it('sends a pidfd of the forked process, with runc\'s "setns", after the cgroup join', () => {
    const base = { initPid: 1, preserveFds: 0, pidfdSocket: '/p.sock' };
    for (const detach of [true, false]) {
      const ops = lines(planExec(spec(), proc(), { ...base, detach, joinCgroup: true }));
      const fork = ops.indexOf(detach ? 'FORK 0' : 'FORK 1');
      expect(ops.slice(fork, fork + 3)).toEqual([
        ops[fork],
        'SYNC 3',
        'PIDFD_SOCKET "/p.sock" "setns"',
      ]);
    }
    const noCgroup = lines(planExec(spec(), proc(), { ...base, detach: true }));
    expect(noCgroup[noCgroup.indexOf('FORK 0') + 1]).toBe('PIDFD_SOCKET "/p.sock" "setns"');
    const without = lines(planExec(spec(), proc(), { initPid: 1, detach: true, preserveFds: 0 }));
    expect(without.some((line) => line.startsWith('PIDFD_SOCKET'))).toBe(false);
  });
});

describe('planExec: seccomp', () => {
  const program = new Uint8Array([6, 0, 0, 0, 0, 0, 0xff, 0x7f]);
  const confined = () => {
    const s = spec();
    s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW' };
    return s;
  };
  const base = { initPid: 42, detach: false, preserveFds: 0 };

  it("gets the container's filter, placed by the exec'd process' no_new_privs", () => {
    const late = lines(
      planExec(confined(), proc({ noNewPrivileges: true }), {
        ...base,
        seccomp: { program, flags: 0 },
      }),
    );
    expect(late.slice(-5)).toEqual([
      expect.stringMatching(/^RESOLVE_EXEC /),
      'SECCOMP hex:060000000000ff7f 0',
      'READY',
      'CLOSE_FDS 3',
      expect.stringMatching(/^EXEC /),
    ]);
    const early = lines(
      planExec(confined(), proc({ noNewPrivileges: false }), {
        ...base,
        seccomp: { program, flags: 0 },
      }),
    );
    const at = early.indexOf('SECCOMP hex:060000000000ff7f 0');
    expect(early.slice(at - 1, at + 2)).toEqual([
      expect.stringMatching(/^CHDIR /),
      'SECCOMP hex:060000000000ff7f 0',
      'KEEPCAPS 1',
    ]);
  });

  it('NOTIFY: SYNC 5 then SECCOMP_NOTIFY; no filter without linux.seccomp', () => {
    const ops = lines(
      planExec(confined(), proc(), {
        ...base,
        seccomp: { program, flags: 8, listenerPath: '/a.sock' },
      }),
    );
    expect(ops).toContain('SYNC 5');
    expect(ops).toContain('SECCOMP_NOTIFY hex:060000000000ff7f 8 "/a.sock"');
    expect(() => planExec(confined(), proc(), base)).toThrow(
      /^linux\.seccomp: the compiled filter is missing/,
    );
    expect(lines(planExec(spec(), proc(), base)).some((l) => l.startsWith('SECCOMP'))).toBe(false);
  });
});

describe('planExec: personality, HOME, environment, terminal owner, capabilities', () => {
  const base = { initPid: 42, detach: false, preserveFds: 0 };

  it("applies the container's linux.personality, as runc >= 1.2", () => {
    const s = spec();
    s.linux!.personality = { domain: 'LINUX32' };
    const ops = lines(planExec(s, proc(), base));
    expect(ops).toContain('PERSONALITY 8');
    expect(ops.indexOf('PERSONALITY 8')).toBeLessThan(ops.indexOf('SETUID 0'));
    expect(lines(planExec(spec(), proc(), base)).some((l) => l.startsWith('PERSONALITY'))).toBe(
      false,
    );
  });

  it("applies the container's personality flags to exec too", () => {
    const s = spec();
    s.linux!.personality = { flags: ['ADDR_NO_RANDOMIZE'] };
    expect(lines(planExec(s, proc(), base))).toContain(`PERSONALITY ${0x0040000}`);
  });

  it('reads HOME for the exec user unless the env has a non-empty one', () => {
    const user = { uid: 1000, gid: 1000 };
    expect(lines(planExec(spec(), proc({ user }), base))).toContain('DEFAULT_HOME 1000');
    expect(lines(planExec(spec(), proc({ user, env: ['HOME='] }), base))).toContain(
      'DEFAULT_HOME 1000',
    );
    const kept = lines(planExec(spec(), proc({ user, env: ['HOME=/w'] }), base));
    expect(kept.some((l) => l.startsWith('DEFAULT_HOME'))).toBe(false);
  });

  it('dedupes the environment: the last value of a key wins', () => {
    const ops = lines(planExec(spec(), proc({ env: ['A=1', 'B=2', 'A=3'] }), base));
    expect(ops.at(-1)).toBe('EXEC ["ls","-l"] ["A=3","B=2"]');
  });

  it('gives the pty to the exec user and skips unknown capabilities with a warning', () => {
    const warnings: string[] = [];
    const ops = lines(
      planExec(
        spec(),
        proc({
          terminal: true,
          user: { uid: 7, gid: 7 },
          capabilities: { bounding: ['CAP_KILL', 'CAP_NEW_ONE'] },
        }),
        { ...base, warn: (message) => warnings.push(message) },
      ),
    );
    expect(ops[ops.indexOf('CONSOLE ""') + 1]).toBe('TTY_OWNER 7');
    expect(ops).toContain('CAPS 32 0 0 0 0');
    expect(warnings).toEqual(['ignoring unknown or unavailable capabilities: [CAP_NEW_ONE]']);
  });
});
