import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  get,
  type Json,
  type Path,
  paths,
  processSeeds as processesOf,
  configSeeds as seeds,
} from '../test/fuzz-seeds.js';
import { ConfigSchema, ProcessSchema, parseConfig, parseProcess, SpecError } from './index.js';

// Property tests of the config.json and process.json parsers (issue 12,
// "Fuzzing"): valid documents are mutated (values, types, removed and
// duplicated keys, huge numbers, NULs and newlines, deep nesting, broken
// text) and every outcome must be a parsed document or a SpecError with a
// stable code whose message names the file and the JSON path. Anything else
// (TypeError, RangeError, a stack overflow) fails the property; fast-check
// prints the seed and the shrunk counterexample. Seeded and bounded so the
// unit suite stays fast.
// FUZZ_SEED / FUZZ_RUNS override both for a longer local run.
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed12);
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

const configSeeds = seeds();
const processSeeds = processesOf(configSeeds);

/** A copy of `value` with the node at `path` replaced (undefined: removed). */
function put(value: Json, path: Path, replacement: Json | undefined): Json | undefined {
  if (path.length === 0) return replacement;
  const copy = structuredClone(value) as Record<string | number, Json>;
  const parent = get(copy as Json, path.slice(0, -1)) as Record<string | number, Json>;
  const key = path[path.length - 1]!;
  if (replacement !== undefined) parent[key] = replacement;
  else if (Array.isArray(parent)) parent.splice(key as number, 1);
  else delete parent[key];
  return copy as Json;
}

function deep(depth: number, leaf: Json, asArray: boolean): Json {
  let node = leaf;
  for (let i = 0; i < depth; i++) node = asArray ? [node] : { a: node };
  return node;
}

const nasty = fc.oneof(
  fc.constantFrom<Json>(
    -1,
    0,
    -0,
    0.5,
    2 ** 31,
    2 ** 32,
    2 ** 53 + 2,
    2 ** 63,
    2 ** 64,
    -(2 ** 63) - 4096,
    1e300,
    -1e300,
    '',
    '\0',
    'a\0b',
    '\n',
    '/a\nb',
    '../../etc',
    '\u{1F600}',
    '\uD800',
    true,
    false,
    null,
    [],
    {},
    [null],
    { '': null },
  ),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.integer(),
  fc.double(),
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
  fc
    .tuple(fc.integer({ min: 1, max: 3000 }), fc.boolean(), fc.constantFrom<Json>(1, 'x', null))
    .map(([depth, asArray, leaf]) => deep(depth, leaf, asArray)),
  fc.string({ maxLength: 4 }).map((s) => s.repeat(20000)),
);

interface Mutated {
  text: string;
  /** The path the mutation touched, in the parser's display form ('' for text-level). */
  touched: string;
  /** The document before the mutation. */
  seed: Json;
}

/** Display form of a path, as SpecError issues show it (see formatPath). */
function display(path: Path): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(part)) out += out === '' ? part : `.${part}`;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}

/** A mutation of one of `seeds`: a value, a key, or the text itself. */
function mutated(seeds: readonly Json[]): fc.Arbitrary<Mutated> {
  return fc
    .tuple(fc.constantFrom(...seeds), fc.nat(), fc.nat(), nasty, fc.nat({ max: 7 }))
    .map(([seed, pick, where, replacement, how]) => ({
      ...mutate(seed, pick, where, replacement, how),
      seed,
    }));
}

function mutate(
  seed: Json,
  pick: number,
  where: number,
  replacement: Json,
  how: number,
): Omit<Mutated, 'seed'> {
  const all = paths(seed);
  const path = all[pick % all.length]!;
  const node = get(seed, path);
  const text = JSON.stringify(seed, null, 2);
  switch (how) {
    case 0:
    case 1:
      return { text: JSON.stringify(put(seed, path, replacement)), touched: display(path) };
    case 2: {
      // remove the key or item
      const result = put(seed, path, undefined);
      return {
        text: result === undefined ? '' : JSON.stringify(result),
        touched: display(path),
      };
    }
    case 3: {
      // change the type, keeping the content where it can be kept
      const flipped: Json =
        typeof node === 'string'
          ? Number.isNaN(Number(node))
            ? [node]
            : Number(node)
          : typeof node === 'number'
            ? String(node)
            : Array.isArray(node)
              ? Object.fromEntries(node.map((item, i) => [String(i), item]))
              : node !== null && typeof node === 'object'
                ? Object.values(node)
                : String(node);
      return { text: JSON.stringify(put(seed, path, flipped)), touched: display(path) };
    }
    case 4: {
      // duplicate a key in the text (JSON.parse keeps the last)
      const key = path[path.length - 1];
      if (typeof key !== 'string') {
        const list = get(seed, path.slice(0, -1));
        const item = Array.isArray(list) ? [...list, node] : node;
        return {
          text: JSON.stringify(put(seed, path.slice(0, -1), item)),
          touched: display(path.slice(0, -1)),
        };
      }
      const needle = `${JSON.stringify(key)}: `;
      const at = text.indexOf(needle);
      if (at < 0) return { text, touched: '' };
      const dup = `${needle}${JSON.stringify(replacement)},\n`;
      return { text: text.slice(0, at) + dup + text.slice(at), touched: '' };
    }
    case 5:
      // truncate the text
      return { text: text.slice(0, where % (text.length + 1)), touched: '' };
    case 6: {
      // splice a character into the text
      const at = where % (text.length + 1);
      const chars = '{}[],:"\\\0\n0-e.tn ';
      return {
        text: text.slice(0, at) + chars[pick % chars.length] + text.slice(at),
        touched: '',
      };
    }
    default:
      // an unterminated deep nesting in the text
      return { text: `${'['.repeat(1 + (where % 200000))}`, touched: '' };
  }
}

/**
 * Runs `parse`; passes if it returns, or throws a SpecError whose code is
 * stable and whose message names `source` and every issue's path. Returns the
 * outcome for further checks.
 */
function outcome<T>(parse: () => T, source: string): { value?: T; error?: SpecError } {
  try {
    return { value: parse() };
  } catch (error) {
    if (!(error instanceof SpecError)) throw error;
    expect(['INVALID_JSON', 'INVALID_DOCUMENT']).toContain(error.code);
    expect(error.source).toBe(source);
    expect(error.issues.length).toBeGreaterThan(0);
    expect(error.message.startsWith(source)).toBe(true);
    for (const issue of error.issues.slice(0, 20)) {
      expect(typeof issue.path).toBe('string');
      expect(issue.message.length).toBeGreaterThan(0);
      if (issue.path !== '') expect(error.message).toContain(`${issue.path}: `);
    }
    return { error };
  }
}

/** A value-level mutation at P can only be reported at P, inside P, or above P (missing, anyOf). */
function related(issuePath: string, touched: string): boolean {
  return issuePath.startsWith(touched) || touched.startsWith(issuePath);
}

const params = { seed: SEED, numRuns: RUNS };
// Generous: the machine is shared; a default run takes about 2 s.
const TIMEOUT = 60_000;

describe('config.json parsing under mutation', () => {
  it(
    'ends in a Spec or a SpecError naming the path, and agrees with zod',
    () => {
      fc.assert(
        fc.property(mutated(configSeeds), fc.boolean(), ({ text, touched, seed }, forCreate) => {
          const result = outcome(
            () => parseConfig(text, { source: 'config.json', forCreate }),
            'config.json',
          );
          if (result.value !== undefined) {
            expect(result.value).toEqual(JSON.parse(text));
          }
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            expect(result.error?.code).toBe('INVALID_JSON');
            return;
          }
          expect(result.error?.code).not.toBe('INVALID_JSON');
          if (!forCreate) {
            expect(result.error === undefined).toBe(ConfigSchema.safeParse(parsed).success);
          }
          const seedValid = outcome(
            () => parseConfig(JSON.stringify(seed), { forCreate }),
            'config.json',
          ).value;
          if (result.error && touched !== '' && seedValid) {
            expect(result.error.issues.some((issue) => related(issue.path, touched))).toBe(true);
          }
        }),
        params,
      );
    },
    TIMEOUT,
  );

  it(
    'reports a syntax error with its line and column',
    () => {
      fc.assert(
        fc.property(mutated(configSeeds), ({ text }) => {
          const { error } = outcome(() => parseConfig(text), 'config.json');
          if (error?.code === 'INVALID_JSON') {
            expect(error.issues[0]!.line).toBeGreaterThan(0);
            expect(error.message).toMatch(/^config\.json:\d+:\d+: invalid JSON: /);
          }
        }),
        { ...params, numRuns: 100 },
      );
    },
    TIMEOUT,
  );
});

describe('process.json (runc exec --process) parsing under mutation', () => {
  it(
    'ends in a Process or a SpecError naming the path, and agrees with zod',
    () => {
      fc.assert(
        fc.property(mutated(processSeeds), ({ text, touched }) => {
          const result = outcome(
            () => parseProcess(text, { source: 'process.json' }),
            'process.json',
          );
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            expect(result.error?.code).toBe('INVALID_JSON');
            return;
          }
          expect(result.error === undefined).toBe(ProcessSchema.safeParse(parsed).success);
          if (result.value !== undefined) expect(result.value).toEqual(parsed);
          if (result.error && touched !== '') {
            expect(result.error.issues.some((issue) => related(issue.path, touched))).toBe(true);
          }
        }),
        params,
      );
    },
    TIMEOUT,
  );
});
