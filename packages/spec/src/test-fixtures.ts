import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// Tests read the shared fixtures beside the checkout (../shared), or where
// RUNC_TS_SHARED points. Missing fixtures fail the run: CI must not skip them.
const repoRoot = resolve(fileURLToPath(import.meta.url), '../../../..');
const shared = process.env.RUNC_TS_SHARED ?? resolve(repoRoot, '../shared');

export const runtimeSpecFixtures = resolve(shared, 'fixtures/runtime-spec');

if (!existsSync(runtimeSpecFixtures)) {
  throw new Error(
    `runtime-spec fixtures not found at ${runtimeSpecFixtures}: check out ../shared or set RUNC_TS_SHARED`,
  );
}
