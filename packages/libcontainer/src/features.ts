import { KNOWN_CAPABILITIES, MOUNT_OPTIONS_SUPPORTED } from '@runc-ts/namespaces';
import { seccompFeatures } from '@runc-ts/seccomp';
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
  // What this host's kernel and libseccomp support (loads libseccomp).
  const { libseccompVersion, ...seccomp } = seccompFeatures();
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: OCI_VERSION,
    // createContainer and startContainer run inside the container (executor).
    hooks: [
      'prestart',
      'createRuntime',
      'createContainer',
      'startContainer',
      'poststart',
      'poststop',
    ],
    mountOptions: [...MOUNT_OPTIONS_SUPPORTED],
    linux: {
      namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts'],
      capabilities: [...KNOWN_CAPABILITIES],
      // systemdUser: a user's systemd over its private socket or the session
      // bus (integration/systemd/rootless.test.ts, a real user manager).
      cgroup: { v1: true, v2: true, systemd: true, systemdUser: true, rdma: true },
      seccomp,
      apparmor: { enabled: false },
      selinux: { enabled: false },
      // resctrl groups (intelrdt.ts); a host without resctrl gets a clear error
      intelRdt: { enabled: true },
      // id-mapped bind mounts (idmap/ridmap, mounts[].uidMappings); like runc,
      // the two options are reported here, not in mountOptions.
      mountExtensions: { idmap: { enabled: true } },
      // moved by the executor over rtnetlink, and back at delete
      netDevices: { enabled: true },
    },
    annotations: {
      'dev.runc-ts.version': build.version,
      'dev.runc-ts.commit': build.commit,
      // runc's annotation for the libseccomp it uses
      ...(libseccompVersion ? { 'io.github.seccomp.libseccomp.version': libseccompVersion } : {}),
    },
    potentiallyUnsafeConfigAnnotations: [],
  };
}
