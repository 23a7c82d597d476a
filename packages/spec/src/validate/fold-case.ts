// runc decodes config.json with Go's encoding/json, which matches a key to a
// field case-insensitively when no field has exactly that name: runc applies
// `"linux": {"resources": {"CPU": {"Cpus": "0"}}}` as `cpu.cpus`. Without the
// same folding runc-ts would take such a key for an unknown one and ignore
// it, silently running the container without the setting.

import type { JsonSchema } from './check.js';

/**
 * Renames, in place, every object key that names a schema property in another
 * case to the property's own name, as Go's decoder reads it. Keys of maps
 * (`annotations`, `sysctl`, `unified`...) are left alone: only their values
 * are visited. When a document spells one property twice, the later spelling
 * wins, as in Go.
 */
export function foldKeyCase(root: JsonSchema, value: unknown): void {
  fold(root, root, value, 0);
}

// Deeper than any config the schemas describe: a guard, not a limit.
const MAX_DEPTH = 64;

function resolve(root: JsonSchema, schema: JsonSchema): JsonSchema {
  let current = schema;
  while (current.$ref !== undefined) {
    const target = root.$defs?.[current.$ref.replace(/^#\/\$defs\//, '')];
    if (target === undefined) return {};
    current = target;
  }
  return current;
}

function fold(root: JsonSchema, schemaOrRef: JsonSchema, value: unknown, depth: number): void {
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return;
  const schema = resolve(root, schemaOrRef);
  if (schema.anyOf !== undefined) {
    // The forms that can hold this value: an object's or an array's.
    const wanted = Array.isArray(value) ? 'array' : 'object';
    for (const option of schema.anyOf) {
      const resolved = resolve(root, option);
      if (resolved.type === wanted || (wanted === 'object' && resolved.properties)) {
        fold(root, resolved, value, depth + 1);
        return;
      }
    }
    return;
  }
  if (Array.isArray(value)) {
    if (schema.items === undefined) return;
    for (const item of value) fold(root, schema.items, item, depth + 1);
    return;
  }
  const object = value as Record<string, unknown>;
  const properties = schema.properties;
  if (properties !== undefined) renameKeys(object, properties);
  for (const [key, child] of Object.entries(object)) {
    const sub =
      properties?.[key] ??
      (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
    if (sub !== undefined) fold(root, sub, child, depth + 1);
  }
}

function renameKeys(object: Record<string, unknown>, properties: Record<string, JsonSchema>): void {
  const keys = Object.keys(object);
  if (keys.every((key) => Object.hasOwn(properties, key))) return;
  const byFolded = new Map<string, string>();
  for (const name of Object.keys(properties)) byFolded.set(name.toLowerCase(), name);
  const entries: [string, unknown][] = [];
  let changed = false;
  for (const key of keys) {
    const name = Object.hasOwn(properties, key) ? key : byFolded.get(key.toLowerCase());
    if (name !== undefined && name !== key) changed = true;
    entries.push([name ?? key, object[key]]);
  }
  if (!changed) return;
  for (const key of keys) delete object[key];
  // In document order, so that the later of two spellings wins.
  for (const [key, child] of entries) object[key] = child;
}
