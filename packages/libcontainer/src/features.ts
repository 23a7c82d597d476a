import { KNOWN_CAPABILITIES, MOUNT_OPTIONS_SUPPORTED } from '@runc-ts/namespaces';
import { type Features, OCI_VERSION } from '@runc-ts/spec';

export interface BuildInfo {
  version: string;
  commit: string;
}

/**
 * `runc features`: what this build implements, and nothing more. Each list
 * grows in the same change that makes the capability work; an empty list or
 * `enabled: false` means "not implemented yet", not "unknown".
 */
export function runtimeFeatures(build: BuildInfo): Features {
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: OCI_VERSION,
    // createContainer and startContainer hooks run inside the container and
    // are refused until the executor can run them.
    hooks: ['prestart', 'createRuntime', 'poststart', 'poststop'],
    mountOptions: [...MOUNT_OPTIONS_SUPPORTED],
    linux: {
      namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts'],
      capabilities: [...KNOWN_CAPABILITIES],
      cgroup: { v1: false, v2: false, systemd: false, systemdUser: false, rdma: false },
      seccomp: { enabled: false },
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: false } },
      netDevices: { enabled: false },
    },
    annotations: {
      'dev.runc-ts.version': build.version,
      'dev.runc-ts.commit': build.commit,
    },
    potentiallyUnsafeConfigAnnotations: [],
  };
}
