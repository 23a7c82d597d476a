// Build-time step: turns the zod schemas into plain JSON-schema data that the
// hot path validates with a small interpreter (src/validate/check.ts), so
// `create` never imports zod. Run `pnpm --filter @runc-ts/spec generate`;
// a unit test fails when the committed output is stale.
import { writeFileSync } from 'node:fs';
import { renderValidatorModule } from '../src/validate/render.js';

const target = new URL('../src/generated/json-schemas.ts', import.meta.url);
writeFileSync(target, renderValidatorModule());
console.log(`wrote ${target.pathname}`);
