// Position lookups in JSON text, used only after JSON.parse or validation has
// failed, to point at line:column. Not on the success path.

import type { JsonPath } from './check.js';

export interface TextPosition {
  line: number;
  column: number;
}

export interface JsonSyntaxProblem extends TextPosition {
  message: string;
}

class Scanner {
  index = 0;
  constructor(readonly text: string) {}

  position(at = this.index): TextPosition {
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < at && i < this.text.length; i++) {
      if (this.text.charCodeAt(i) === 10) {
        line++;
        lineStart = i + 1;
      }
    }
    return { line, column: at - lineStart + 1 };
  }

  fail(message: string, at = this.index): never {
    throw Object.assign(new Error(message), { at });
  }

  skipSpace(): void {
    while (this.index < this.text.length && ' \t\n\r'.includes(this.text[this.index]!)) {
      this.index++;
    }
  }

  peek(): string | undefined {
    return this.text[this.index];
  }

  found(): string {
    const c = this.peek();
    return c === undefined ? 'end of input' : JSON.stringify(c);
  }
}

type Visitor = (path: JsonPath, start: number) => boolean;

/** Parses a value; calls `visit` at each value start; stops early if it returns true. */
function parseValue(s: Scanner, path: (string | number)[], visit: Visitor): boolean {
  s.skipSpace();
  if (visit(path, s.index)) return true;
  const c = s.peek();
  if (c === '{') {
    s.index++;
    s.skipSpace();
    if (s.peek() === '}') {
      s.index++;
      return false;
    }
    for (;;) {
      s.skipSpace();
      if (s.peek() !== '"') s.fail(`expected a string key, found ${s.found()}`);
      const key = parseString(s);
      s.skipSpace();
      if (s.peek() !== ':') s.fail(`expected ":" after key, found ${s.found()}`);
      s.index++;
      path.push(key);
      if (parseValue(s, path, visit)) return true;
      path.pop();
      s.skipSpace();
      const next = s.peek();
      s.index++;
      if (next === '}') return false;
      if (next !== ',')
        s.fail(
          `expected "," or "}" in object, found ${next === undefined ? 'end of input' : JSON.stringify(next)}`,
          s.index - 1,
        );
    }
  }
  if (c === '[') {
    s.index++;
    s.skipSpace();
    if (s.peek() === ']') {
      s.index++;
      return false;
    }
    for (let i = 0; ; i++) {
      path.push(i);
      if (parseValue(s, path, visit)) return true;
      path.pop();
      s.skipSpace();
      const next = s.peek();
      s.index++;
      if (next === ']') return false;
      if (next !== ',')
        s.fail(
          `expected "," or "]" in array, found ${next === undefined ? 'end of input' : JSON.stringify(next)}`,
          s.index - 1,
        );
    }
  }
  if (c === '"') {
    parseString(s);
    return false;
  }
  const literal = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(
    s.text.slice(s.index, s.index + 400),
  );
  if (literal === null) s.fail(`unexpected ${s.found()}, expected a JSON value`);
  s.index += literal[0].length;
  return false;
}

function parseString(s: Scanner): string {
  const start = s.index;
  s.index++;
  while (s.index < s.text.length) {
    const c = s.text[s.index]!;
    if (c === '"') {
      s.index++;
      return JSON.parse(s.text.slice(start, s.index)) as string;
    }
    if (c === '\\') s.index++;
    else if (c.charCodeAt(0) < 0x20) s.fail('control character in string');
    s.index++;
  }
  return s.fail('unterminated string', start);
}

/** Where and why `text` is not valid JSON; undefined if it is. */
export function findSyntaxProblem(text: string): JsonSyntaxProblem | undefined {
  const s = new Scanner(text);
  try {
    parseValue(s, [], () => false);
    s.skipSpace();
    if (s.index < text.length) s.fail(`unexpected ${s.found()} after the top-level value`);
    return undefined;
  } catch (error) {
    const at = (error as { at?: number }).at ?? s.index;
    return { ...s.position(at), message: (error as Error).message };
  }
}

/**
 * Line and column of the value at `path`. For a missing property, pass its
 * parent's path. Undefined if the text does not contain the path.
 */
export function findPosition(text: string, path: JsonPath): TextPosition | undefined {
  const s = new Scanner(text);
  let found: number | undefined;
  const wanted = JSON.stringify(path);
  try {
    parseValue(s, [], (current, start) => {
      if (current.length === path.length && JSON.stringify(current) === wanted) {
        found = start;
        return true;
      }
      return false;
    });
  } catch {
    // Positions are best effort; the caller still has the path.
  }
  return found === undefined ? undefined : s.position(found);
}
