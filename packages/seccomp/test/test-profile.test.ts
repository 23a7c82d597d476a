import { describe, expect, it } from 'vitest';
import { goArch, profileToOci, type SourceProfile } from './test-profile.js';

// The resolution of a containers/common profile that the seccomp tests rely
// on, on a small profile of our own.
const source: SourceProfile = {
  defaultAction: 'SCMP_ACT_ERRNO',
  defaultErrnoRet: 38,
  archMap: [
    { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
    { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
  ],
  syscalls: [
    { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW', args: [], includes: {}, excludes: {} },
    {
      names: ['personality'],
      action: 'SCMP_ACT_ALLOW',
      args: [{ index: 0, value: 8, valueTwo: 0, op: 'SCMP_CMP_EQ' }],
    },
    { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['amd64', 'x32'] } },
    { names: ['set_tls'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['arm', 'arm64'] } },
    { names: ['vm86'], action: 'SCMP_ACT_ALLOW', excludes: { arches: ['amd64'] } },
    { names: ['chroot'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_CHROOT'] } },
    {
      names: ['chroot'],
      action: 'SCMP_ACT_ERRNO',
      errnoRet: 1,
      excludes: { caps: ['CAP_SYS_CHROOT'] },
    },
    {
      names: ['mount', 'umount2'],
      action: 'SCMP_ACT_ALLOW',
      includes: { caps: ['CAP_SYS_ADMIN', 'CAP_SYS_CHROOT'] },
    },
    {
      name: 'socket',
      action: 'SCMP_ACT_ERRNO',
      errnoRet: 22,
      args: [{ index: 0, value: 16, valueTwo: 0, op: 'SCMP_CMP_EQ' }],
      excludes: { caps: ['CAP_AUDIT_WRITE'] },
    },
    { names: ['clone3'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '5.3' } },
    { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38, excludes: { minKernel: '5.3' } },
  ],
};

describe('profileToOci (containers/common profile -> linux.seccomp)', () => {
  it('picks the native archMap entry and the rules for that architecture, capabilities and kernel', () => {
    const oci = profileToOci(source, {
      arch: 'amd64',
      capabilities: ['CAP_SYS_CHROOT', 'CAP_KILL'],
      kernel: '6.1.0-28-amd64',
    });
    expect(oci).toEqual({
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 38,
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
      syscalls: [
        { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
        {
          names: ['personality'],
          action: 'SCMP_ACT_ALLOW',
          args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }],
        },
        { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW' },
        { names: ['chroot'], action: 'SCMP_ACT_ALLOW' },
        {
          names: ['socket'],
          action: 'SCMP_ACT_ERRNO',
          errnoRet: 22,
          args: [{ index: 0, value: 16, op: 'SCMP_CMP_EQ' }],
        },
        { names: ['clone3'], action: 'SCMP_ACT_ALLOW' },
      ],
    });
  });

  it('without the capability and on an older kernel, on arm64', () => {
    const oci = profileToOci(source, {
      arch: 'arm64',
      capabilities: ['CAP_AUDIT_WRITE'],
      kernel: '4.19.0',
    });
    expect(oci.architectures).toEqual(['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
    expect(oci.syscalls?.map((rule) => [rule.names.join(','), rule.action])).toEqual([
      ['read,write', 'SCMP_ACT_ALLOW'],
      ['personality', 'SCMP_ACT_ALLOW'],
      ['set_tls', 'SCMP_ACT_ALLOW'],
      ['vm86', 'SCMP_ACT_ALLOW'],
      ['chroot', 'SCMP_ACT_ERRNO'],
      ['clone3', 'SCMP_ACT_ERRNO'],
    ]);
  });

  it('every listed capability is needed for an include, any one excludes', () => {
    const oci = profileToOci(source, {
      arch: 'amd64',
      capabilities: ['CAP_SYS_ADMIN', 'CAP_SYS_CHROOT', 'CAP_AUDIT_WRITE'],
      kernel: '5.3.0',
    });
    const names = oci.syscalls?.map((rule) => rule.names.join(','));
    expect(names).toContain('mount,umount2');
    expect(names).not.toContain('socket');
    expect(names?.filter((name) => name === 'clone3')).toHaveLength(1);
  });

  it('keeps a profile that lists architectures, and refuses both forms at once', () => {
    const listed = { ...source, archMap: undefined, architectures: ['SCMP_ARCH_X86_64'] };
    expect(
      profileToOci(listed, { arch: 'amd64', capabilities: [], kernel: '6.1' }).architectures,
    ).toEqual(['SCMP_ARCH_X86_64']);
    expect(() =>
      profileToOci(
        { ...source, architectures: ['SCMP_ARCH_X86_64'] },
        { arch: 'amd64', capabilities: [], kernel: '6.1' },
      ),
    ).toThrow('both architectures and archMap');
  });

  it("names Node's architectures as Go does", () => {
    expect(goArch('x64')).toBe('amd64');
    expect(goArch('arm64')).toBe('arm64');
    expect(goArch('s390x')).toBe('s390x');
  });
});
