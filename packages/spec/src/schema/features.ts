import { z } from 'zod';
import {
  NamespaceTypeSchema,
  SeccompActionSchema,
  SeccompArchSchema,
  SeccompFlagSchema,
  SeccompOperatorSchema,
} from './config.js';
import { stringArray, stringMap } from './primitives.js';

const enabled = z.looseObject({ enabled: z.boolean().optional() });

export const LinuxFeaturesSchema = z.looseObject({
  namespaces: z.array(NamespaceTypeSchema).optional(),
  capabilities: z.array(z.string().regex(/^CAP_[A-Z_]+$/)).optional(),
  cgroup: z
    .looseObject({
      v1: z.boolean().optional(),
      v2: z.boolean().optional(),
      systemd: z.boolean().optional(),
      systemdUser: z.boolean().optional(),
      rdma: z.boolean().optional(),
    })
    .optional(),
  seccomp: z
    .looseObject({
      enabled: z.boolean().optional(),
      actions: z.array(SeccompActionSchema).optional(),
      operators: z.array(SeccompOperatorSchema).optional(),
      archs: z.array(SeccompArchSchema).optional(),
      knownFlags: z.array(SeccompFlagSchema).optional(),
      supportedFlags: z.array(SeccompFlagSchema).optional(),
    })
    .optional(),
  apparmor: enabled.optional(),
  selinux: enabled.optional(),
  intelRdt: enabled.optional(),
  mountExtensions: z.looseObject({ idmap: enabled.optional() }).optional(),
  netDevices: enabled.optional(),
});

/** features.json: what a runtime implements (`runc features`). */
export const FeaturesSchema = z.looseObject({
  ociVersionMin: z.string(),
  ociVersionMax: z.string(),
  hooks: stringArray.optional(),
  mountOptions: stringArray.optional(),
  annotations: stringMap.optional(),
  potentiallyUnsafeConfigAnnotations: stringArray.optional(),
  linux: LinuxFeaturesSchema.optional(),
});
