import { describe, expect, it } from 'vitest';
import { seccompFeatures } from './features.js';
import { locateLibseccomp } from './locate.js';

const haveLibseccomp = locateLibseccomp() !== undefined;
if (!haveLibseccomp)
  console.warn('seccompFeatures tests skipped: libseccomp.so.2 is not installed');

describe('seccompFeatures', () => {
  it.skipIf(!haveLibseccomp)('reports what libseccomp and the kernel support', () => {
    const f = seccompFeatures();
    expect(f.enabled).toBe(true);
    expect(f.operators).toEqual([
      'SCMP_CMP_EQ',
      'SCMP_CMP_GE',
      'SCMP_CMP_GT',
      'SCMP_CMP_LE',
      'SCMP_CMP_LT',
      'SCMP_CMP_MASKED_EQ',
      'SCMP_CMP_NE',
    ]);
    expect(f.archs).toContain('SCMP_ARCH_X86_64');
    expect(f.archs).toContain('SCMP_ARCH_X32');
    expect(f.knownFlags).toEqual([
      'SECCOMP_FILTER_FLAG_LOG',
      'SECCOMP_FILTER_FLAG_SPEC_ALLOW',
      'SECCOMP_FILTER_FLAG_TSYNC',
      'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV',
    ]);
    expect(f.supportedFlags).toContain('SECCOMP_FILTER_FLAG_TSYNC');
    expect(f.supportedFlags).toContain('SECCOMP_FILTER_FLAG_LOG');
    expect(f.libseccompVersion).toMatch(/^2\.\d+\.\d+$/);
  });

  it.skipIf(!haveLibseccomp)('lists only the actions the kernel has', () => {
    const f = seccompFeatures({
      actionsAvail: 'kill_process kill_thread trap errno trace allow\n',
    });
    expect(f.actions).toEqual([
      'SCMP_ACT_ALLOW',
      'SCMP_ACT_ERRNO',
      'SCMP_ACT_KILL',
      'SCMP_ACT_KILL_PROCESS',
      'SCMP_ACT_KILL_THREAD',
      'SCMP_ACT_TRACE',
      'SCMP_ACT_TRAP',
    ]);
  });
});
