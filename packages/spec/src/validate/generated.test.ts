import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as generated from '../generated/json-schemas.js';
import { assertSupportedSchema } from './check.js';
import { renderValidatorModule } from './render.js';

describe('generated JSON schemas', () => {
  it('are up to date with the zod schemas (run `pnpm --filter @runc-ts/spec generate`)', () => {
    const committed = readFileSync(
      new URL('../generated/json-schemas.ts', import.meta.url),
      'utf8',
    );
    expect(committed).toBe(renderValidatorModule());
  });

  it.each(Object.entries(generated))(
    '%s uses only keywords the validator implements',
    (_n, schema) => {
      expect(() => assertSupportedSchema(schema)).not.toThrow();
    },
  );
});
