import type { Spec } from '@runc-ts/spec';

/**
 * The deliberate differences between `runc spec` of runc-ts and of the
 * reference runc 1.1.5 installed here, applied to runc's output so the rest can
 * be compared field by field. docs/spec-conformance.md explains each one.
 */
export function applyDocumentedDifferences(reference: Spec): Spec {
  const spec = structuredClone(reference);
  // 1. We implement runtime-spec 1.3.0; runc 1.1.5 writes 1.0.2-dev.
  spec.ociVersion = '1.3.0';
  // 2. No ambient capabilities (runc >= 1.2 dropped them from its template).
  delete spec.process?.capabilities?.ambient;
  // 3. /sys/devices/virtual/tpm is masked (as in current runc templates).
  spec.linux?.maskedPaths?.push('/sys/devices/virtual/tpm');
  return spec;
}
