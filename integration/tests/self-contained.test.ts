// The repository stands alone: no file of it refers to material beside the
// checkout (a sibling shared/ folder, the workplace's paths) or to the
// variable that used to point there. Test data is the project's own
// (packages/spec/testdata) or comes from packages scripts/setup installs.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/runc.js';

// Spelled in pieces, so that this file does not match itself.
const FORBIDDEN = [
  ['..', 'shared', ''].join('/'),
  ['', 'work', 'shared'].join('/'),
  ['', 'work', 'main'].join('/'),
  ['RUNC_TS', 'SHARED'].join('_'),
  // The design notes kept outside the repository: docs/architecture.md replaces them.
  ['DESIGN', 'md'].join('.'),
];

const SKIPPED_DIRS = new Set(['node_modules', '.git', 'dist', 'build', '.cache', '.turbo']);

/** The files of the checkout: git's view (tracked and not ignored), or a walk without build output. */
function repositoryFiles(): string[] {
  const git = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  if (git.status === 0) return git.stdout.split('\0').filter(Boolean);
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name)) walk(join(dir, entry.name));
      } else if (entry.isFile()) {
        found.push(relative(repoRoot, join(dir, entry.name)));
      }
    }
  };
  walk(repoRoot);
  return found;
}

describe('the repository stands alone', () => {
  it('no file refers to a shared folder beside the checkout or to a fixed checkout path', () => {
    const files = repositoryFiles();
    expect(files.length).toBeGreaterThan(100);
    const offending: string[] = [];
    for (const file of files) {
      const path = join(repoRoot, file);
      let text: string;
      try {
        if (!statSync(path).isFile()) continue;
        text = readFileSync(path, 'utf8');
      } catch {
        continue; // deleted in the working tree
      }
      text.split('\n').forEach((line, index) => {
        for (const pattern of FORBIDDEN) {
          if (line.includes(pattern)) offending.push(`${file}:${index + 1}: ${pattern}`);
        }
      });
    }
    expect(offending).toEqual([]);
  });

  it('every relative link of the Markdown documentation names a file of the repository', () => {
    const documents = repositoryFiles().filter(
      (file) => file.endsWith('.md') && !file.startsWith('.changeset/'),
    );
    expect(documents).toContain('docs/architecture.md');
    const broken: string[] = [];
    for (const file of documents) {
      const path = join(repoRoot, file);
      if (!existsSync(path)) continue; // deleted in the working tree
      for (const match of readFileSync(path, 'utf8').matchAll(/\]\(([^)\s#]+)(#[^)\s]*)?\)/g)) {
        const target = match[1] as string;
        if (/^[a-z]+:/.test(target)) continue; // https:, mailto:
        if (!existsSync(join(dirname(path), target))) broken.push(`${file}: ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });
});
