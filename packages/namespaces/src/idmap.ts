// Id-mapped bind mounts: mounts[].uidMappings/gidMappings and the `idmap` /
// `ridmap` options (runtime-spec 1.2) -> the values of a MOUNT_IDMAPPED op.
//
// The spec's rules, and runc's where the spec leaves room:
// - `idmap`/`ridmap` make the mount id-mapped; `ridmap` also maps the
//   submounts an `rbind` brings along (mount_setattr AT_RECURSIVE).
// - Mappings without either option: an id-mapped mount all the same, not
//   recursive (runc; the spec says the option SHOULD be given).
// - An option without mappings: the container's own user namespace mapping
//   (linux.uidMappings/gidMappings, or the joined namespace's); without a
//   user namespace that is an error.
// - uidMappings and gidMappings come together, only on bind mounts, and not
//   in rootless containers: mount_setattr(MOUNT_ATTR_IDMAP) needs
//   CAP_SYS_ADMIN in the user namespace owning the source's filesystem,
//   which an unprivileged runtime never has over a host filesystem.
// A mapping {containerID, hostID, size} is a line of the mapping user
// namespace's uid_map/gid_map: a file owned by containerID on disk shows as
// hostID (a host id; the container's own user namespace then maps it again).

import type { IdMapping, Mount, Spec } from '@runc-ts/spec';
import { PlanError } from './errors.js';
import type { NamespacePlan } from './namespaces.js';

/** MOUNT_IDMAPPED flag: clone the source's submounts too (`rbind`). */
export const IDMAP_CLONE_RECURSIVE = 1;
/** MOUNT_IDMAPPED flag: id-map the submounts as well (`ridmap`). */
export const IDMAP_RECURSIVE = 2;

/** The kernel's limit of lines in a uid_map/gid_map. */
const MAX_MAPPING_LINES = 340;
/** An id range must end below 2^32 - 1 (that id is invalid). */
const MAX_ID_END = 0xffffffff;

/** The container's user namespace, as id-mapped mounts without mappings use it. */
export type ContainerUserns =
  | { kind: 'none' }
  | { kind: 'created'; uidMappings: readonly IdMapping[]; gidMappings: readonly IdMapping[] }
  | { kind: 'joined'; path: string };

/** The MOUNT_IDMAPPED values after source and destination. */
export interface MountIdmap {
  /** IDMAP_CLONE_RECURSIVE | IDMAP_RECURSIVE */
  flags: number;
  /** uid_map text ("<containerID> <hostID> <size>\n" lines); empty with `usernsPath`. */
  uidMap: string;
  gidMap: string;
  /** A user namespace to take the mapping from; empty with maps. */
  usernsPath: string;
}

/** The user namespace the container creates or joins, if any. */
export function containerUserns(spec: Spec, ns: NamespacePlan): ContainerUserns {
  if (ns.creates('user')) {
    return {
      kind: 'created',
      uidMappings: spec.linux?.uidMappings ?? [],
      gidMappings: spec.linux?.gidMappings ?? [],
    };
  }
  const joined = ns.joined.find((j) => j.type === 'user');
  return joined ? { kind: 'joined', path: joined.path } : { kind: 'none' };
}

export interface IdmapContext {
  userns: ContainerUserns;
  rootless: boolean;
}

/** uid_map/gid_map text of validated mappings. */
export function mappingText(mappings: readonly IdMapping[]): string {
  return mappings.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

function checkMappings(mappings: readonly IdMapping[], field: string): void {
  if (mappings.length === 0) {
    throw new PlanError('MOUNT_INVALID', field, 'must list at least one mapping');
  }
  if (mappings.length > MAX_MAPPING_LINES) {
    throw new PlanError(
      'MOUNT_INVALID',
      field,
      `${mappings.length} mappings: the kernel takes at most ${MAX_MAPPING_LINES}`,
    );
  }
  mappings.forEach((m, i) => {
    const where = `${field}[${i}]`;
    if (m.size < 1) throw new PlanError('MOUNT_INVALID', `${where}.size`, 'must be at least 1');
    for (const key of ['containerID', 'hostID'] as const) {
      if (m[key] + m.size > MAX_ID_END) {
        throw new PlanError(
          'MOUNT_INVALID',
          where,
          `${key} ${m[key]} + size ${m.size} overflows: ids end at ${MAX_ID_END - 1}`,
        );
      }
    }
  });
  // The kernel refuses overlapping ranges on either side.
  for (const key of ['containerID', 'hostID'] as const) {
    const ranges = mappings
      .map((m, i) => ({ start: m[key], end: m[key] + m.size, i }))
      .sort((a, b) => a.start - b.start);
    for (let k = 1; k < ranges.length; k++) {
      const prev = ranges[k - 1];
      const cur = ranges[k];
      if (prev && cur && cur.start < prev.end) {
        const [a, b] = [prev.i, cur.i].sort((x, y) => x - y);
        throw new PlanError(
          'MOUNT_INVALID',
          `${field}[${b}]`,
          `its ${key} range overlaps the one of ${field}[${a}]`,
        );
      }
    }
  }
}

/**
 * The id-mapping of a mounts[] entry, or undefined when it is a plain mount.
 * `isBind`: the entry is a bind mount; `recursiveBind`: it is an rbind.
 * Throws PlanError naming the field for the cases above.
 */
export function mountIdmap(
  mount: Mount,
  where: string,
  isBind: boolean,
  recursiveBind: boolean,
  ic: IdmapContext,
): MountIdmap | undefined {
  const options = mount.options ?? [];
  const optionIndex = Math.max(options.lastIndexOf('idmap'), options.lastIndexOf('ridmap'));
  const hasUid = mount.uidMappings !== undefined;
  const hasGid = mount.gidMappings !== undefined;
  if (optionIndex < 0 && !hasUid && !hasGid) return undefined;

  // The field a general complaint names: the option when given, else the mappings.
  const field =
    optionIndex >= 0
      ? `${where}.options[${optionIndex}]`
      : `${where}.${hasUid ? 'uidMappings' : 'gidMappings'}`;
  if (!isBind) {
    throw new PlanError(
      'MOUNT_INVALID',
      field,
      'id-mapped mounts are only supported for bind mounts (options bind or rbind)',
    );
  }
  if (ic.rootless) {
    throw new PlanError(
      'MOUNT_INVALID',
      field,
      'id-mapped mounts are not supported in rootless containers: mount_setattr(MOUNT_ATTR_IDMAP) needs CAP_SYS_ADMIN over the source filesystem',
    );
  }
  const recursive = options[optionIndex] === 'ridmap';
  const flags = (recursiveBind ? IDMAP_CLONE_RECURSIVE : 0) | (recursive ? IDMAP_RECURSIVE : 0);

  if (hasUid || hasGid) {
    if (!hasUid || !hasGid) {
      const missing = hasUid ? 'gidMappings' : 'uidMappings';
      throw new PlanError(
        'MOUNT_INVALID',
        `${where}.${missing}`,
        'an id-mapped mount needs both uidMappings and gidMappings',
      );
    }
    const uid = mount.uidMappings ?? [];
    const gid = mount.gidMappings ?? [];
    checkMappings(uid, `${where}.uidMappings`);
    checkMappings(gid, `${where}.gidMappings`);
    return { flags, uidMap: mappingText(uid), gidMap: mappingText(gid), usernsPath: '' };
  }

  // The option alone: the container's user namespace mapping.
  switch (ic.userns.kind) {
    case 'created':
      return {
        flags,
        uidMap: mappingText(ic.userns.uidMappings),
        gidMap: mappingText(ic.userns.gidMappings),
        usernsPath: '',
      };
    case 'joined':
      return { flags, uidMap: '', gidMap: '', usernsPath: ic.userns.path };
    case 'none':
      throw new PlanError(
        'MOUNT_INVALID',
        field,
        `"${options[optionIndex]}" without uidMappings and gidMappings takes the container's user namespace mapping, but the container has no user namespace`,
      );
  }
}
