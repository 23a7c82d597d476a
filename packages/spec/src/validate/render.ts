import { z } from 'zod';
import { ConfigSchema, ProcessSchema, ResourcesSchema } from '../schema/config.js';
import { FeaturesSchema } from '../schema/features.js';
import { StateSchema } from '../schema/state.js';

/** The documents the hot path validates, by the export name they get. */
const documents = {
  configJsonSchema: ConfigSchema,
  processJsonSchema: ProcessSchema,
  stateJsonSchema: StateSchema,
  featuresJsonSchema: FeaturesSchema,
  // `runc update --resources FILE`
  resourcesJsonSchema: ResourcesSchema,
} as const;

export function toJsonSchema(schema: z.ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { reused: 'ref', unrepresentable: 'throw' }) as Record<
    string,
    unknown
  >;
  delete json.$schema;
  return json;
}

/** Source text of src/generated/json-schemas.ts. */
export function renderValidatorModule(): string {
  const lines = [
    '// Generated from the zod schemas in src/schema by `pnpm --filter @runc-ts/spec generate`.',
    '// Do not edit: src/validate/generated.test.ts fails when this file is stale.',
    "import type { JsonSchema } from '../validate/check.js';",
    '',
  ];
  for (const [name, schema] of Object.entries(documents)) {
    lines.push(
      `export const ${name}: JsonSchema = ${JSON.stringify(toJsonSchema(schema), null, 1)};`,
      '',
    );
  }
  return lines.join('\n');
}
