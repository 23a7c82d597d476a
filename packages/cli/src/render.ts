import { readFileSync } from 'node:fs';
import type { ContainerState } from '@runc-ts/libcontainer';

/**
 * `runc list` output. The table matches runc's columns and Go tabwriter
 * layout (min width 12, padding 3); json is one line, `null` when empty.
 */
export function renderList(
  states: readonly ContainerState[],
  format: 'table' | 'json',
  quiet: boolean,
): string {
  if (quiet) return states.map((s) => `${s.id}\n`).join('');
  if (format === 'json') {
    if (states.length === 0) return 'null\n';
    const owner = ownerName();
    return `${JSON.stringify(states.map((s) => ({ ...s, owner })))}\n`;
  }
  const owner = ownerName();
  const rows = [
    ['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'],
    ...states.map((s) => [s.id, String(s.pid), s.status, s.bundle, s.created, owner]),
  ];
  const widths = rows[0]!.map((_, col) => Math.max(12, ...rows.map((row) => row[col]!.length + 3)));
  return rows
    .map((row) =>
      row.map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col]!))).join(''),
    )
    .map((line) => `${line}\n`)
    .join('');
}

/** runc shows the name of the user running it (who owns the state). */
function ownerName(): string {
  const uid = process.getuid?.() ?? 0;
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const [name, , id] = line.split(':');
      if (name && Number(id) === uid) return name;
    }
  } catch {
    // No passwd: fall back to the number.
  }
  return `#${uid}`;
}
