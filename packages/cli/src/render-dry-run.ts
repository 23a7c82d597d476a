import type { DryRunHook, DryRunReport, JsonDbusValue } from '@runc-ts/libcontainer';

/** A value as text: as it is when plain, JSON-quoted when empty or with spaces or control characters. */
function show(value: string): string {
  return /^[\x21-\x7e]+$/.test(value) ? value : JSON.stringify(value);
}

function list(values: readonly string[]): string {
  return values.length > 0 ? values.map(show).join(' ') : '-';
}

function flags(values: readonly string[]): string {
  return values.length > 0 ? values.join(',') : '-';
}

function dbusValue(value: JsonDbusValue): string {
  return Array.isArray(value) ? `[${value.map(dbusValue).join(' ')}]` : show(String(value));
}

function section(title: string, lines: readonly string[]): string[] {
  return lines.length > 0 ? ['', `${title}:`, ...lines.map((line) => `  ${line}`)] : [];
}

function hookLine(hook: DryRunHook): string {
  const timeout = hook.timeout !== undefined ? ` timeout=${hook.timeout}s` : '';
  const env = hook.env.length > 0 ? ` env=${list(hook.env)}` : '';
  return `${show(hook.path)} args=${list(hook.args)}${env}${timeout}`;
}

function mountLines(report: DryRunReport): string[] {
  return report.mounts.map((mount) => {
    const parts = [show(mount.destination), mount.kind === 'mount' ? mount.type : mount.kind];
    parts.push(`source=${show(mount.source)}`);
    parts.push(`flags=${flags(mount.flags)}`);
    if (mount.data) parts.push(`data=${show(mount.data)}`);
    if (mount.remount) {
      parts.push(`remount=${flags(mount.remount.set)}`);
      if (mount.remount.clear.length > 0) parts.push(`clear=${flags(mount.remount.clear)}`);
    }
    if (mount.propagation.length > 0) parts.push(`propagation=${flags(mount.propagation)}`);
    if (mount.recursive) {
      parts.push(`recursive-set=${flags(mount.recursive.set)}`);
      parts.push(`recursive-clear=${flags(mount.recursive.clear)}`);
    }
    if (mount.idmap) {
      parts.push(`uidmap=${show(mount.idmap.uidMappings)} gidmap=${show(mount.idmap.gidMappings)}`);
      if (mount.idmap.userns) parts.push(`userns=${show(mount.idmap.userns)}`);
    }
    if (mount.copyUp) parts.push('tmpcopyup');
    return parts.join(' ');
  });
}

function processLines(report: DryRunReport): string[] {
  const process = report.process;
  const lines = [`args: ${list(process.args)}`, `env: ${list(process.env)}`];
  if (process.cwd !== undefined) lines.push(`cwd: ${show(process.cwd)}`);
  if (process.user) {
    const { uid, gid, additionalGids } = process.user;
    lines.push(`user: uid=${uid} gid=${gid} additionalGids=${additionalGids.join(',') || '-'}`);
  }
  lines.push(`terminal: ${process.terminal}`);
  if (process.capabilities) {
    for (const [set, names] of Object.entries(process.capabilities)) {
      lines.push(`capabilities.${set}: ${list(names)}`);
    }
  }
  for (const rlimit of process.rlimits) {
    lines.push(`rlimit: ${rlimit.type} soft=${rlimit.soft} hard=${rlimit.hard}`);
  }
  lines.push(`noNewPrivileges: ${process.noNewPrivileges}`);
  if (process.apparmorProfile) lines.push(`apparmorProfile: ${show(process.apparmorProfile)}`);
  if (process.selinuxLabel) lines.push(`selinuxLabel: ${show(process.selinuxLabel)}`);
  if (process.umask !== undefined) lines.push(`umask: ${process.umask}`);
  if (process.oomScoreAdj !== undefined) lines.push(`oomScoreAdj: ${process.oomScoreAdj}`);
  return lines;
}

function cgroupLines(report: DryRunReport): string[] {
  const cgroup = report.cgroup;
  const lines = [`driver: ${cgroup.driver}${cgroup.rootless ? ' (rootless)' : ''}`];
  for (const [key, path] of Object.entries(cgroup.paths)) {
    lines.push(`path: ${key === '' ? 'cgroup2' : key}=${show(path)}`);
  }
  if (cgroup.systemd) {
    const { unit, slice, assumedVersion, properties } = cgroup.systemd;
    lines.push(
      `systemd unit: ${unit} in ${slice} (properties as systemd ${assumedVersion}+ takes them; systemd is not asked)`,
    );
    for (const property of properties) {
      lines.push(`  ${property.name}=${dbusValue(property.value)}`);
    }
  }
  // With systemd, the fs driver's part comes once the unit is started.
  if (cgroup.systemd && cgroup.actions.length > 0) lines.push('then, through the fs driver:');
  for (const action of cgroup.actions) {
    if (action.action === 'mkdir') lines.push(`mkdir ${show(action.path)}`);
    else if (action.action === 'write')
      lines.push(`write ${show(action.path)} = ${show(action.value)}`);
    else
      lines.push(`attach device filter ${show(action.path)} (${action.instructions} instructions)`);
  }
  return lines;
}

function seccompLines(report: DryRunReport): string[] {
  const seccomp = report.seccomp;
  if (!seccomp) return ['none'];
  const errno = seccomp.defaultErrnoRet !== undefined ? ` (errno ${seccomp.defaultErrnoRet})` : '';
  const lines = [
    `defaultAction: ${seccomp.defaultAction}${errno}`,
    `rules: ${seccomp.rules} (${seccomp.syscalls} syscall names)`,
    `architectures: ${list(seccomp.architectures)}`,
    `flags: ${list(seccomp.flags)}`,
    `filter: ${seccomp.instructions} BPF instructions, seccomp(2) flags ${seccomp.filterFlags}, loaded ${seccomp.loaded}`,
  ];
  if (seccomp.listenerPath) lines.push(`listenerPath: ${show(seccomp.listenerPath)}`);
  return lines;
}

function hookLines(report: DryRunReport): string[] {
  const lines: string[] = [];
  for (const [kind, hooks] of Object.entries(report.hooks)) {
    const where = kind === 'createContainer' || kind === 'startContainer' ? 'container' : 'host';
    for (const hook of hooks as DryRunHook[]) lines.push(`${kind} (${where}): ${hookLine(hook)}`);
  }
  return lines;
}

function renderText(report: DryRunReport): string {
  const options = report.options;
  const optionWords = [
    options.consoleSocket !== undefined ? `console-socket=${show(options.consoleSocket)}` : '',
    options.pidfdSocket !== undefined ? `pidfd-socket=${show(options.pidfdSocket)}` : '',
    options.pidFile !== undefined ? `pid-file=${show(options.pidFile)}` : '',
    options.noPivot ? 'no-pivot' : '',
    options.noNewKeyring ? 'no-new-keyring' : '',
    `preserve-fds=${options.preserveFds}`,
    options.detach ? 'detach' : '',
    options.keep ? 'keep' : '',
  ].filter(Boolean);
  const lines = [
    `dry run of runc ${report.command} ${show(report.id)}: nothing was created`,
    `bundle: ${show(report.bundle)}`,
    `rootfs: ${show(report.rootfs)}${report.readonlyRootfs ? ' (read-only)' : ''} propagation=${flags(report.rootfsPropagation)} via ${report.rootChange}`,
    `state: ${show(report.stateDir)} (not created)`,
    `options: ${optionWords.join(' ')}`,
  ];
  if (report.hostname !== undefined) lines.push(`hostname: ${show(report.hostname)}`);
  if (report.domainname !== undefined) lines.push(`domainname: ${show(report.domainname)}`);
  lines.push(
    ...section(
      'namespaces',
      report.namespaces.map((ns) =>
        ns.action === 'new' ? `new ${ns.type}` : `join ${ns.type} ${show(ns.path ?? '')}`,
      ),
    ),
    ...section('mounts', mountLines(report)),
    ...section(
      'devices',
      report.devices.map((device) => {
        if (device.kind === 'node') {
          return `${show(device.path)} ${device.type} ${device.major}:${device.minor} mode=${device.mode} uid=${device.uid} gid=${device.gid}`;
        }
        if (device.kind === 'bind')
          return `${show(device.path)} bind source=${show(device.source)}`;
        return `${show(device.path)} console`;
      }),
    ),
    ...section(
      'symlinks',
      report.symlinks.map((link) => `${show(link.path)} -> ${show(link.target)}`),
    ),
    ...section('maskedPaths', report.maskedPaths.map(show)),
    ...section('readonlyPaths', report.readonlyPaths.map(show)),
    ...section(
      'sysctl',
      Object.entries(report.sysctl).map(([key, value]) => `${key}=${show(value)}`),
    ),
    ...section('process', processLines(report)),
    ...section('cgroup', cgroupLines(report)),
    ...section('seccomp', seccompLines(report)),
    ...section('hooks', hookLines(report)),
  );
  if (report.intelRdt !== undefined) {
    lines.push(...section('intelRdt', [JSON.stringify(report.intelRdt)]));
  }
  lines.push(...section('warnings', report.warnings), ...section('executor ops', report.ops));
  return `${lines.join('\n')}\n`;
}

/** `runc create --dry-run` output: readable text, or the report as JSON (indented, one document). */
export function renderDryRun(report: DryRunReport, format: 'text' | 'json'): string {
  if (format === 'json') return `${JSON.stringify(report, null, 2)}\n`;
  return renderText(report);
}
