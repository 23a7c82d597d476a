import { CgroupError } from '../errors.js';
import type { DbusValue, UnitProperty } from './properties.js';
import { UINT64_MAX } from './properties.js';

/** Annotations of this form set extra properties on the container's unit (runc's docs/systemd.md). */
export const SYSTEMD_PROPERTY_ANNOTATION = 'org.systemd.property.';

/**
 * The unit properties asked for by `org.systemd.property.<Name>`
 * annotations, whose values are in GVariant text format ("uint64 123",
 * "'inactive-or-failed'", "true", "['a', 'b']"). As runc does, a
 * "<Name>Sec" property in seconds becomes "<Name>USec" in microseconds.
 * Other annotations are ignored; a malformed one is an error naming it.
 */
export function unitPropertiesFromAnnotations(
  annotations: Record<string, string> | undefined,
): UnitProperty[] {
  const properties: UnitProperty[] = [];
  for (const [key, text] of Object.entries(annotations ?? {})) {
    if (!key.startsWith(SYSTEMD_PROPERTY_ANNOTATION)) continue;
    const field = `annotations[${JSON.stringify(key)}]`;
    const name = key.slice(SYSTEMD_PROPERTY_ANNOTATION.length);
    if (!/^[A-Z][A-Za-z0-9]*$/.test(name)) {
      throw new CgroupError(
        'INVALID',
        `${field}: ${JSON.stringify(name)} is not a systemd property name (CamelCase letters and digits)`,
      );
    }
    let parsed: { signature: string; value: DbusValue };
    try {
      parsed = parseGVariant(text);
    } catch (error) {
      throw new CgroupError(
        'INVALID',
        `${field}: ${JSON.stringify(text)} is not a GVariant text value: ${(error as Error).message}`,
      );
    }
    if (name.endsWith('Sec') && !name.endsWith('USec')) {
      properties.push({
        name: `${name.slice(0, -'Sec'.length)}USec`,
        signature: 't',
        value: secondsToMicroseconds(parsed, field),
      });
    } else {
      properties.push({ name, ...parsed });
    }
  }
  return properties;
}

function secondsToMicroseconds(
  parsed: { signature: string; value: DbusValue },
  field: string,
): bigint {
  const { signature, value } = parsed;
  let micros: bigint | undefined;
  if ('ynqiuxt'.includes(signature) && signature.length === 1) {
    micros = BigInt(value as number | bigint) * 1_000_000n;
  } else if (signature === 'd') {
    const seconds = value as number;
    if (Number.isFinite(seconds)) micros = BigInt(Math.round(seconds * 1e6));
  }
  if (micros === undefined || micros < 0n || micros > UINT64_MAX) {
    throw new CgroupError(
      'INVALID',
      `${field}: a "...Sec" property takes a non-negative number of seconds, got ${signature === 's' ? JSON.stringify(value) : String(value)}`,
    );
  }
  return micros;
}

const TYPE_KEYWORDS: Record<string, string> = {
  boolean: 'b',
  byte: 'y',
  int16: 'n',
  uint16: 'q',
  int32: 'i',
  uint32: 'u',
  int64: 'x',
  uint64: 't',
  double: 'd',
  string: 's',
  objectpath: 'o',
  signature: 'g',
};

const INTEGER_RANGES: Record<string, [bigint, bigint]> = {
  y: [0n, 255n],
  n: [-(2n ** 15n), 2n ** 15n - 1n],
  q: [0n, 2n ** 16n - 1n],
  i: [-(2n ** 31n), 2n ** 31n - 1n],
  u: [0n, 2n ** 32n - 1n],
  x: [-(2n ** 63n), 2n ** 63n - 1n],
  t: [0n, UINT64_MAX],
};

/**
 * Parses the part of the GVariant text format unit properties use:
 * booleans, numbers, strings, arrays and tuples, with type keywords
 * ("uint64 5") and annotations ("@as []"). Untyped integers are int32 and
 * numbers with a point or exponent double, as in GLib.
 */
export function parseGVariant(text: string): { signature: string; value: DbusValue } {
  const parser = new GVariantParser(text);
  const result = parser.value(undefined);
  parser.skipSpace();
  if (!parser.atEnd()) throw new Error(`unexpected ${JSON.stringify(parser.rest())}`);
  return result;
}

class GVariantParser {
  private pos = 0;
  constructor(private readonly text: string) {}

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  rest(): string {
    return this.text.slice(this.pos);
  }

  skipSpace(): void {
    while (!this.atEnd() && /\s/.test(this.text[this.pos] ?? '')) this.pos++;
  }

  private peek(): string {
    return this.text[this.pos] ?? '';
  }

  private expect(char: string): void {
    this.skipSpace();
    if (this.peek() !== char)
      throw new Error(`expected "${char}" at ${JSON.stringify(this.rest())}`);
    this.pos++;
  }

  /** One value; `expected` is the signature it must have, when the context knows it. */
  value(expected: string | undefined): { signature: string; value: DbusValue } {
    this.skipSpace();
    if (this.peek() === '@') {
      this.pos++;
      const signature = this.signature();
      if (expected !== undefined && expected !== signature) {
        throw new Error(`@${signature} where ${expected} is expected`);
      }
      return this.value(signature);
    }
    const word = /^[a-z][a-z0-9]*/.exec(this.rest())?.[0];
    if (word !== undefined && TYPE_KEYWORDS[word] !== undefined) {
      const signature = TYPE_KEYWORDS[word];
      if (expected !== undefined && expected !== signature) {
        throw new Error(`${word} where ${expected} is expected`);
      }
      this.pos += word.length;
      return this.value(signature);
    }
    const char = this.peek();
    if (char === '[') return this.array(expected);
    if (char === '(') return this.tuple(expected);
    if (char === "'" || char === '"') return this.typed(expected, 's', this.string());
    if (word === 'true' || word === 'false') {
      this.pos += word.length;
      return this.typed(expected, 'b', word === 'true');
    }
    const number = /^[-+]?(0x[0-9a-fA-F]+|\d+(\.\d*)?([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?)/.exec(
      this.rest(),
    )?.[0];
    if (number !== undefined) {
      this.pos += number.length;
      return this.number(number, expected);
    }
    throw new Error(`cannot read a value at ${JSON.stringify(this.rest()) || 'the end'}`);
  }

  private typed(
    expected: string | undefined,
    actual: string,
    value: DbusValue,
  ): { signature: string; value: DbusValue } {
    if (expected === undefined || expected === actual) return { signature: actual, value };
    // A string literal can be given any string-like type.
    if (actual === 's' && (expected === 'o' || expected === 'g'))
      return { signature: expected, value };
    throw new Error(`a ${describe(actual)} where ${describe(expected)} is expected`);
  }

  private number(
    text: string,
    expected: string | undefined,
  ): { signature: string; value: DbusValue } {
    const isFloat = !/^[-+]?0x/i.test(text) && /[.eE]/.test(text);
    const signature = expected ?? (isFloat ? 'd' : 'i');
    if (signature === 'd') {
      const value = Number(text);
      if (!Number.isFinite(value)) throw new Error(`${text} is not a finite double`);
      return { signature, value };
    }
    const range = INTEGER_RANGES[signature];
    if (range === undefined) throw new Error(`a number where ${describe(signature)} is expected`);
    if (isFloat) throw new Error(`${text} is not an integer`);
    const negative = text.startsWith('-');
    const digits = text.replace(/^[-+]/, '');
    const magnitude = BigInt(digits);
    const value = negative ? -magnitude : magnitude;
    if (value < range[0] || value > range[1]) {
      throw new Error(`${text} is out of range for ${describe(signature)}`);
    }
    return { signature, value: signature === 't' || signature === 'x' ? value : Number(value) };
  }

  private string(): string {
    const quote = this.peek();
    this.pos++;
    let out = '';
    for (;;) {
      if (this.atEnd()) throw new Error('unterminated string');
      const char = this.text[this.pos++] ?? '';
      if (char === quote) return out;
      if (char !== '\\') {
        out += char;
        continue;
      }
      const escaped = this.text[this.pos++] ?? '';
      const simple: Record<string, string> = {
        n: '\n',
        t: '\t',
        r: '\r',
        b: '\b',
        f: '\f',
        v: '\v',
      };
      if (simple[escaped] !== undefined) out += simple[escaped];
      else if (escaped === 'u' || escaped === 'U') {
        const length = escaped === 'u' ? 4 : 8;
        const hex = this.text.slice(this.pos, this.pos + length);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== length) throw new Error('bad \\u escape');
        out += String.fromCodePoint(Number.parseInt(hex, 16));
        this.pos += length;
      } else out += escaped;
    }
  }

  private array(expected: string | undefined): { signature: string; value: DbusValue } {
    if (expected !== undefined && !expected.startsWith('a')) {
      throw new Error(`an array where ${describe(expected)} is expected`);
    }
    let element = expected?.slice(1);
    this.pos++;
    const values: DbusValue[] = [];
    this.skipSpace();
    if (this.peek() === ']') {
      this.pos++;
      if (element === undefined) throw new Error('an empty array needs a type, e.g. "@as []"');
      return { signature: `a${element}`, value: [] };
    }
    for (;;) {
      const item = this.value(element);
      element ??= item.signature;
      values.push(item.value);
      this.skipSpace();
      if (this.peek() === ',') {
        this.pos++;
        continue;
      }
      this.expect(']');
      return { signature: `a${element}`, value: values };
    }
  }

  private tuple(expected: string | undefined): { signature: string; value: DbusValue } {
    const members = expected === undefined ? undefined : splitTuple(expected);
    this.pos++;
    const values: DbusValue[] = [];
    const signatures: string[] = [];
    this.skipSpace();
    while (this.peek() !== ')') {
      const item = this.value(members?.[values.length]);
      values.push(item.value);
      signatures.push(item.signature);
      this.skipSpace();
      if (this.peek() === ',') this.pos++;
      else if (this.peek() !== ')')
        throw new Error(`expected "," or ")" at ${JSON.stringify(this.rest())}`);
      this.skipSpace();
    }
    this.pos++;
    if (members !== undefined && members.length !== values.length) {
      throw new Error(`a tuple of ${values.length} where ${expected} is expected`);
    }
    return { signature: `(${signatures.join('')})`, value: values };
  }

  /** A type after "@": basic types, arrays and tuples. */
  signature(): string {
    const start = this.pos;
    this.completeType();
    return this.text.slice(start, this.pos);
  }

  private completeType(): void {
    const char = this.peek();
    this.pos++;
    if ('bynqiuxtdsog'.includes(char) && char !== '') return;
    if (char === 'a') {
      this.completeType();
      return;
    }
    if (char === '(') {
      while (this.peek() !== ')') {
        if (this.atEnd()) throw new Error('unterminated tuple type');
        this.completeType();
      }
      this.pos++;
      return;
    }
    throw new Error(
      `unsupported type ${JSON.stringify(char)} (basic types, arrays and tuples are)`,
    );
  }
}

function splitTuple(signature: string): string[] {
  if (!signature.startsWith('(') || !signature.endsWith(')')) {
    throw new Error(`a tuple where ${describe(signature)} is expected`);
  }
  const members: string[] = [];
  const inner = signature.slice(1, -1);
  let depth = 0;
  let start = 0;
  for (let i = 0; i < inner.length; i++) {
    const char = inner[i];
    if (char === '(') depth++;
    else if (char === ')') depth--;
    if (depth === 0 && char !== 'a') {
      members.push(inner.slice(start, i + 1));
      start = i + 1;
    }
  }
  return members;
}

function describe(signature: string): string {
  const names: Record<string, string> = {
    b: 'boolean',
    y: 'byte',
    n: 'int16',
    q: 'uint16',
    i: 'int32',
    u: 'uint32',
    x: 'int64',
    t: 'uint64',
    d: 'double',
    s: 'string',
    o: 'objectpath',
    g: 'signature',
  };
  return names[signature] ?? `"${signature}"`;
}
