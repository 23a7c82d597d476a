/** One problem in a JSON document, located as precisely as we can. */
export interface DocumentIssue {
  /** JSON path in display form, e.g. `linux.namespaces[0].type`; '' for the root. */
  path: string;
  message: string;
  line?: number;
  column?: number;
}

export type SpecErrorCode = 'INVALID_JSON' | 'INVALID_DOCUMENT';

/**
 * A config.json / state.json / process.json / features.json that cannot be
 * used. The message lists every problem as `file:line:column: path: what`.
 */
export class SpecError extends Error {
  override readonly name = 'SpecError';
  constructor(
    readonly code: SpecErrorCode,
    /** The file name shown in messages, e.g. `config.json`. */
    readonly source: string,
    readonly issues: readonly DocumentIssue[],
  ) {
    super(formatIssues(source, issues));
  }
}

const MAX_LISTED = 20;

export function formatIssue(source: string, issue: DocumentIssue): string {
  const where = issue.line === undefined ? source : `${source}:${issue.line}:${issue.column}`;
  return issue.path === ''
    ? `${where}: ${issue.message}`
    : `${where}: ${issue.path}: ${issue.message}`;
}

function formatIssues(source: string, issues: readonly DocumentIssue[]): string {
  const listed = issues.slice(0, MAX_LISTED).map((issue) => formatIssue(source, issue));
  if (issues.length > MAX_LISTED) listed.push(`and ${issues.length - MAX_LISTED} more problem(s)`);
  return listed.join('; ');
}
