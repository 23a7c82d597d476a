/**
 * linux.resources.devices -> a BPF_PROG_TYPE_CGROUP_DEVICE program.
 *
 * Semantics (what the program decides for a request: device type, major,
 * minor and a set of access bits; open(O_RDWR) asks for r and w at once,
 * mknod for m alone, access(2) on a device node for nothing):
 *
 * - Rules apply in list order and the last rule that matches wins. A rule
 *   matches a device when its type (a = both), major and minor (absent or
 *   -1 = any) match. No matching rule: denied.
 * - Each requested access bit is decided on its own by the last matching
 *   rule that names that bit; the request is allowed only when every bit is.
 *   So with "allow a; deny c 1:3 w", open(/dev/null, O_RDWR) is denied and
 *   O_RDONLY allowed, and "deny a; allow c 1:3 r; allow c 1:3 w" allows
 *   O_RDWR. Both are what the v1 devices controller does (checked on this
 *   kernel): v1 denies as soon as a deny entry overlaps the request, and
 *   merges the access of entries for the same device. runc's v2 filter
 *   lets any rule match only when it names every requested bit (runc PR
 *   #2796), so it allows O_RDWR in the first example; we follow v1 there.
 * - A request with no access bits is decided by the last rule matching the
 *   device, whatever access it names (as runc's v2 filter does).
 *
 * Where v1 differs, on purpose:
 * - v1 silently ignores a rule that would punch a hole into a wildcard
 *   entry ("deny a; allow c 1:* rwm; deny c 1:3 rwm" leaves c 1:3 allowed;
 *   runc refuses such lists). Here the last rule wins: c 1:3 is denied.
 * - v1 needs one entry holding both r and w for O_RDWR, so
 *   "allow c 1:* r; allow c *:3 w" allows O_RDONLY and O_WRONLY of c 1:3 but
 *   not O_RDWR. Per-bit decisions allow it: refusing the combination of two
 *   separately granted accesses protects nothing.
 * - v1 (and runc) turn any type "a" rule into "a *:* rwm"; here "a 1:3 r"
 *   means b 1:3 r and c 1:3 r, as the spec's fields say.
 */
import type { LinuxDeviceCgroup } from '@runc-ts/spec';
import { ProgramBuilder, type Register } from './insn.js';
import { DEVICE_ACCESS_ALL, DEVICE_TYPE, type DeviceRule, parseDeviceRules } from './rules.js';

/** Offsets in struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }. */
const CTX_ACCESS_TYPE = 0;
const CTX_MAJOR = 4;
const CTX_MINOR = 8;

/**
 * Stands in for "no access bits" so that an empty request matches every rule
 * for its device: it is part of every rule's mask, and the kernel never sets it.
 */
export const ACCESS_PROBE = 8;

const ALLOW = 1;
const DENY = 0;

/** Register use: r1 is the context on entry. */
const R_CTX: Register = 1;
/** Requested access bits not decided yet (ACCESS_PROBE for an empty request). */
const R_PENDING: Register = 2;
const R_TYPE: Register = 3;
const R_MAJOR: Register = 4;
const R_MINOR: Register = 5;

/**
 * Compiles the rules (runtime-spec linux.resources.devices, in order) into
 * raw `struct bpf_insn` bytes: the program returns 1 to allow, 0 to deny.
 * Throws DeviceFilterError DEVICE_RULE_INVALID for an entry that cannot be
 * expressed.
 */
export function compileDeviceFilter(rules: readonly LinuxDeviceCgroup[]): Buffer {
  return compileParsedRules(parseDeviceRules(rules));
}

export function compileParsedRules(rules: readonly DeviceRule[]): Buffer {
  const program = new ProgramBuilder();
  program.loadWord(R_PENDING, R_CTX, CTX_ACCESS_TYPE);
  program.mov32Reg(R_TYPE, R_PENDING);
  program.and32Imm(R_TYPE, 0xffff);
  program.rsh32Imm(R_PENDING, 16);
  const hasAccess = program.label('request has access bits');
  program.jumpIfNotEqual(R_PENDING, 0, hasAccess);
  program.mov32Imm(R_PENDING, ACCESS_PROBE);
  program.bind(hasAccess);
  program.loadWord(R_MAJOR, R_CTX, CTX_MAJOR);
  program.loadWord(R_MINOR, R_CTX, CTX_MINOR);

  const decisive = decisiveRules(rules);
  // Last rule first: the first one that decides every pending bit wins.
  for (let i = decisive.length - 1; i >= 0; i--) {
    const rule = decisive[i]!;
    if (isCatchAll(rule)) {
      // Only an "allow" can be here (decisiveRules); nothing after it is reachable,
      // and the verifier rejects unreachable instructions.
      program.returnImm(ALLOW);
      return program.build();
    }
    emitRule(program, rule, i);
  }
  program.returnImm(DENY);
  return program.build();
}

/**
 * The rules that can change a decision: nothing before the last catch-all
 * ("a *:* rwm") is ever consulted, and deny rules ahead of every allow rule
 * decide what the final "deny" decides anyway.
 */
function decisiveRules(rules: readonly DeviceRule[]): DeviceRule[] {
  let start = 0;
  rules.forEach((rule, index) => {
    if (isCatchAll(rule)) start = index;
  });
  const reachable = rules.slice(start);
  const firstAllow = reachable.findIndex((rule) => rule.allow);
  return firstAllow === -1 ? [] : reachable.slice(firstAllow);
}

function isCatchAll(rule: DeviceRule): boolean {
  return (
    rule.type === 'a' &&
    rule.major === undefined &&
    rule.minor === undefined &&
    rule.access === DEVICE_ACCESS_ALL
  );
}

function emitRule(program: ProgramBuilder, rule: DeviceRule, index: number): void {
  const next = program.label(`after rule ${index}`);
  if (rule.type !== 'a') {
    program.jumpIfNotEqual(R_TYPE, rule.type === 'b' ? DEVICE_TYPE.BLOCK : DEVICE_TYPE.CHAR, next);
  }
  if (rule.major !== undefined) program.jumpIfNotEqual(R_MAJOR, rule.major, next);
  if (rule.minor !== undefined) program.jumpIfNotEqual(R_MINOR, rule.minor, next);
  const mask = rule.access | ACCESS_PROBE;
  const coversEverything = rule.access === DEVICE_ACCESS_ALL;
  if (rule.allow) {
    if (!coversEverything) {
      // Grant this rule's bits; allowed once no requested bit is left.
      program.and32Imm(R_PENDING, ~mask);
      program.jumpIfNotEqual(R_PENDING, 0, next);
    }
    program.returnImm(ALLOW);
  } else {
    if (!coversEverything) {
      // Any pending bit this rule names is denied, and so is the request.
      const overlaps = program.label(`rule ${index} denies a requested bit`);
      program.jumpIfAnySet(R_PENDING, mask, overlaps);
      program.jump(next);
      program.bind(overlaps);
    }
    program.returnImm(DENY);
  }
  program.bind(next);
}
