import { describe, expect, it } from 'vitest';
import { CAPABILITIES, capabilityMask, KNOWN_CAPABILITIES } from './capabilities.js';
import { PlanError } from './errors.js';

describe('capabilities', () => {
  it('knows all 41 capabilities by number', () => {
    expect(KNOWN_CAPABILITIES).toHaveLength(41);
    expect(new Set(KNOWN_CAPABILITIES).size).toBe(41);
    expect(CAPABILITIES.get('CAP_CHOWN')).toBe(0);
    expect(CAPABILITIES.get('CAP_KILL')).toBe(5);
    expect(CAPABILITIES.get('CAP_SETPCAP')).toBe(8);
    expect(CAPABILITIES.get('CAP_NET_BIND_SERVICE')).toBe(10);
    expect(CAPABILITIES.get('CAP_SYS_ADMIN')).toBe(21);
    expect(CAPABILITIES.get('CAP_MKNOD')).toBe(27);
    expect(CAPABILITIES.get('CAP_AUDIT_WRITE')).toBe(29);
    expect(CAPABILITIES.get('CAP_SETFCAP')).toBe(31);
    expect(CAPABILITIES.get('CAP_AUDIT_READ')).toBe(37);
    expect(CAPABILITIES.get('CAP_PERFMON')).toBe(38);
    expect(CAPABILITIES.get('CAP_BPF')).toBe(39);
    expect(CAPABILITIES.get('CAP_CHECKPOINT_RESTORE')).toBe(40);
    KNOWN_CAPABILITIES.forEach((name, i) => {
      expect(name).toMatch(/^CAP_[A-Z_]+$/);
      expect(CAPABILITIES.get(name)).toBe(i);
    });
  });

  it('builds masks', () => {
    expect(capabilityMask(undefined, 'x')).toBe(0n);
    expect(capabilityMask([], 'x')).toBe(0n);
    // runc's default set: what /proc/self/status shows as 0000000020000420.
    expect(capabilityMask(['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'], 'x')).toBe(
      0x20000420n,
    );
    expect(capabilityMask(['CAP_KILL', 'CAP_KILL'], 'x')).toBe(0x20n);
    expect(capabilityMask(KNOWN_CAPABILITIES, 'x')).toBe((1n << 41n) - 1n);
  });

  it('rejects unknown names with the JSON path of the element', () => {
    const call = () =>
      capabilityMask(
        ['CAP_CHOWN', 'CAP_KILL', 'CAP_MKNOD', 'CAP_FOO'],
        'process.capabilities.bounding',
      );
    expect(call).toThrow(PlanError);
    expect(call).toThrow('process.capabilities.bounding[3]: unknown capability "CAP_FOO"');
    try {
      call();
    } catch (error) {
      expect(error).toMatchObject({
        code: 'CAPABILITY_UNKNOWN',
        path: 'process.capabilities.bounding[3]',
        name: 'PlanError',
      });
    }
  });

  it('is case-sensitive and wants the CAP_ prefix', () => {
    expect(() => capabilityMask(['cap_chown'], 'p')).toThrow('p[0]: unknown capability');
    expect(() => capabilityMask(['CHOWN'], 'p')).toThrow('p[0]: unknown capability "CHOWN"');
  });
});

describe('capabilityMask with a set for unknown names', () => {
  it('leaves unknown names out and collects them instead of throwing', () => {
    const unknown = new Set<string>();
    expect(capabilityMask(['CAP_KILL', 'CAP_FUTURE', 'CAP_FUTURE'], 'p', unknown)).toBe(0x20n);
    expect([...unknown]).toEqual(['CAP_FUTURE']);
  });

  it("takes names above the kernel's last capability as unavailable", () => {
    const unknown = new Set<string>();
    // A 5.4 kernel: cap_last_cap 39 (CAP_BPF), no CAP_CHECKPOINT_RESTORE (40).
    expect(capabilityMask(['CAP_KILL', 'CAP_CHECKPOINT_RESTORE'], 'p', unknown, 39)).toBe(0x20n);
    expect([...unknown]).toEqual(['CAP_CHECKPOINT_RESTORE']);
    expect(() => capabilityMask(['CAP_CHECKPOINT_RESTORE'], 'p', undefined, 39)).toThrow(
      'p[0]: unavailable (not in this kernel) capability "CAP_CHECKPOINT_RESTORE"',
    );
  });
});
