// bun-ffi.ts as the compiled `runc` has it (scripts/compile.ts resolves
// libc.ts's import of bun-ffi.js here): bun:ffi as a static import, which
// Bun loads for a fraction of what its require costs. Never imported by
// the Node build or the tests.
// @ts-expect-error: bun:ffi exists only under Bun, whose types are not a dependency.
import * as ffi from 'bun:ffi';
import type { BunFfi } from './bun-ffi.js';

export function bunFfi(): BunFfi {
  return ffi as unknown as BunFfi;
}
