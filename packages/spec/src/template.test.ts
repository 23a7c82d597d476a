import { describe, expect, it } from 'vitest';
import { ConfigSchema, exampleSpec, parseConfig, renderSpec, toRootless } from './index.js';

describe('exampleSpec', () => {
  it('is a valid config for create, by the fast validator and by zod', () => {
    const text = renderSpec(exampleSpec());
    expect(() => parseConfig(text, { forCreate: true })).not.toThrow();
    expect(ConfigSchema.safeParse(JSON.parse(text)).success).toBe(true);
  });

  it('renders like runc: tabs, no trailing newline, runc key order', () => {
    const text = renderSpec(exampleSpec());
    expect(
      text.startsWith('{\n\t"ociVersion": "1.3.0",\n\t"process": {\n\t\t"terminal": true,'),
    ).toBe(true);
    expect(text.endsWith('}')).toBe(true);
    expect(Object.keys(JSON.parse(text))).toEqual([
      'ociVersion',
      'process',
      'root',
      'hostname',
      'mounts',
      'linux',
    ]);
  });

  it('adds a cgroup namespace only when asked (cgroup v2 hosts)', () => {
    const types = (spec: ReturnType<typeof exampleSpec>) =>
      spec.linux?.namespaces?.map((ns) => ns.type);
    expect(types(exampleSpec())).toEqual(['pid', 'network', 'ipc', 'uts', 'mount']);
    expect(types(exampleSpec({ cgroupNamespace: true }))).toEqual([
      'pid',
      'network',
      'ipc',
      'uts',
      'mount',
      'cgroup',
    ]);
  });

  it('returns a fresh object each time', () => {
    const a = exampleSpec();
    a.process!.args!.push('x');
    expect(exampleSpec().process!.args).toEqual(['sh']);
  });
});

describe('toRootless', () => {
  const rootless = toRootless(exampleSpec(), { uid: 1000, gid: 1001 });

  it('maps the caller to root in a new user namespace, without a network namespace', () => {
    expect(rootless.linux?.uidMappings).toEqual([{ containerID: 0, hostID: 1000, size: 1 }]);
    expect(rootless.linux?.gidMappings).toEqual([{ containerID: 0, hostID: 1001, size: 1 }]);
    expect(rootless.linux?.namespaces?.map((ns) => ns.type)).toEqual([
      'pid',
      'ipc',
      'uts',
      'mount',
      'user',
    ]);
    expect(Object.keys(rootless.linux!)[0]).toBe('uidMappings');
  });

  it('bind-mounts /sys, drops uid=/gid= options and cgroup resources', () => {
    const sys = rootless.mounts?.find((m) => m.destination === '/sys');
    expect(sys).toEqual({
      destination: '/sys',
      type: 'none',
      source: '/sys',
      options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'],
    });
    const devpts = rootless.mounts?.find((m) => m.destination === '/dev/pts');
    expect(devpts?.options).not.toContain('gid=5');
    expect(rootless.linux?.resources).toBeUndefined();
  });

  it('does not add a second user namespace', () => {
    const twice = toRootless(rootless, { uid: 1, gid: 1 });
    expect(twice.linux?.namespaces?.filter((ns) => ns.type === 'user')).toHaveLength(1);
  });

  it('is valid', () => {
    expect(() => parseConfig(renderSpec(rootless), { forCreate: true })).not.toThrow();
  });
});
