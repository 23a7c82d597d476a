import { type DocumentIssue, SpecError } from './errors.js';
import {
  configJsonSchema,
  featuresJsonSchema,
  processJsonSchema,
  resourcesJsonSchema,
  stateJsonSchema,
} from './generated/json-schemas.js';
import type { Features, LinuxResources, Process, Spec, State } from './types.js';
import { checkValue, formatPath, type JsonSchema, type SchemaIssue } from './validate/check.js';
import { foldKeyCase } from './validate/fold-case.js';
import { findPosition, findSyntaxProblem } from './validate/locate.js';

export interface ParseOptions {
  /** Name used in messages; defaults to the document's usual file name. */
  source?: string;
}

export interface ConfigParseOptions extends ParseOptions {
  /**
   * Also apply what the spec requires of a config that is going to be
   * created and started: a `process` with at least one argument and an
   * absolute `cwd`.
   */
  forCreate?: boolean;
}

/** JSON.parse with a located error (line:column) when the text is not JSON. */
export function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const problem = findSyntaxProblem(text);
    const issue: DocumentIssue = problem
      ? {
          path: '',
          message: `invalid JSON: ${problem.message}`,
          line: problem.line,
          column: problem.column,
        }
      : { path: '', message: `invalid JSON: ${(error as Error).message}` };
    throw new SpecError('INVALID_JSON', source, [issue]);
  }
}

/** As many issues as a SpecError message lists (errors.ts). */
const MAX_LOCATED = 20;

function validate<T>(
  schema: JsonSchema,
  value: unknown,
  source: string,
  text: string | undefined,
  extra: (value: T) => SchemaIssue[] = () => [],
): T {
  foldKeyCase(schema, value);
  let issues = checkValue(schema, value);
  if (issues.length === 0) issues = extra(value as T);
  if (issues.length > 0) {
    throw new SpecError(
      'INVALID_DOCUMENT',
      source,
      // Each lookup rescans the text: locate only the issues the message lists,
      // or a document with thousands of bad values takes minutes to reject.
      issues.map((issue, i) => locate(issue, i < MAX_LOCATED ? text : undefined)),
    );
  }
  return value as T;
}

function locate(issue: SchemaIssue, text: string | undefined): DocumentIssue {
  const located: DocumentIssue = { path: formatPath(issue.path), message: issue.message };
  if (text !== undefined) {
    const at = issue.missing ? issue.path.slice(0, -1) : issue.path;
    const position = findPosition(text, at);
    if (position) Object.assign(located, position);
  }
  return located;
}

function createRequirements(config: Spec): SchemaIssue[] {
  const process = config.process;
  if (process === undefined) {
    return [
      {
        path: ['process'],
        message: 'required to create a container, but missing',
        missing: true,
      },
    ];
  }
  const issues: SchemaIssue[] = [];
  if (!process.args || process.args.length === 0) {
    issues.push({
      path: ['process', 'args'],
      message: 'must name the program to run (at least one argument)',
      missing: process.args === undefined,
    });
  }
  if (!process.cwd.startsWith('/')) {
    issues.push({
      path: ['process', 'cwd'],
      message: `must be an absolute path, got ${JSON.stringify(process.cwd)}`,
    });
  }
  return issues;
}

/** Validates an already-parsed config.json. Pass `text` to get line:column. */
export function validateConfig(
  value: unknown,
  options: ConfigParseOptions & { text?: string } = {},
): Spec {
  const extra = options.forCreate ? createRequirements : undefined;
  return validate<Spec>(
    configJsonSchema,
    value,
    options.source ?? 'config.json',
    options.text,
    extra,
  );
}

export function parseConfig(text: string, options: ConfigParseOptions = {}): Spec {
  const source = options.source ?? 'config.json';
  return validateConfig(parseJson(text, source), { ...options, source, text });
}

/** `runc exec --process FILE`. */
export function parseProcess(text: string, options: ParseOptions = {}): Process {
  const source = options.source ?? 'process.json';
  return validate<Process>(processJsonSchema, parseJson(text, source), source, text);
}

export function parseState(text: string, options: ParseOptions = {}): State {
  const source = options.source ?? 'state.json';
  return validate<State>(stateJsonSchema, parseJson(text, source), source, text);
}

/** `runc update --resources FILE`: a linux.resources object. */
export function parseResources(text: string, options: ParseOptions = {}): LinuxResources {
  const source = options.source ?? 'resources.json';
  return validate<LinuxResources>(resourcesJsonSchema, parseJson(text, source), source, text);
}

export function parseFeatures(text: string, options: ParseOptions = {}): Features {
  const source = options.source ?? 'features.json';
  return validate<Features>(featuresJsonSchema, parseJson(text, source), source, text);
}
