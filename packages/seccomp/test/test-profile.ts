// Test support: the containers stack's default seccomp profile (podman,
// buildah, CRI-O), as this machine installs it, resolved to the OCI
// `linux.seccomp` object a client would put in config.json.
//
// Debian's golang-github-containers-common (installed by scripts/setup)
// ships it as /usr/share/containers/seccomp.json, in containers/common's own
// profile format: an archMap instead of architectures, and rules that apply
// only to some architectures, capability sets or kernel versions
// (includes/excludes). profileToOci resolves those as podman does when it
// loads the profile for a container.

import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import type { LinuxSeccomp } from '@runc-ts/spec';

/** Where containers-common installs the default profile. */
export const CONTAINERS_PROFILE = '/usr/share/containers/seccomp.json';

/** The capabilities podman gives a container by default (containers.conf). */
export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_NET_BIND_SERVICE',
  'CAP_SETFCAP',
  'CAP_SETGID',
  'CAP_SETPCAP',
  'CAP_SETUID',
  'CAP_SYS_CHROOT',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_AUDIT_WRITE',
];

interface Filter {
  arches?: string[];
  caps?: string[];
  minKernel?: string;
}

interface SourceRule {
  name?: string;
  names?: string[];
  action: string;
  errnoRet?: number;
  args?: { index: number; value: number; valueTwo?: number; op: string }[] | null;
  includes?: Filter;
  excludes?: Filter;
}

/** A profile in containers/common's format (a superset of `linux.seccomp`). */
export interface SourceProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures?: string[] }[] | null;
  flags?: string[];
  syscalls?: SourceRule[] | null;
}

export interface Target {
  /** Go's name of the architecture the container runs on (amd64, arm64...). */
  arch: string;
  /** The container's bounding capability set. */
  capabilities: readonly string[];
  /** The running kernel's release, as uname -r prints it. */
  kernel: string;
}

/** libseccomp's name of the native architecture, for the archMap entry to pick. */
const SCMP_ARCH: Record<string, string> = {
  amd64: 'SCMP_ARCH_X86_64',
  arm64: 'SCMP_ARCH_AARCH64',
  mips64: 'SCMP_ARCH_MIPS64',
  mips64n32: 'SCMP_ARCH_MIPS64N32',
  mipsel64: 'SCMP_ARCH_MIPSEL64',
  mipsel64n32: 'SCMP_ARCH_MIPSEL64N32',
  ppc64le: 'SCMP_ARCH_PPC64LE',
  riscv64: 'SCMP_ARCH_RISCV64',
  s390x: 'SCMP_ARCH_S390X',
};

/** Go's architecture name for Node's. */
export function goArch(nodeArch: string = process.arch): string {
  const names: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm' };
  return names[nodeArch] ?? nodeArch;
}

/** major.minor of a kernel release ("6.1.0-28-amd64" -> [6, 1]). */
function kernelVersion(text: string): [number, number] {
  const match = /^(\d+)\.(\d+)/.exec(text);
  if (!match) throw new Error(`cannot read a kernel version from "${text}"`);
  return [Number(match[1]), Number(match[2])];
}

function kernelAtLeast(kernel: string, minimum: string): boolean {
  const [major, minor] = kernelVersion(kernel);
  const [wantMajor, wantMinor] = kernelVersion(minimum);
  return major > wantMajor || (major === wantMajor && minor >= wantMinor);
}

/** Whether a rule applies to the target, by its includes and excludes. */
function applies(rule: SourceRule, target: Target): boolean {
  const has = (cap: string) => target.capabilities.includes(cap);
  const { includes = {}, excludes = {} } = rule;
  if (excludes.arches?.includes(target.arch)) return false;
  if (excludes.caps?.some(has)) return false;
  if (excludes.minKernel && kernelAtLeast(target.kernel, excludes.minKernel)) return false;
  if (includes.arches?.length && !includes.arches.includes(target.arch)) return false;
  if (includes.caps?.length && !includes.caps.every(has)) return false;
  if (includes.minKernel && !kernelAtLeast(target.kernel, includes.minKernel)) return false;
  return true;
}

/** The OCI `linux.seccomp` object a containers-stack profile gives a container on `target`. */
export function profileToOci(source: SourceProfile, target: Target): LinuxSeccomp {
  if (source.architectures?.length && source.archMap?.length) {
    throw new Error('the profile has both architectures and archMap');
  }
  const result: LinuxSeccomp = {
    defaultAction: source.defaultAction as LinuxSeccomp['defaultAction'],
  };
  if (source.defaultErrnoRet !== undefined) result.defaultErrnoRet = source.defaultErrnoRet;
  const native = SCMP_ARCH[target.arch];
  const entry = source.archMap?.find((candidate) => candidate.architecture === native);
  const architectures = source.architectures?.length
    ? source.architectures
    : entry
      ? [entry.architecture, ...(entry.subArchitectures ?? [])]
      : [];
  if (architectures.length) {
    result.architectures = architectures as NonNullable<LinuxSeccomp['architectures']>;
  }
  if (source.flags?.length) result.flags = source.flags as LinuxSeccomp['flags'];
  const syscalls: NonNullable<LinuxSeccomp['syscalls']> = [];
  for (const rule of source.syscalls ?? []) {
    if (!applies(rule, target)) continue;
    if (rule.name && rule.names?.length) throw new Error('a rule has both name and names');
    const names = rule.name ? [rule.name] : (rule.names ?? []);
    if (names.length === 0) continue;
    const converted: NonNullable<LinuxSeccomp['syscalls']>[number] = {
      names,
      action: rule.action as LinuxSeccomp['defaultAction'],
    };
    if (rule.errnoRet !== undefined) converted.errnoRet = rule.errnoRet;
    if (rule.args?.length) {
      converted.args = rule.args.map(({ index, value, valueTwo, op }) => ({
        index,
        value,
        ...(valueTwo ? { valueTwo } : {}),
        op: op as NonNullable<typeof converted.args>[number]['op'],
      }));
    }
    syscalls.push(converted);
  }
  result.syscalls = syscalls;
  return result;
}

/** Why the installed profile cannot be read, or undefined when it can. */
export function containersProfileMissing(): string | undefined {
  return existsSync(CONTAINERS_PROFILE)
    ? undefined
    : `${CONTAINERS_PROFILE} is missing: apt-get install golang-github-containers-common (scripts/setup installs it)`;
}

/**
 * The installed default profile for a container with podman's default
 * capabilities on this machine's architecture and kernel. Throws, saying
 * what to install, when the profile is missing.
 */
export function containersDefaultProfile(): LinuxSeccomp {
  const missing = containersProfileMissing();
  if (missing) throw new Error(missing);
  const source = JSON.parse(readFileSync(CONTAINERS_PROFILE, 'utf8')) as SourceProfile;
  return profileToOci(source, {
    arch: goArch(),
    capabilities: DEFAULT_CAPABILITIES,
    kernel: release(),
  });
}
