import type { LinuxSeccomp } from '@runc-ts/spec';
import { describe, expect, it } from 'vitest';
import { containersDefaultProfile } from '../test/test-profile.js';
import { runFilter } from './bpf.js';
import { ENOSYS, EPERM, SECCOMP_FILTER_FLAG, SECCOMP_RET } from './constants.js';
import {
  type CompiledSeccomp,
  compileSeccomp,
  exportPfc,
  SeccompError,
  validateSeccomp,
} from './index.js';
import { locateLibseccomp } from './locate.js';

const haveLibseccomp = locateLibseccomp() !== undefined && process.arch === 'x64';
if (!haveLibseccomp) {
  console.warn(
    'seccomp compile tests skipped: they need libseccomp.so.2 (libseccomp2) on x86_64, and this host lacks one of them',
  );
}
const withLib = it.skipIf(!haveLibseccomp);

const X86_64 = 0xc000_003e;
const I386 = 0x4000_0003;
const AARCH64 = 0xc000_00b7;
const X32_BIT = 0x4000_0000;
/** x86_64 syscall numbers. */
const NR = {
  read: 0,
  write: 1,
  socket: 41,
  getpid: 39,
  mkdir: 83,
  chmod: 90,
  unshare: 272,
  dup3: 292,
  setns: 308,
  kcmp: 312,
  clone3: 435,
  close_range: 436,
  faccessat2: 439,
};
const ERRNO = (e: number) => SECCOMP_RET.ERRNO | e;
const TRACE = (e: number) => (SECCOMP_RET.TRACE | e) >>> 0;

function run(c: CompiledSeccomp, nr: number, args: (number | bigint)[] = [], arch = X86_64) {
  return runFilter(c.program, { nr, arch, args }) >>> 0;
}

function errorOf(fn: () => unknown): SeccompError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SeccompError);
    return error as SeccompError;
  }
  throw new Error('expected a SeccompError');
}

describe('validateSeccomp: refusals that name the field', () => {
  const base: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW' };
  it.each([
    [
      { defaultAction: 'SCMP_ACT_NOTIFY' },
      'linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be used as default action',
    ],
    [
      {
        listenerPath: '/a',
        syscalls: [{ names: ['mkdir', 'write'], action: 'SCMP_ACT_NOTIFY' }],
      },
      'linux.seccomp.syscalls[0].names[1]: SCMP_ACT_NOTIFY cannot be used for the write syscall',
    ],
    [
      { listenerPath: '/a', syscalls: [{ names: ['sendmsg'], action: 'SCMP_ACT_NOTIFY' }] },
      'linux.seccomp.syscalls[0].names[0]: SCMP_ACT_NOTIFY cannot be used for the sendmsg syscall',
    ],
    [
      { syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] },
      'linux.seccomp.listenerPath: SCMP_ACT_NOTIFY rules need a listenerPath',
    ],
    [
      { listenerPath: '', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] },
      'linux.seccomp.listenerPath: SCMP_ACT_NOTIFY rules need a listenerPath',
    ],
    [{ listenerMetadata: 'x' }, 'linux.seccomp.listenerMetadata: set without listenerPath'],
    [
      { syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_KILL', errnoRet: 5 }] },
      'linux.seccomp.syscalls[0].errnoRet: SCMP_ACT_KILL does not return an errno',
    ],
    [
      { defaultAction: 'SCMP_ACT_ALLOW', defaultErrnoRet: 1 },
      'linux.seccomp.defaultErrnoRet: SCMP_ACT_ALLOW does not return an errno',
    ],
    [
      { syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 70000 }] },
      'linux.seccomp.syscalls[0].errnoRet: 70000 is not in 0..65535',
    ],
    [
      {
        syscalls: [
          { names: ['read'], action: 'SCMP_ACT_ERRNO' },
          {
            names: ['mkdir'],
            action: 'SCMP_ACT_ERRNO',
            args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }],
          },
        ],
      },
      'linux.seccomp.syscalls[1].args[0].index: 6 is not a syscall argument index (0..5)',
    ],
    [
      { syscalls: [{ names: ['read', ''], action: 'SCMP_ACT_ERRNO' }] },
      'linux.seccomp.syscalls[0].names[1]: empty string is not a valid syscall',
    ],
    [
      { flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] },
      'linux.seccomp.flags[0]: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV only applies to filters with SCMP_ACT_NOTIFY rules',
    ],
  ] as [Partial<LinuxSeccomp>, string][])('%j', (change, message) => {
    const error = errorOf(() => validateSeccomp({ ...base, ...change } as LinuxSeccomp));
    expect(error.code).toBe('SECCOMP_INVALID');
    expect(error.message.startsWith(message)).toBe(true);
    expect(error.message.startsWith(`${error.path}: `)).toBe(true);
  });

  it('accepts listenerPath without NOTIFY rules, as runc does', () => {
    expect(() =>
      validateSeccomp({ ...base, listenerPath: '/run/agent.sock', listenerMetadata: 'm' }),
    ).not.toThrow();
  });

  it('uses the path it is given', () => {
    const error = errorOf(() =>
      validateSeccomp({ defaultAction: 'SCMP_ACT_NOTIFY' }, { path: 'seccomp' }),
    );
    expect(error.path).toBe('seccomp.defaultAction');
  });
});

describe('compileSeccomp: actions', () => {
  const onMkdir = (action: LinuxSeccomp['defaultAction'], errnoRet?: number) =>
    compileSeccomp({
      defaultAction: 'SCMP_ACT_ALLOW',
      listenerPath: action === 'SCMP_ACT_NOTIFY' ? '/run/agent.sock' : undefined,
      syscalls: [{ names: ['mkdir'], action, errnoRet }],
    });

  withLib.each([
    ['SCMP_ACT_KILL', undefined, SECCOMP_RET.KILL_THREAD],
    ['SCMP_ACT_KILL_THREAD', undefined, SECCOMP_RET.KILL_THREAD],
    ['SCMP_ACT_KILL_PROCESS', undefined, SECCOMP_RET.KILL_PROCESS],
    ['SCMP_ACT_TRAP', undefined, SECCOMP_RET.TRAP],
    ['SCMP_ACT_ERRNO', undefined, ERRNO(EPERM)],
    ['SCMP_ACT_ERRNO', 100, ERRNO(100)],
    ['SCMP_ACT_TRACE', undefined, TRACE(EPERM)],
    ['SCMP_ACT_TRACE', 7, TRACE(7)],
    ['SCMP_ACT_LOG', undefined, SECCOMP_RET.LOG],
    ['SCMP_ACT_NOTIFY', undefined, SECCOMP_RET.USER_NOTIF],
  ] as const)('%s (errnoRet %s) on mkdir only', (action, errnoRet, expected) => {
    const c = onMkdir(action, errnoRet);
    expect(run(c, NR.mkdir)).toBe(expected >>> 0);
    expect(run(c, NR.read)).toBe(SECCOMP_RET.ALLOW);
    expect(c.notify).toBe(action === 'SCMP_ACT_NOTIFY');
    expect(c.flags).toBe(action === 'SCMP_ACT_NOTIFY' ? SECCOMP_FILTER_FLAG.NEW_LISTENER : 0);
  });

  withLib('default action with defaultErrnoRet; rules equal to it are skipped', () => {
    const c = compileSeccomp({
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 6,
      syscalls: [
        { names: ['read', 'write', 'getpid'], action: 'SCMP_ACT_ALLOW' },
        { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 6 },
      ],
    });
    expect(run(c, NR.read)).toBe(SECCOMP_RET.ALLOW);
    expect(run(c, 2)).toBe(ERRNO(6)); // open: not listed
    expect(run(c, NR.mkdir)).toBe(ERRNO(6));
  });

  withLib('skips syscall names libseccomp does not know, as runc does', () => {
    const c = compileSeccomp({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['no_such_syscall', 'mkdir', 'another_one'], action: 'SCMP_ACT_ERRNO' }],
    });
    expect(c.skippedSyscalls).toEqual(['another_one', 'no_such_syscall']);
    expect(run(c, NR.mkdir)).toBe(ERRNO(EPERM));
  });
});

describe('compileSeccomp: argument comparisons', () => {
  const HI = 0x1_0000_0000n; // a value that only differs in the high 32 bits
  const rule = (op: string, value: number | bigint, valueTwo?: number | bigint) =>
    compileSeccomp({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        {
          names: ['kcmp'],
          action: 'SCMP_ACT_ERRNO',
          args: [{ index: 2, value: Number(value), valueTwo: valueTwo as number, op: op as never }],
        },
      ],
    });
  const hits = (c: CompiledSeccomp, arg: bigint) =>
    run(c, NR.kcmp, [0, 0, arg]) !== SECCOMP_RET.ALLOW;

  withLib.each([
    ['SCMP_CMP_EQ', 5, [5n], [4n, 6n, 5n + HI]],
    ['SCMP_CMP_NE', 5, [4n, 6n, 5n + HI], [5n]],
    ['SCMP_CMP_LT', 5, [0n, 4n], [5n, 6n, HI]],
    ['SCMP_CMP_LE', 5, [0n, 5n], [6n, HI]],
    ['SCMP_CMP_GT', 5, [6n, HI], [0n, 5n]],
    ['SCMP_CMP_GE', 5, [5n, HI], [0n, 4n]],
  ] as const)('%s %d', (op, value, matching, notMatching) => {
    const c = rule(op, value);
    for (const v of matching) expect(hits(c, v), `${op} ${value} vs ${v}`).toBe(true);
    for (const v of notMatching) expect(hits(c, v), `${op} ${value} vs ${v}`).toBe(false);
  });

  withLib('SCMP_CMP_MASKED_EQ: (arg & value) == valueTwo, on all 64 bits', () => {
    const c = rule('SCMP_CMP_MASKED_EQ', 0xff, 0x03);
    expect(hits(c, 0x03n)).toBe(true);
    expect(hits(c, 0x1203n)).toBe(true);
    expect(hits(c, HI + 0x03n)).toBe(true);
    expect(hits(c, 0x02n)).toBe(false);
    const high = compileSeccomp({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        {
          names: ['kcmp'],
          action: 'SCMP_ACT_ERRNO',
          // 2^40 is exact as a JSON number
          args: [{ index: 0, value: 2 ** 40, valueTwo: 2 ** 40, op: 'SCMP_CMP_MASKED_EQ' }],
        },
      ],
    });
    expect(run(high, NR.kcmp, [2n ** 40n])).toBe(ERRNO(EPERM));
    expect(run(high, NR.kcmp, [2n ** 41n])).toBe(SECCOMP_RET.ALLOW);
  });

  withLib('comparisons of different arguments must all hold (AND)', () => {
    const c = compileSeccomp({
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        { names: ['read'], action: 'SCMP_ACT_ALLOW' },
        {
          names: ['kcmp'],
          action: 'SCMP_ACT_ALLOW',
          args: [
            { index: 0, value: 0, op: 'SCMP_CMP_EQ' },
            { index: 1, value: 1337, op: 'SCMP_CMP_EQ' },
          ],
        },
      ],
    });
    expect(run(c, NR.kcmp, [0, 1337])).toBe(SECCOMP_RET.ALLOW);
    expect(run(c, NR.kcmp, [0, 0])).toBe(ERRNO(EPERM));
    expect(run(c, NR.kcmp, [500, 1337])).toBe(ERRNO(EPERM));
  });

  withLib('comparisons of the same argument are separate rules (OR), as in runc', () => {
    const c = compileSeccomp({
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        { names: ['read'], action: 'SCMP_ACT_ALLOW' },
        {
          names: ['kcmp'],
          action: 'SCMP_ACT_ALLOW',
          args: [
            { index: 0, value: 100, op: 'SCMP_CMP_EQ' },
            { index: 0, value: 9001, op: 'SCMP_CMP_EQ' },
          ],
        },
      ],
    });
    expect(run(c, NR.kcmp, [100])).toBe(SECCOMP_RET.ALLOW);
    expect(run(c, NR.kcmp, [9001])).toBe(SECCOMP_RET.ALLOW);
    expect(run(c, NR.kcmp, [0])).toBe(ERRNO(EPERM));
  });

  withLib('PFC export shows the conditions libseccomp compiled', () => {
    const pfc = exportPfc({
      defaultAction: 'SCMP_ACT_ERRNO',
      syscalls: [
        {
          names: ['kcmp'],
          action: 'SCMP_ACT_ALLOW',
          args: [
            { index: 0, value: 1, op: 'SCMP_CMP_EQ' },
            { index: 1, value: 0xff, valueTwo: 3, op: 'SCMP_CMP_MASKED_EQ' },
          ],
        },
      ],
    });
    expect(pfc).toContain('if ($syscall == 312)');
    expect(pfc).toContain('if ($a0.lo32 == 1)');
    expect(pfc).toContain('if ($a1.lo32 & 0x000000ff == 3)');
    expect(pfc).toContain('action ERRNO(1);');
  });
});

describe('compileSeccomp: architectures', () => {
  withLib('the native arch is always filtered; others only when listed; others are killed', () => {
    const c = compileSeccomp({
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
      syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }],
    });
    expect(run(c, NR.mkdir)).toBe(ERRNO(EPERM));
    expect(run(c, 39, [], I386)).toBe(ERRNO(EPERM)); // mkdir on i386
    expect(run(c, X32_BIT | NR.mkdir)).toBe(ERRNO(EPERM));
    expect(run(c, X32_BIT | NR.read)).toBe(SECCOMP_RET.ALLOW);
    expect(run(c, 0, [], AARCH64)).toBe(SECCOMP_RET.KILL_THREAD);
  });

  withLib('x32 syscalls are a bad architecture unless x32 is listed', () => {
    const c = compileSeccomp({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }],
    });
    expect(run(c, NR.read)).toBe(SECCOMP_RET.ALLOW);
    expect(run(c, X32_BIT | NR.read)).toBe(SECCOMP_RET.KILL_THREAD);
  });

  withLib('x86 socket rules also cover the socketcall multiplexer', () => {
    const c = compileSeccomp({
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86'],
      syscalls: [
        {
          names: ['socket'],
          action: 'SCMP_ACT_ERRNO',
          args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }],
        },
      ],
    });
    const SOCKETCALL = 102;
    const SYS_SOCKET = 1;
    expect(run(c, 359, [1], I386)).toBe(ERRNO(EPERM)); // socket(AF_UNIX)
    expect(run(c, 359, [2], I386)).toBe(SECCOMP_RET.ALLOW);
    expect(run(c, SOCKETCALL, [SYS_SOCKET], I386)).not.toBe(SECCOMP_RET.ALLOW);
    expect(run(c, SOCKETCALL, [3], I386)).toBe(SECCOMP_RET.ALLOW); // SYS_CONNECT
  });

  withLib('an architecture libseccomp does not know is an error naming it', () => {
    const error = errorOf(() =>
      compileSeccomp({
        defaultAction: 'SCMP_ACT_ALLOW',
        architectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_M68K'],
      }),
    );
    expect(error.code).toBe('ARCH_UNKNOWN');
    expect(error.message).toMatch(
      /^linux\.seccomp\.architectures\[1\]: libseccomp 2\.\d+\.\d+ does not know SCMP_ARCH_M68K$/,
    );
  });
});

describe('compileSeccomp: ENOSYS for syscalls newer than the profile', () => {
  const profile = (extra: Partial<LinuxSeccomp> = {}): LinuxSeccomp => ({
    defaultAction: 'SCMP_ACT_ERRNO',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls: [
      { names: ['read', 'write', 'getpid', 'mkdir'], action: 'SCMP_ACT_ALLOW' },
      // the highest number named decides, whatever its action
      { names: ['setns'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 },
    ],
    ...extra,
  });

  withLib('above the highest syscall the profile names: ENOSYS; below: the default', () => {
    const c = compileSeccomp(profile());
    expect(c.enosysLimits).toEqual([
      { arch: 'x86_64', max: NR.setns },
      { arch: 'x86', max: 346 }, // setns on i386
      { arch: 'x32', max: X32_BIT | NR.setns },
    ]);
    expect(run(c, NR.read)).toBe(SECCOMP_RET.ALLOW);
    expect(run(c, NR.unshare)).toBe(ERRNO(EPERM)); // older than setns, not listed
    expect(run(c, NR.setns)).toBe(ERRNO(EPERM));
    expect(run(c, NR.clone3)).toBe(ERRNO(ENOSYS));
    expect(run(c, 1000)).toBe(ERRNO(ENOSYS));
    expect(run(c, X32_BIT | NR.clone3)).toBe(ERRNO(ENOSYS));
    expect(run(c, X32_BIT | NR.unshare)).toBe(ERRNO(EPERM));
    expect(run(c, X32_BIT | NR.read)).toBe(SECCOMP_RET.ALLOW);
    expect(run(c, 347, [], I386)).toBe(ERRNO(ENOSYS));
    expect(run(c, 20, [], I386)).toBe(SECCOMP_RET.ALLOW); // getpid
    expect(run(c, 0, [], AARCH64)).toBe(SECCOMP_RET.KILL_THREAD);
  });

  withLib('x86_64 without x32: x32 numbers stay a bad architecture', () => {
    const c = compileSeccomp(profile({ architectures: [] }));
    expect(c.enosysLimits).toEqual([{ arch: 'x86_64', max: NR.setns }]);
    expect(run(c, NR.clone3)).toBe(ERRNO(ENOSYS));
    expect(run(c, X32_BIT | NR.clone3)).toBe(SECCOMP_RET.KILL_THREAD);
  });

  withLib.each([
    ['SCMP_ACT_ALLOW', undefined],
    ['SCMP_ACT_LOG', undefined],
    ['SCMP_ACT_TRACE', undefined],
    ['SCMP_ACT_ERRNO', ENOSYS],
  ] as const)('no prologue with default %s %s (runc)', (defaultAction, defaultErrnoRet) => {
    const c = compileSeccomp(profile({ defaultAction, defaultErrnoRet }));
    expect(c.enosysLimits).toEqual([]);
    expect(run(c, 1000)).toBe(
      defaultAction === 'SCMP_ACT_ERRNO'
        ? ERRNO(ENOSYS)
        : defaultAction === 'SCMP_ACT_TRACE'
          ? TRACE(EPERM)
          : SECCOMP_RET[defaultAction === 'SCMP_ACT_LOG' ? 'LOG' : 'ALLOW'] >>> 0,
    );
  });

  withLib('a kill default gets the prologue too', () => {
    const c = compileSeccomp(profile({ defaultAction: 'SCMP_ACT_KILL_PROCESS' }));
    expect(run(c, NR.clone3)).toBe(ERRNO(ENOSYS));
    expect(run(c, NR.unshare)).toBe(SECCOMP_RET.KILL_PROCESS >>> 0);
  });
});

describe('compileSeccomp: flags', () => {
  withLib.each([
    [['SECCOMP_FILTER_FLAG_LOG'], false, SECCOMP_FILTER_FLAG.LOG],
    [['SECCOMP_FILTER_FLAG_SPEC_ALLOW'], false, SECCOMP_FILTER_FLAG.SPEC_ALLOW],
    [['SECCOMP_FILTER_FLAG_TSYNC'], false, 0],
    [
      ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV', 'SECCOMP_FILTER_FLAG_TSYNC'],
      true,
      SECCOMP_FILTER_FLAG.NEW_LISTENER | SECCOMP_FILTER_FLAG.WAIT_KILLABLE_RECV,
    ],
  ] as const)('%j (notify %s) -> %d', (flags, notify, expected) => {
    const c = compileSeccomp({
      defaultAction: 'SCMP_ACT_ALLOW',
      flags: [...flags],
      listenerPath: notify ? '/run/agent.sock' : undefined,
      listenerMetadata: notify ? 'meta' : undefined,
      syscalls: [{ names: ['mkdir'], action: notify ? 'SCMP_ACT_NOTIFY' : 'SCMP_ACT_ERRNO' }],
    });
    expect(c.flags).toBe(expected);
    if (notify) {
      expect(c).toMatchObject({ listenerPath: '/run/agent.sock', listenerMetadata: 'meta' });
    }
  });
});

describe('compileSeccomp: the containers-stack default profile', () => {
  // This machine's /usr/share/containers/seccomp.json (golang-github-containers-common),
  // resolved for a container with podman's default capabilities (test-profile.ts).
  withLib('compiles and decides as the profile says', () => {
    const profile = containersDefaultProfile();
    const c = compileSeccomp(profile);
    expect(c.program.length / 8).toBeLessThan(4096);
    // Names libseccomp does not know for any of the profile's architectures
    // (older profiles list a few that are no syscalls, such as readdir):
    // skipped, as runc skips them.
    const listed = new Set(profile.syscalls?.flatMap((rule) => rule.names));
    for (const name of c.skippedSyscalls) expect(listed.has(name), name).toBe(true);
    for (const name of ['mkdir', 'setns', 'personality', 'socket']) {
      expect(c.skippedSyscalls).not.toContain(name);
    }
    // defaultErrnoRet is ENOSYS: no prologue needed
    expect(profile.defaultErrnoRet).toBe(ENOSYS);
    expect(c.enosysLimits).toEqual([]);
    expect(run(c, NR.mkdir)).toBe(SECCOMP_RET.ALLOW);
    expect(run(c, NR.unshare)).toBe(SECCOMP_RET.ALLOW); // refused by capabilities, not here
    // setns is both allowed (the long list) and refused (the CAP_SYS_ADMIN
    // rule, without that capability): the first rule wins in libseccomp,
    // for runc as for us
    const allowed = profile.syscalls?.findIndex(
      (rule) => rule.action === 'SCMP_ACT_ALLOW' && rule.names.includes('setns'),
    );
    const refused = profile.syscalls?.findIndex(
      (rule) => rule.action === 'SCMP_ACT_ERRNO' && rule.names.includes('setns'),
    );
    expect(allowed).toBeGreaterThanOrEqual(0);
    expect(refused).toBeGreaterThan(allowed!);
    expect(run(c, NR.setns)).toBe(SECCOMP_RET.ALLOW);
    expect(run(c, 170)).toBe(ERRNO(EPERM)); // sethostname
    expect(run(c, NR.kcmp)).toBe(ERRNO(EPERM));
    expect(run(c, 135, [0])).toBe(SECCOMP_RET.ALLOW); // personality(PER_LINUX)
    expect(run(c, 135, [0x1234])).toBe(ERRNO(ENOSYS));
    expect(run(c, X32_BIT | NR.mkdir)).toBe(SECCOMP_RET.ALLOW);
    expect(run(c, 39, [], I386)).toBe(SECCOMP_RET.ALLOW);
    expect(run(c, 0, [], AARCH64)).toBe(SECCOMP_RET.KILL_THREAD);
  });
});
