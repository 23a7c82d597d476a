// A small interpreter for the subset of JSON Schema that zod's toJSONSchema
// emits for our schemas. It exists so the hot path (create/run/exec) can
// validate config.json without importing zod (~100 ms of CPU at start-up).

export interface JsonSchema {
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean' | 'null';
  format?: string;
  enum?: readonly unknown[];
  const?: unknown;
  pattern?: string;
  minLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  properties?: Record<string, JsonSchema>;
  required?: readonly string[];
  additionalProperties?: JsonSchema | boolean;
  propertyNames?: JsonSchema;
  items?: JsonSchema;
  anyOf?: readonly JsonSchema[];
}

export type JsonPath = readonly (string | number)[];

export interface SchemaIssue {
  /** Where the problem is, from the document root. */
  path: JsonPath;
  /** What was expected and what was found, e.g. `expected integer, got string "1g"`. */
  message: string;
  /** True when `path` names a property that is missing (its parent exists). */
  missing?: boolean;
}

const KNOWN_KEYWORDS = new Set([
  '$ref',
  '$defs',
  'type',
  'format',
  'enum',
  'const',
  'pattern',
  'minLength',
  'minimum',
  'maximum',
  'minItems',
  'properties',
  'required',
  'additionalProperties',
  'propertyNames',
  'items',
  'anyOf',
  'description',
]);

/** Throws if the schema uses a keyword this interpreter would silently skip. */
export function assertSupportedSchema(schema: JsonSchema, where = '#'): void {
  for (const [key, value] of Object.entries(schema)) {
    if (!KNOWN_KEYWORDS.has(key)) {
      throw new Error(`unsupported JSON-schema keyword "${key}" at ${where}`);
    }
    if (key === 'properties' || key === '$defs') {
      for (const [name, sub] of Object.entries(value as Record<string, JsonSchema>)) {
        assertSupportedSchema(sub, `${where}/${key}/${name}`);
      }
    } else if (key === 'items' || key === 'propertyNames') {
      assertSupportedSchema(value as JsonSchema, `${where}/${key}`);
    } else if (key === 'additionalProperties' && typeof value === 'object') {
      assertSupportedSchema(value as JsonSchema, `${where}/${key}`);
    } else if (key === 'anyOf') {
      (value as JsonSchema[]).forEach((sub, i) => {
        assertSupportedSchema(sub, `${where}/anyOf/${i}`);
      });
    }
  }
}

/** Validates `value` against `root`, returning every problem found. */
export function checkValue(root: JsonSchema, value: unknown): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  visit(root, root, value, [], issues);
  return issues;
}

function resolve(root: JsonSchema, schema: JsonSchema): JsonSchema {
  let current = schema;
  while (current.$ref !== undefined) {
    const name = current.$ref.replace(/^#\/\$defs\//, '');
    const target = root.$defs?.[name];
    if (target === undefined) throw new Error(`unresolved $ref ${current.$ref}`);
    current = target;
  }
  return current;
}

function visit(
  root: JsonSchema,
  schemaOrRef: JsonSchema,
  value: unknown,
  path: (string | number)[],
  issues: SchemaIssue[],
): void {
  const schema = resolve(root, schemaOrRef);
  if (schema.anyOf !== undefined) {
    const before = issues.length;
    for (const option of schema.anyOf) {
      const attempt: SchemaIssue[] = [];
      visit(root, option, value, path, attempt);
      if (attempt.length === 0) return;
    }
    if (issues.length === before) {
      issues.push({
        path: [...path],
        message: `matches none of the allowed forms, got ${describe(value)}`,
      });
    }
    return;
  }
  if (schema.type !== undefined && !hasType(value, schema.type)) {
    issues.push({
      path: [...path],
      message: `expected ${expectedType(schema)}, got ${describe(value)}`,
    });
    return;
  }
  if (schema.enum !== undefined && !schema.enum.includes(value)) {
    const allowed = schema.enum.map((v) => JSON.stringify(v)).join(', ');
    issues.push({ path: [...path], message: `expected one of ${allowed}, got ${describe(value)}` });
    return;
  }
  if (schema.const !== undefined && value !== schema.const) {
    issues.push({
      path: [...path],
      message: `expected ${JSON.stringify(schema.const)}, got ${describe(value)}`,
    });
    return;
  }
  if (typeof value === 'number') {
    checkNumber(schema, value, path, issues);
  } else if (typeof value === 'string') {
    checkString(schema, value, path, issues);
  } else if (Array.isArray(value)) {
    checkArray(root, schema, value, path, issues);
  } else if (value !== null && typeof value === 'object') {
    checkObject(root, schema, value as Record<string, unknown>, path, issues);
  }
}

function checkNumber(schema: JsonSchema, value: number, path: JsonPath, issues: SchemaIssue[]) {
  const tooSmall = schema.minimum !== undefined && value < schema.minimum;
  const tooLarge = schema.maximum !== undefined && value > schema.maximum;
  if (tooSmall || tooLarge) {
    issues.push({
      path: [...path],
      message: `expected ${rangeOf(schema)}, got ${describe(value)}`,
    });
  }
}

function checkString(schema: JsonSchema, value: string, path: JsonPath, issues: SchemaIssue[]) {
  if (schema.minLength !== undefined && value.length < schema.minLength) {
    issues.push({
      path: [...path],
      message: `expected at least ${schema.minLength} character(s), got ${describe(value)}`,
    });
  }
  if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) {
    issues.push({
      path: [...path],
      message: `expected a string matching /${schema.pattern}/, got ${describe(value)}`,
    });
  }
}

function checkArray(
  root: JsonSchema,
  schema: JsonSchema,
  value: unknown[],
  path: (string | number)[],
  issues: SchemaIssue[],
) {
  if (schema.minItems !== undefined && value.length < schema.minItems) {
    issues.push({
      path: [...path],
      message: `expected at least ${schema.minItems} item(s), got an empty array`,
    });
  }
  if (schema.items !== undefined) {
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      visit(root, schema.items, value[i], path, issues);
      path.pop();
    }
  }
}

function checkObject(
  root: JsonSchema,
  schema: JsonSchema,
  value: Record<string, unknown>,
  path: (string | number)[],
  issues: SchemaIssue[],
) {
  for (const name of schema.required ?? []) {
    if (!Object.hasOwn(value, name)) {
      issues.push({ path: [...path, name], message: 'required but missing', missing: true });
    }
  }
  const properties = schema.properties ?? {};
  for (const [key, child] of Object.entries(value)) {
    const known = properties[key];
    path.push(key);
    if (schema.propertyNames !== undefined) {
      const keyIssues: SchemaIssue[] = [];
      visit(root, schema.propertyNames, key, [], keyIssues);
      for (const keyIssue of keyIssues) {
        issues.push({ path: [...path], message: `invalid key: ${keyIssue.message}` });
      }
    }
    if (known !== undefined) {
      visit(root, known, child, path, issues);
    } else if (schema.additionalProperties === false) {
      issues.push({ path: [...path], message: 'unknown property' });
    } else if (typeof schema.additionalProperties === 'object') {
      visit(root, schema.additionalProperties, child, path, issues);
    }
    path.pop();
  }
}

function hasType(value: unknown, type: NonNullable<JsonSchema['type']>): boolean {
  switch (type) {
    case 'object':
      return value !== null && typeof value === 'object' && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'null':
      return value === null;
    default:
      return typeof value === type;
  }
}

function expectedType(schema: JsonSchema): string {
  if (schema.type === 'object') return 'an object';
  if (schema.type === 'array') return 'an array';
  return schema.type ?? 'a value';
}

// Exact bounds: the doubles in the schema print 2^64 as 18446744073709552000.
const WIDTHS: Record<string, string> = {
  int32: '-2147483648 to 2147483647',
  int64: '-9223372036854775808 to 9223372036854775807',
  uint16: '0 to 65535',
  uint32: '0 to 4294967295',
  uint64: '0 to 18446744073709551615',
};

function rangeOf(schema: JsonSchema): string {
  const format = schema.format ?? '';
  const exact = WIDTHS[format];
  if (exact !== undefined) return `${format} (${exact})`;
  const low = schema.minimum ?? '-inf';
  const high = schema.maximum ?? 'inf';
  return `${format || 'a number'} (${low} to ${high})`;
}

/** Renders a JSON value for an error message: its type and, if short, itself. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') return 'object';
  if (typeof value === 'string') {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return `string ${JSON.stringify(shown)}`;
  }
  if (typeof value === 'number') {
    return Number.isInteger(value) ? `integer ${value}` : `number ${value}`;
  }
  return `${typeof value} ${String(value)}`;
}

/** `linux.namespaces[0].type`, `annotations["com.example.key"]`. */
export function formatPath(path: JsonPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(part)) out += out === '' ? part : `.${part}`;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}
