// linux.namespaces -> clone flags and the list of namespaces to join.

import type { IdMapping, NamespaceType, Spec } from '@runc-ts/spec';
import { PlanError } from './errors.js';

export const CLONE_NEWTIME = 0x80;
export const CLONE_NEWNS = 0x20000;
export const CLONE_NEWCGROUP = 0x02000000;
export const CLONE_NEWUTS = 0x04000000;
export const CLONE_NEWIPC = 0x08000000;
export const CLONE_NEWUSER = 0x10000000;
export const CLONE_NEWPID = 0x20000000;
export const CLONE_NEWNET = 0x40000000;

/** The CLONE_NEW* flag (also setns(2)'s nstype) of each namespace type. */
export const NAMESPACE_FLAGS: Readonly<Record<NamespaceType, number>> = {
  mount: CLONE_NEWNS,
  uts: CLONE_NEWUTS,
  ipc: CLONE_NEWIPC,
  user: CLONE_NEWUSER,
  pid: CLONE_NEWPID,
  network: CLONE_NEWNET,
  cgroup: CLONE_NEWCGROUP,
  time: CLONE_NEWTIME,
};

/** A namespace joined with setns(2). */
export interface JoinedNamespace {
  type: NamespaceType;
  flag: number;
  path: string;
}

export interface NamespacePlan {
  /** Types created with unshare(2), in config order. */
  created: NamespaceType[];
  /** Namespaces to join, in the order to join them (see orderJoins). */
  joined: JoinedNamespace[];
  /** OR of the CLONE_NEW* flags of `created`. */
  createFlags: number;
  /** The type is present (created or joined). */
  has(type: NamespaceType): boolean;
  /** The type is created (present without a path). */
  creates(type: NamespaceType): boolean;
}

const isKnownType = (type: string): type is NamespaceType => Object.hasOwn(NAMESPACE_FLAGS, type);

const nonEmpty = (mappings: readonly IdMapping[] | undefined): boolean =>
  mappings !== undefined && mappings.length > 0;

/**
 * The order JOIN_NAMESPACES gets them in: the user namespace first, the
 * mount namespace last, the rest in config order. The executor opens every
 * path before joining any, joins the others with the runtime's rights,
 * then the user namespace, then those that needed it (see native/PROTOCOL.md).
 */
function orderJoins(joined: JoinedNamespace[]): JoinedNamespace[] {
  const rank = (type: NamespaceType) => (type === 'user' ? 0 : type === 'mount' ? 2 : 1);
  return joined
    .map((ns, index) => ({ ns, index }))
    .sort((a, b) => rank(a.ns.type) - rank(b.ns.type) || a.index - b.index)
    .map(({ ns }) => ns);
}

/**
 * Validates linux.namespaces against the rest of linux.* and returns what to
 * create and join. A namespace with a `path` is joined, one without is
 * created.
 */
export function planNamespaces(spec: Spec): NamespacePlan {
  const linux = spec.linux ?? {};
  const entries = linux.namespaces ?? [];
  const seen = new Map<string, number>();
  const created: NamespaceType[] = [];
  const joined: JoinedNamespace[] = [];
  entries.forEach((ns, i) => {
    const where = `linux.namespaces[${i}]`;
    const type = ns.type as string;
    if (!isKnownType(type)) {
      throw new PlanError('NAMESPACE_INVALID', `${where}.type`, `unknown namespace type "${type}"`);
    }
    const first = seen.get(type);
    if (first !== undefined) {
      throw new PlanError(
        'NAMESPACE_INVALID',
        where,
        `duplicate namespace type "${type}" (first at linux.namespaces[${first}])`,
      );
    }
    seen.set(type, i);
    if (ns.path === undefined) {
      created.push(type);
    } else {
      if (ns.path === '' || !ns.path.startsWith('/')) {
        throw new PlanError(
          'NAMESPACE_INVALID',
          `${where}.path`,
          `namespace path ${JSON.stringify(ns.path)} must be an absolute path`,
        );
      }
      joined.push({ type, flag: NAMESPACE_FLAGS[type], path: ns.path });
    }
  });

  const hasMappings = linux.uidMappings !== undefined || linux.gidMappings !== undefined;
  const userIndex = seen.get('user');
  if (userIndex === undefined) {
    if (hasMappings) {
      const field = linux.uidMappings !== undefined ? 'linux.uidMappings' : 'linux.gidMappings';
      throw new PlanError(
        'NAMESPACE_INVALID',
        field,
        'user namespace mappings are given but no user namespace is in linux.namespaces',
      );
    }
  } else if (created.includes('user')) {
    if (!nonEmpty(linux.uidMappings) || !nonEmpty(linux.gidMappings)) {
      const missing = nonEmpty(linux.uidMappings) ? 'gidMappings' : 'uidMappings';
      throw new PlanError(
        'NAMESPACE_INVALID',
        `linux.${missing}`,
        `a new user namespace (linux.namespaces[${userIndex}]) needs both linux.uidMappings and linux.gidMappings`,
      );
    }
  }
  // A user namespace joined by path may come with mappings: runc requires
  // them there (they describe the joined namespace), so such configs exist.

  if (linux.timeOffsets !== undefined && !created.includes('time')) {
    throw new PlanError(
      'NAMESPACE_INVALID',
      'linux.timeOffsets',
      'time offsets are given but no new time namespace is in linux.namespaces',
    );
  }

  const createFlags = created.reduce((flags, type) => flags | NAMESPACE_FLAGS[type], 0);
  return {
    created,
    joined: orderJoins(joined),
    createFlags,
    has: (type) => seen.has(type),
    creates: (type) => created.includes(type),
  };
}
