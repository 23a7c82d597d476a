// linux.intelRdt: the container's resctrl group (Intel RDT / AMD QoS). The
// group is a directory of the resctrl filesystem: `schemata` sets its cache
// and memory bandwidth allocation, `tasks` lists its processes, and
// `mon_groups/<id>` is a monitoring group inside it.
import { existsSync, mkdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Spec } from '@runc-ts/spec';
import { ContainerError } from './errors.js';

type IntelRdt = NonNullable<NonNullable<Spec['linux']>['intelRdt']>;

const FIELD = 'linux.intelRdt';

function rdtError(field: string, message: string, cause?: unknown): ContainerError {
  return new ContainerError('INTEL_RDT', `${FIELD}${field}: ${message}`, { cause });
}

/** The mount point of the resctrl filesystem in `mountinfo` (/proc/self/mountinfo), if any. */
export function findResctrlRoot(mountinfo: string): string | undefined {
  for (const line of mountinfo.split('\n')) {
    const [before, after] = line.split(' - ');
    if (after?.split(' ')[0] === 'resctrl') {
      return before
        ?.split(' ')[4]
        ?.replace(/\\(\d{3})/g, (_, octal: string) =>
          String.fromCharCode(Number.parseInt(octal, 8)),
        );
    }
  }
  return undefined;
}

function resctrlRoot(): string {
  let mountinfo = '';
  try {
    mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {}
  const root = findResctrlRoot(mountinfo);
  if (!root) {
    throw rdtError(
      '',
      'the resctrl filesystem is not mounted (no Intel RDT / AMD QoS here, or `mount -t resctrl resctrl /sys/fs/resctrl` not done)',
    );
  }
  return root;
}

/** `L3:0=fff;1=ff` lines as resource -> domain -> value; values normalized (hex masks, numbers). */
function parseSchemata(lines: readonly string[]): Map<string, Map<string, string>> {
  const result = new Map<string, Map<string, string>>();
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const resource = line.slice(0, colon).trim().toUpperCase();
    const domains = result.get(resource) ?? new Map<string, string>();
    for (const item of line.slice(colon + 1).split(';')) {
      const [domain, value] = item.split('=').map((part) => part.trim());
      if (!domain || value === undefined) continue;
      // cache masks are hex (leading zeros vary), bandwidths decimal
      const normalized = resource.startsWith('MB')
        ? String(Number(value))
        : /^[0-9a-f]+$/i.test(value)
          ? BigInt(`0x${value}`).toString(16)
          : value.toLowerCase();
      domains.set(domain, normalized);
    }
    result.set(resource, domains);
  }
  return result;
}

/** The resctrl group of one container: where it is, and what `delete` removes. */
export interface IntelRdtGroup {
  /** The CLOS directory. */
  path: string;
  /** The monitoring group (enableMonitoring), inside `path`. */
  monitorPath?: string;
  /** The CLOS directory is the container's own (no closID): delete removes it. */
  owned: boolean;
}

/** The group a config names, without touching anything (delete, exec). */
export function intelRdtGroup(rdt: IntelRdt, containerId: string, root: string): IntelRdtGroup {
  const closId = rdt.closID || undefined;
  const path = join(root, closId ?? containerId);
  return {
    path,
    monitorPath: rdt.enableMonitoring ? join(path, 'mon_groups', containerId) : undefined,
    owned: closId === undefined,
  };
}

/** The lines linux.intelRdt asks to be in `schemata`, in runc's order. */
export function schemataLines(rdt: IntelRdt): string[] {
  return [rdt.l3CacheSchema, rdt.memBwSchema, ...(rdt.schemata ?? [])]
    .flatMap((text) => (text ?? '').split('\n'))
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

function writeSchemata(root: string, group: string, lines: readonly string[]): void {
  try {
    writeFileSync(join(group, 'schemata'), `${lines.join('\n')}\n`);
  } catch (error) {
    // The kernel says why in info/last_cmd_status.
    let why = '';
    try {
      why = readFileSync(join(root, 'info', 'last_cmd_status'), 'utf8').trim();
    } catch {}
    throw rdtError(
      '',
      `writing ${JSON.stringify(lines.join('\n'))} to ${join(group, 'schemata')}: ${why || (error as Error).message}`,
      error,
    );
  }
}

/**
 * Checks linux.intelRdt against the resctrl filesystem at `root` (found in
 * mountinfo when not given) and makes the container's group: the CLOS
 * directory (the container's id without closID, else closID, which must
 * exist unless schemata are given; an existing one must already have the
 * schemata given), its schemata, and the monitoring group. Throws
 * ContainerError('INTEL_RDT') naming the field; undoes what it made.
 */
export function prepareIntelRdt(
  rdt: IntelRdt,
  containerId: string,
  root = resctrlRoot(),
): IntelRdtGroup {
  const closId = rdt.closID;
  if (closId !== undefined && closId !== '') {
    if (closId === '.' || closId === '..' || closId.includes('/') || closId === 'info') {
      throw rdtError('.closID', `${JSON.stringify(closId)} is not a resctrl group name`);
    }
    if (closId === 'mon_groups' || closId === 'mon_data') {
      throw rdtError('.closID', `${JSON.stringify(closId)} is not a resctrl group name`);
    }
  }
  const info = join(root, 'info');
  if (rdt.l3CacheSchema && !existsSync(join(info, 'L3')) && !existsSync(join(info, 'L3CODE'))) {
    throw rdtError('.l3CacheSchema', 'given, but this host has no L3 cache allocation (CAT)');
  }
  if (rdt.memBwSchema && !existsSync(join(info, 'MB'))) {
    throw rdtError('.memBwSchema', 'given, but this host has no memory bandwidth allocation (MBA)');
  }
  if (rdt.enableMonitoring && !existsSync(join(info, 'L3_MON'))) {
    throw rdtError('.enableMonitoring', 'set, but this host has no resctrl monitoring (L3_MON)');
  }
  const group = intelRdtGroup(rdt, containerId, root);
  const lines = schemataLines(rdt);
  const exists = existsSync(group.path);
  if (exists && !statSync(group.path).isDirectory()) {
    throw rdtError('', `${group.path} is not a directory`);
  }
  let made = false;
  try {
    if (!group.owned && exists && lines.length > 0) {
      // A shared CLOS keeps its allocation: it must be the one asked for.
      const current = parseSchemata(readFileSync(join(group.path, 'schemata'), 'utf8').split('\n'));
      for (const [resource, domains] of parseSchemata(lines)) {
        for (const [domain, value] of domains) {
          const have = current.get(resource)?.get(domain);
          if (have !== value) {
            throw rdtError(
              '.closID',
              `CLOS ${JSON.stringify(rdt.closID)} exists with ${resource}:${domain}=${have ?? '(none)'}, not ${value} as the config asks`,
            );
          }
        }
      }
    } else if (!group.owned && !exists && lines.length === 0) {
      throw rdtError(
        '.closID',
        `CLOS ${JSON.stringify(rdt.closID)} does not exist (${group.path}) and the config gives no schemata to make it`,
      );
    } else {
      if (!exists) {
        mkdirSync(group.path);
        made = true;
      }
      if (lines.length > 0) writeSchemata(root, group.path, lines);
    }
    if (group.monitorPath && !existsSync(group.monitorPath)) {
      mkdirSync(join(group.path, 'mon_groups'), { recursive: true });
      mkdirSync(group.monitorPath);
    }
  } catch (error) {
    if (made) removeGroupDir(group.path);
    if (error instanceof ContainerError) throw error;
    throw rdtError('', `${group.path}: ${(error as Error).message}`, error);
  }
  // A CLOS named by closID stays at delete (it may be shared), as with runc;
  // only a failed create removes one it made.
  return { ...group, owned: group.owned || made };
}

/** Puts `pid` in the group (and its monitoring group): its `tasks` files. */
export function joinIntelRdt(group: IntelRdtGroup, pid: number): void {
  for (const dir of [group.path, group.monitorPath]) {
    if (!dir) continue;
    try {
      writeFileSync(join(dir, 'tasks'), `${pid}\n`, { flag: 'a' });
    } catch (error) {
      throw rdtError('', `adding pid ${pid} to ${join(dir, 'tasks')}: ${(error as Error).message}`);
    }
  }
}

function removeGroupDir(path: string): void {
  try {
    rmdirSync(path);
  } catch {}
}

/** `delete`: the monitoring group, and the CLOS directory when it is the container's own. */
export function destroyIntelRdt(group: IntelRdtGroup): void {
  if (group.monitorPath) removeGroupDir(group.monitorPath);
  if (group.owned) removeGroupDir(group.path);
}

/** The group of a stored container, for exec and delete (resctrl mounted), or undefined. */
export function storedIntelRdtGroup(spec: Spec, containerId: string): IntelRdtGroup | undefined {
  const rdt = spec.linux?.intelRdt;
  if (rdt === undefined) return undefined;
  let mountinfo = '';
  try {
    mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {}
  const root = findResctrlRoot(mountinfo);
  return root === undefined ? undefined : intelRdtGroup(rdt, containerId, root);
}
