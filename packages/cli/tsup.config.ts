import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

function gitCommit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], {
      encoding: 'utf8',
    }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      encoding: 'utf8',
    }).trim();
    return dirty ? `${sha}-dirty` : sha;
  } catch {
    return 'unknown';
  }
}

const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

// The `runc` binary is one self-contained ESM file: workspace packages are
// inlined from their TypeScript sources (the "source" export condition, with
// module-level tree shaking that keeps zod out), and so is commander, so a
// start-up reads one file and resolves no packages.
export default defineConfig({
  entry: { runc: 'src/main.ts' },
  format: ['esm'],
  outExtension: () => ({ js: '.mjs' }),
  target: 'node20',
  platform: 'node',
  outDir: 'dist',
  clean: true,
  dts: false,
  splitting: false,
  bundle: true,
  minifySyntax: true,
  // commander is CommonJS: its require('events') needs a real require.
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);",
  },
  onSuccess: 'chmod 755 dist/runc.mjs',
  noExternal: [/.*/],
  esbuildOptions(options) {
    options.conditions = ['source'];
    options.legalComments = 'none';
  },
  define: {
    __RUNC_TS_VERSION__: JSON.stringify(version),
    __RUNC_TS_COMMIT__: JSON.stringify(gitCommit()),
  },
});
