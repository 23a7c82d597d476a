import type { LinuxDeviceCgroup } from '@runc-ts/spec';
import { describe, expect, it } from 'vitest';
import {
  compileDeviceFilter,
  DeviceFilterError,
  formatDeviceFilter,
  parseDeviceRules,
} from './index.js';
import { assertWellFormed, runDeviceProgram } from './interpreter.js';
import { DEVICE_ACCESS, DEVICE_TYPE, type DeviceRule } from './rules.js';

type Access = '' | 'r' | 'w' | 'rw' | 'm';

interface Request {
  type: 'b' | 'c';
  major: number;
  minor: number;
  /** The bits one kernel check asks for: open -> r, w or rw; mknod -> m; access(2) -> none. */
  access: Access;
}

function accessBits(access: string): number {
  let bits = 0;
  if (access.includes('r')) bits |= DEVICE_ACCESS.READ;
  if (access.includes('w')) bits |= DEVICE_ACCESS.WRITE;
  if (access.includes('m')) bits |= DEVICE_ACCESS.MKNOD;
  return bits;
}

function run(program: Buffer, request: Request): boolean {
  const type = request.type === 'b' ? DEVICE_TYPE.BLOCK : DEVICE_TYPE.CHAR;
  const verdict = runDeviceProgram(program, {
    accessType: (accessBits(request.access) << 16) | type,
    major: request.major,
    minor: request.minor,
  });
  return verdict === 1;
}

/** Compiles `rules`, checks the program is well formed, and decides `request`. */
function decide(rules: LinuxDeviceCgroup[], request: Request): boolean {
  const program = compileDeviceFilter(rules);
  assertWellFormed(program);
  return run(program, request);
}

function dev(spec: string): Omit<Request, 'access'> {
  const match = /^([bc]) (\d+):(\d+)$/.exec(spec);
  if (!match) throw new Error(`bad device ${spec}`);
  return { type: match[1] as 'b' | 'c', major: Number(match[2]), minor: Number(match[3]) };
}

/** "allow c 1:* rw" -> a LinuxDeviceCgroup; "a" alone is every device, "*" any number. */
function rule(text: string): LinuxDeviceCgroup {
  const [verb, type, numbers, access] = text.split(' ');
  const result: LinuxDeviceCgroup = { allow: verb === 'allow' };
  if (type && type !== 'a') result.type = type;
  if (type === 'a' && numbers === undefined) return { ...result, access: 'rwm' };
  if (numbers) {
    const [major, minor] = numbers.split(':');
    if (major !== '*') result.major = Number(major);
    if (minor !== '*') result.minor = Number(minor);
  }
  if (access) result.access = access;
  return result;
}

/**
 * The reference: the semantics written down in compile.ts, computed the
 * obvious way (each bit on its own, by a forward scan keeping the last match).
 */
function reference(rules: readonly DeviceRule[], request: Request): boolean {
  const matchesDevice = (r: DeviceRule) =>
    (r.type === 'a' || r.type === request.type) &&
    (r.major === undefined || r.major === request.major) &&
    (r.minor === undefined || r.minor === request.minor);
  const bits = accessBits(request.access);
  if (bits === 0) {
    let last: DeviceRule | undefined;
    for (const r of rules) if (matchesDevice(r)) last = r;
    return last?.allow ?? false;
  }
  for (const bit of [DEVICE_ACCESS.READ, DEVICE_ACCESS.WRITE, DEVICE_ACCESS.MKNOD]) {
    if ((bits & bit) === 0) continue;
    let allowed = false;
    for (const r of rules) if (matchesDevice(r) && (r.access & bit) !== 0) allowed = r.allow;
    if (!allowed) return false;
  }
  return true;
}

const ACCESSES: Access[] = ['', 'r', 'w', 'rw', 'm'];

/** runc's default linux.resources.devices for a container (libcontainer/specconv). */
const RUNC_DEFAULT_RULES: LinuxDeviceCgroup[] = [
  rule('deny a'),
  rule('allow c 1:3 rwm'),
  rule('allow c 1:5 rwm'),
  rule('allow c 1:7 rwm'),
  rule('allow c 5:0 rwm'),
  rule('allow c 5:1 rwm'),
  rule('allow c 5:2 rwm'),
  rule('allow c 1:8 rwm'),
  rule('allow c 1:9 rwm'),
  rule('allow c 136:* rwm'),
  rule('allow c 10:200 rwm'),
  rule('allow c *:* m'),
  rule('allow b *:* m'),
];

describe('compileDeviceFilter', () => {
  it("allows runc's default devices and mknod of anything, and nothing else", () => {
    const program = compileDeviceFilter(RUNC_DEFAULT_RULES);
    assertWellFormed(program);
    const allowed = (device: string, access: Access) => run(program, { ...dev(device), access });
    for (const device of ['c 1:3', 'c 1:5', 'c 1:7', 'c 5:0', 'c 5:1', 'c 5:2', 'c 1:8', 'c 1:9']) {
      for (const access of ACCESSES)
        expect(allowed(device, access), `${device} ${access}`).toBe(true);
    }
    expect(allowed('c 136:0', 'rw')).toBe(true);
    expect(allowed('c 136:4095', 'rw')).toBe(true);
    expect(allowed('c 10:200', 'rw')).toBe(true);
    // Anything else: mknod only.
    for (const device of ['c 1:1', 'c 1:4', 'c 10:229', 'c 137:0', 'c 4:0', 'b 8:0', 'b 1:3']) {
      expect(allowed(device, 'm'), `${device} m`).toBe(true);
      for (const access of ['r', 'w', 'rw'] as const) {
        expect(allowed(device, access), `${device} ${access}`).toBe(false);
      }
    }
    // The leading "deny a" decides nothing the end of the program would not:
    // one block per allow rule, plus a preamble and the final deny.
    expect(program.length / 8).toBeLessThan(12 * 6 + 10);
  });

  it('allows everything for an allow-all list, in a program of a few instructions', () => {
    for (const rules of [
      [rule('allow a')],
      [{ allow: true }],
      [rule('deny c 1:3 rwm'), rule('allow a')],
    ]) {
      const program = compileDeviceFilter(rules);
      assertWellFormed(program);
      expect(program.length / 8).toBeLessThanOrEqual(10);
      for (const device of ['c 1:3', 'b 8:0', 'c 4095:1048575']) {
        for (const access of ACCESSES) expect(run(program, { ...dev(device), access })).toBe(true);
      }
    }
  });

  it('denies everything for an empty list or a deny-only list', () => {
    for (const rules of [[], [rule('deny a')], [rule('deny c 1:3 r'), rule('deny b *:* rwm')]]) {
      const program = compileDeviceFilter(rules);
      assertWellFormed(program);
      for (const device of ['c 1:3', 'b 8:0', 'c 0:0']) {
        for (const access of ACCESSES) expect(run(program, { ...dev(device), access })).toBe(false);
      }
    }
  });

  it('matches wildcard majors and minors, absent or -1', () => {
    const rules = [
      rule('deny a'),
      { allow: true, type: 'c', major: -1, minor: 7, access: 'r' },
      { allow: true, type: 'b', major: 8, access: 'rw' },
    ];
    expect(decide(rules, { ...dev('c 1:7'), access: 'r' })).toBe(true);
    expect(decide(rules, { ...dev('c 200:7'), access: 'r' })).toBe(true);
    expect(decide(rules, { ...dev('c 200:8'), access: 'r' })).toBe(false);
    expect(decide(rules, { ...dev('c 1:7'), access: 'w' })).toBe(false);
    expect(decide(rules, { ...dev('b 8:0'), access: 'rw' })).toBe(true);
    expect(decide(rules, { ...dev('b 8:17'), access: 'w' })).toBe(true);
    expect(decide(rules, { ...dev('b 9:0'), access: 'r' })).toBe(false);
    expect(decide(rules, { ...dev('c 8:0'), access: 'r' })).toBe(false);
  });

  it('applies type "a" (or no type) to block and character devices alike', () => {
    const rules = [rule('deny a'), rule('allow a 7:* r'), { allow: true, major: 9, minor: 1 }];
    expect(decide(rules, { ...dev('c 7:0'), access: 'r' })).toBe(true);
    expect(decide(rules, { ...dev('b 7:3'), access: 'r' })).toBe(true);
    expect(decide(rules, { ...dev('b 7:3'), access: 'w' })).toBe(false);
    expect(decide(rules, { ...dev('b 9:1'), access: 'rw' })).toBe(true);
    expect(decide(rules, { ...dev('c 9:1'), access: 'm' })).toBe(true);
    expect(decide(rules, { ...dev('c 9:2'), access: 'r' })).toBe(false);
  });

  it('lets the last matching rule win, whichever way round', () => {
    const allowThenDeny = [rule('deny a'), rule('allow c 1:* rwm'), rule('deny c 1:3 rwm')];
    expect(decide(allowThenDeny, { ...dev('c 1:3'), access: 'r' })).toBe(false);
    expect(decide(allowThenDeny, { ...dev('c 1:5'), access: 'r' })).toBe(true);
    const denyThenAllow = [rule('allow a'), rule('deny c 1:* rwm'), rule('allow c 1:3 rwm')];
    expect(decide(denyThenAllow, { ...dev('c 1:3'), access: 'rw' })).toBe(true);
    expect(decide(denyThenAllow, { ...dev('c 1:5'), access: 'r' })).toBe(false);
    expect(decide(denyThenAllow, { ...dev('c 2:3'), access: 'r' })).toBe(true);
    // A later "allow a" / "deny a" resets everything before it.
    const reset = [rule('allow c 1:3 rwm'), rule('deny a'), rule('allow c 1:5 r')];
    expect(decide(reset, { ...dev('c 1:3'), access: 'r' })).toBe(false);
    expect(decide(reset, { ...dev('c 1:5'), access: 'r' })).toBe(true);
    const same = [rule('deny c 1:3 r'), rule('allow c 1:3 r'), rule('deny c 1:3 r')];
    expect(decide(same, { ...dev('c 1:3'), access: 'r' })).toBe(false);
  });

  // Each case was checked against the v1 devices controller of this kernel
  // (writing the same rules to devices.allow/devices.deny of a v1 cgroup and
  // opening /dev/null = c 1:3); see the root test in attach.test.ts.
  describe('partial access overlap', () => {
    const nullDev = dev('c 1:3');
    const decisions = (rules: LinuxDeviceCgroup[]) =>
      Object.fromEntries(
        ACCESSES.filter((a) => a).map((a) => [a, decide(rules, { ...nullDev, access: a })]),
      );

    it('denies a request when a deny rule names any of its bits (v1: deny on partial match)', () => {
      expect(decisions([rule('allow a'), rule('deny c 1:3 w')])).toEqual({
        r: true,
        w: false,
        rw: false,
        m: true,
      });
      expect(decisions([rule('deny c 1:* w'), rule('allow c 1:3 r')])).toEqual({
        r: true,
        w: false,
        rw: false,
        m: false,
      });
    });

    it('needs every requested bit allowed (v1: "r" does not grant O_RDWR)', () => {
      expect(decisions([rule('deny a'), rule('allow c 1:3 r')])).toEqual({
        r: true,
        w: false,
        rw: false,
        m: false,
      });
    });

    it('combines bits granted by several rules for the device (v1 merges them)', () => {
      expect(decisions([rule('deny a'), rule('allow c 1:3 r'), rule('allow c 1:3 w')])).toEqual({
        r: true,
        w: true,
        rw: true,
        m: false,
      });
      // v1 denies O_RDWR here (no single entry holds r and w); see compile.ts.
      expect(decisions([rule('deny a'), rule('allow c 1:* r'), rule('allow c *:3 w')])).toEqual({
        r: true,
        w: true,
        rw: true,
        m: false,
      });
    });

    it('takes back only the bits a later rule names', () => {
      const rules = [rule('deny a'), rule('allow c 1:3 rwm'), rule('deny c 1:3 w')];
      expect(decisions(rules)).toEqual({ r: true, w: false, rw: false, m: true });
      const regrant = [rule('allow a'), rule('deny c 1:3 rw'), rule('allow c 1:3 r')];
      expect(decisions(regrant)).toEqual({ r: true, w: false, rw: false, m: true });
    });

    it('decides a request with no access bits by the last rule for the device', () => {
      const access = (rules: LinuxDeviceCgroup[]) => decide(rules, { ...nullDev, access: '' });
      expect(access([rule('deny a'), rule('allow c 1:3 r')])).toBe(true);
      expect(access([rule('deny a'), rule('allow c 1:3 m')])).toBe(true);
      expect(access([rule('allow a'), rule('deny c 1:3 w')])).toBe(false);
      expect(access([rule('deny a'), rule('allow c 1:3 rwm'), rule('deny c 1:3 rwm')])).toBe(false);
      expect(access([rule('deny a'), rule('allow c 1:4 rwm')])).toBe(false);
    });
  });

  it('compares device numbers above 2^31 exactly (JMP32)', () => {
    const rules = [
      rule('deny a'),
      { allow: true, type: 'c', major: 0x80000001, minor: 0xffffffff },
    ];
    expect(decide(rules, { type: 'c', major: 0x80000001, minor: 0xffffffff, access: 'r' })).toBe(
      true,
    );
    expect(decide(rules, { type: 'c', major: 1, minor: 0xffffffff, access: 'r' })).toBe(false);
    expect(decide(rules, { type: 'c', major: 0x80000001, minor: 0x7fffffff, access: 'r' })).toBe(
      false,
    );
  });

  it('stays short for a long list', () => {
    const rules = [rule('deny a')];
    for (let i = 0; i < 15; i++) {
      rules.push(rule(`allow c ${i}:${i + 1} rw`), rule(`deny b ${i}:* w`));
    }
    const program = compileDeviceFilter(rules);
    assertWellFormed(program);
    // At most 7 instructions per rule, plus the preamble and the final deny.
    expect(program.length / 8).toBeLessThanOrEqual(30 * 7 + 10);
  });

  it('agrees with the reference semantics on random lists and requests', () => {
    // A fixed seed keeps failures reproducible; the failing case is printed.
    let seed = 0x5eed1234;
    const random = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const pick = <T>(items: readonly T[]) => items[random(items.length)]!;
    const numbers = [0, 1, 3, 5, 136];
    const randomRule = (): LinuxDeviceCgroup => {
      const r: LinuxDeviceCgroup = { allow: random(2) === 0 };
      const type = pick([undefined, 'a', 'b', 'c', 'c']);
      if (type) r.type = type;
      const major = pick([undefined, -1, ...numbers]);
      if (major !== undefined) r.major = major;
      const minor = pick([undefined, -1, ...numbers]);
      if (minor !== undefined) r.minor = minor;
      const access = pick([undefined, 'r', 'w', 'm', 'rw', 'rm', 'wm', 'rwm', 'mwr']);
      if (access !== undefined) r.access = access;
      return r;
    };
    let compared = 0;
    for (let list = 0; list < 1500; list++) {
      const rules = Array.from({ length: random(10) }, randomRule);
      const program = compileDeviceFilter(rules);
      assertWellFormed(program);
      const parsed = parseDeviceRules(rules);
      for (let n = 0; n < 30; n++) {
        const request: Request = {
          type: pick(['b', 'c'] as const),
          major: pick([...numbers, 7]),
          minor: pick([...numbers, 7]),
          access: pick(ACCESSES),
        };
        const expected = reference(parsed, request);
        if (run(program, request) !== expected) {
          throw new Error(
            `mismatch for ${JSON.stringify(request)} (reference: ${expected})\nrules: ${JSON.stringify(rules)}\n${formatDeviceFilter(program)}`,
          );
        }
        compared++;
      }
    }
    expect(compared).toBe(1500 * 30);
  });

  describe('invalid rules', () => {
    const cases: [LinuxDeviceCgroup, string][] = [
      [
        { allow: true, type: 'u' },
        'linux.resources.devices[1].type: "u" is not a cgroup device type',
      ],
      [
        { allow: true, type: 'c', major: -2 },
        'linux.resources.devices[1].major: -2 is not a device number',
      ],
      [{ allow: true, type: 'c', minor: 2 ** 32 }, 'linux.resources.devices[1].minor: 4294967296'],
      [{ allow: true, type: 'c', minor: 1.5 }, 'linux.resources.devices[1].minor: 1.5'],
      [{ allow: true, access: 'rx' }, 'linux.resources.devices[1].access: "rx" has "x"'],
      [{ allow: true, access: '' }, 'linux.resources.devices[1].access: is empty'],
      [
        { allow: 'yes' } as unknown as LinuxDeviceCgroup,
        'linux.resources.devices[1].allow: must be',
      ],
    ];
    it.each(cases)('rejects %j', (bad, message) => {
      let error: unknown;
      try {
        compileDeviceFilter([rule('deny a'), bad]);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(DeviceFilterError);
      expect((error as DeviceFilterError).code).toBe('DEVICE_RULE_INVALID');
      expect((error as DeviceFilterError).message).toContain(message);
    });
  });
});

describe('formatDeviceFilter', () => {
  it('lists one readable instruction per line', () => {
    const text = formatDeviceFilter(
      compileDeviceFilter([rule('deny a'), rule('allow c 136:* rw')]),
    );
    expect(text.split('\n')).toEqual([
      ' 0: r2 = *(u32 *)(r1 +0)',
      ' 1: w3 = w2',
      ' 2: w3 &= 0xffff',
      ' 3: w2 >>= 16',
      ' 4: if r2 != 0 goto pc+1 <6>',
      ' 5: w2 = 8',
      ' 6: r4 = *(u32 *)(r1 +4)',
      ' 7: r5 = *(u32 *)(r1 +8)',
      ' 8: if r3 != 2 goto pc+5 <14>',
      ' 9: if r4 != 136 goto pc+4 <14>',
      '10: w2 &= 0xfffffff1',
      '11: if r2 != 0 goto pc+2 <14>',
      '12: w0 = 1',
      '13: exit',
      '14: w0 = 0',
      '15: exit',
    ]);
  });

  it('shows instructions it does not know as raw fields', () => {
    const program = Buffer.alloc(8);
    program.writeUInt8(0x85, 0); // call
    program.writeInt32LE(14, 4);
    expect(formatDeviceFilter(program)).toBe('0: .insn code=0x85 dst=r0 src=r0 off=0 imm=14');
  });
});
