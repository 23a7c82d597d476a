// What the property tests of @runc-ts/spec (parsers) and @runc-ts/namespaces
// (planner) share: the valid configs they start from and the JSON walking
// their mutations use. Test-only: outside src, so never in the published types.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exampleSpec, renderSpec, toRootless } from '../src/index.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Path = (string | number)[];

/**
 * Valid config.json documents: every good fixture (testdata/config/good, by
 * name), runc's template and its rootless form.
 */
export function configSeeds(): Json[] {
  const good = join(import.meta.dirname, '../testdata/config/good');
  return [
    ...readdirSync(good)
      .filter((name) => name.endsWith('.json'))
      .sort()
      .map((name) => JSON.parse(readFileSync(join(good, name), 'utf8')) as Json),
    JSON.parse(renderSpec(exampleSpec())) as Json,
    JSON.parse(
      renderSpec(
        toRootless(exampleSpec(), {
          uid: 1000,
          gid: 1000,
          subUids: [{ start: 100000, count: 65536 }],
          subGids: [{ start: 100000, count: 65536 }],
        } as never),
      ),
    ) as Json,
  ];
}

/** The `process` of each seed that has one. */
export function processSeeds(seeds: readonly Json[]): Json[] {
  return seeds
    .map((config) => (config as { process?: Json }).process)
    .filter((process): process is Json => process !== undefined);
}

/** Every path in a JSON value, the root included. */
export function paths(value: Json, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) paths(item, [...at, i], out);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) paths(item, [...at, key], out);
  }
  return out;
}

/** The node at `path`. */
export function get(value: Json, path: Path): Json {
  return path.reduce<Json>((node, key) => (node as Record<string | number, Json>)[key]!, value);
}
