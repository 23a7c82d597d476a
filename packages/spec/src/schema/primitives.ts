import { z } from 'zod';

/**
 * Integer schema for a named fixed-width range. zod's own `int()` stops at
 * 2^53, but the spec's int64/uint64 fields (memory limits, hugepage limits,
 * seccomp argument values) legitimately go beyond it, so integrality is a
 * refinement, and the JSON-schema view is patched to say "integer" with the
 * width as its `format` (the fast validator names it in errors).
 */
export function integerIn(min: number, max: number, format: string) {
  return z
    .number()
    .min(min)
    .max(max)
    .refine(Number.isInteger, { message: 'expected integer' })
    .meta({ type: 'integer', format });
}

// 2^63-1 and 2^64-1 are not doubles; JSON.parse rounds them to 2^63 and 2^64,
// so those are the bounds that accept every in-range document.
export const int32 = integerIn(-(2 ** 31), 2 ** 31 - 1, 'int32');
export const int64 = integerIn(-(2 ** 63), 2 ** 63, 'int64');
export const uint16 = integerIn(0, 2 ** 16 - 1, 'uint16');
export const uint32 = integerIn(0, 2 ** 32 - 1, 'uint32');
export const uint64 = integerIn(0, 2 ** 64, 'uint64');
/** A JSON integer with no declared width (process.oomScoreAdj). */
export const integer = z
  .number()
  .refine(Number.isInteger, { message: 'expected integer' })
  .meta({ type: 'integer' });
export const positiveInteger = integerIn(1, Number.MAX_SAFE_INTEGER, 'positive integer');

/** Permission bits of a file, in decimal (0..0o777). */
export const fileMode = integerIn(0, 511, 'file mode (0 to 511, decimal)');

export const stringArray = z.array(z.string());

/** JSON object of string values with non-empty keys (annotations, sysctl, unified). */
export const stringMap = z.record(z.string().min(1), z.string());
