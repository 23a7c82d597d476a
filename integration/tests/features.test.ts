import { FeaturesSchema, parseFeatures } from '@runc-ts/spec';
import { describe, expect, it } from 'vitest';
import { referenceRunc, run, runTs } from '../support/runc.js';

describe('runc features', () => {
  const result = runTs(['features']);

  it('exits 0 and prints features JSON that validates against the features schema', () => {
    expect(result.status).toBe(0);
    expect(() => parseFeatures(result.stdout)).not.toThrow();
    expect(FeaturesSchema.safeParse(JSON.parse(result.stdout)).success).toBe(true);
  });

  it('uses the layout of runc: 4-space indent and a final newline', () => {
    const reference = run(referenceRunc, ['features']).stdout;
    expect(reference.startsWith('{\n    "ociVersionMin"')).toBe(true);
    expect(result.stdout.startsWith('{\n    "ociVersionMin"')).toBe(true);
    expect(result.stdout.endsWith('}\n')).toBe(true);
  });

  it('claims nothing the runtime cannot do yet', () => {
    // Update this together with runtimeFeatures() when a capability lands.
    const features = JSON.parse(result.stdout);
    expect(features.hooks).toEqual(JSON.parse(run(referenceRunc, ['features']).stdout).hooks);
    expect(features.linux.cgroup).toEqual({
      v1: true,
      v2: true,
      systemd: true,
      systemdUser: true,
      rdma: true,
    });
    expect(features.linux.seccomp.enabled).toBe(true);
    // id-mapped mounts (integration/tests/idmap.test.ts); runc 1.2+ reports the
    // same, and keeps idmap/ridmap out of mountOptions
    expect(features.linux.mountExtensions).toEqual({ idmap: { enabled: true } });
    expect(features.mountOptions).not.toContain('idmap');
    expect(features.mountOptions).not.toContain('ridmap');
    // linux.netDevices (integration/tests/net-devices.test.ts); linux.intelRdt
    // (resctrl; unit-tested against a fake tree, this host has none); AppArmor
    // and SELinux are not implemented here
    expect(features.linux.netDevices).toEqual({ enabled: true });
    expect(features.linux.intelRdt).toEqual({ enabled: true });
    for (const key of ['apparmor', 'selinux']) {
      expect(features.linux[key], key).toEqual({ enabled: false });
    }
  });

  it('rejects arguments like runc (exit 1)', () => {
    expect(runTs(['features', 'x']).status).toBe(run(referenceRunc, ['features', 'x']).status);
  });
});
