import { FeaturesSchema, parseFeatures } from '@runc-ts/spec';
import { describe, expect, it } from 'vitest';
import { runtimeFeatures } from './features.js';

describe('runtimeFeatures', () => {
  const features = runtimeFeatures({ version: '1.2.3', commit: 'abc' });

  it('is a valid features.json (fast validator and zod)', () => {
    expect(() => parseFeatures(JSON.stringify(features))).not.toThrow();
    expect(FeaturesSchema.safeParse(features).success).toBe(true);
  });

  it('covers the spec this build parses', () => {
    expect(features.ociVersionMin).toBe('1.0.0');
    expect(features.ociVersionMax).toBe('1.3.0');
  });

  it('lists the hooks, namespaces, capabilities and mount options that work', () => {
    expect(features.hooks).toEqual([
      'prestart',
      'createRuntime',
      'createContainer',
      'startContainer',
      'poststart',
      'poststop',
    ]);
    expect(features.mountOptions).toContain('rbind');
    expect(features.mountOptions).toContain('rro');
    // runc reports idmap/ridmap as mountExtensions.idmap, not as mount options
    expect(features.mountOptions).not.toContain('idmap');
    expect(features.mountOptions).not.toContain('ridmap');
    expect(features.linux?.namespaces).toHaveLength(8);
    expect(features.linux?.capabilities).toHaveLength(41);
  });

  it('claims no capability that is not implemented yet', () => {
    // Each change that lands a capability updates this.
    expect(features.linux?.cgroup).toEqual({
      v1: true,
      v2: true,
      systemd: true,
      systemdUser: true,
      rdma: true,
    });
    // linux.intelRdt: intelrdt.test.ts, against a resctrl tree in a temporary directory
    expect(features.linux?.intelRdt?.enabled).toBe(true);
    for (const key of ['apparmor', 'selinux'] as const) {
      expect(features.linux?.[key]?.enabled, key).toBe(false);
    }
    // linux.netDevices: integration/tests/net-devices.test.ts moves a veth end in and back
    expect(features.linux?.netDevices?.enabled).toBe(true);
    expect(features.linux?.mountExtensions?.idmap?.enabled).toBe(true);
  });

  it('names this build, and the libseccomp in use as runc does', () => {
    expect(features.annotations).toMatchObject({
      'dev.runc-ts.version': '1.2.3',
      'dev.runc-ts.commit': 'abc',
    });
    const libseccomp = features.annotations?.['io.github.seccomp.libseccomp.version'];
    expect(libseccomp === undefined || /^\d+\.\d+\.\d+$/.test(libseccomp)).toBe(true);
    // seccomp is enabled exactly when libseccomp could be loaded
    expect(features.linux?.seccomp?.enabled).toBe(libseccomp !== undefined);
  });
});
