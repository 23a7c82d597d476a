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

// The Node.js build of `runc` (dist/runc.cjs; the compiled executable is
// scripts/compile.ts's) is one self-contained file: workspace packages are
// inlined from their TypeScript sources (the "source" export condition, with
// module-level tree shaking that keeps zod out), so a start-up reads one
// file and resolves no packages.
export default defineConfig({
  entry: { runc: 'src/main.ts', index: 'src/index.ts' },
  // CommonJS on purpose: Node 20's ESM loader costs ~8 ms more per start.
  format: ['cjs'],
  outExtension: () => ({ js: '.cjs' }),
  target: 'node20',
  platform: 'node',
  outDir: 'dist',
  // Old output goes; tsc's declarations (types/, test-types/) stay.
  clean: ['!types/**', '!test-types/**'],
  dts: false,
  splitting: false,
  bundle: true,
  minifySyntax: true,
  minifyWhitespace: true,
  minifyIdentifiers: true,
  removeNodeProtocol: false,
  // The executor ships beside the bundle; bin/runc loads the bundle with a
  // code cache (scripts/write-code-cache.cjs).
  onSuccess: 'node scripts/write-code-cache.cjs',
  noExternal: [/^(?!koffi$|@homebridge\/dbus-native$|protobufjs\/light\.js$).*/],
  // Native addon, D-Bus client and protobuf (CRIU's RPC): resolved at run
  // time from this package's dependencies, and required only by the code
  // paths that need them.
  external: ['koffi', '@homebridge/dbus-native', 'protobufjs/light.js'],
  // import.meta.url for the packages' createRequire() of those two.
  shims: true,
  esbuildOptions(options) {
    options.conditions = ['source'];
    options.legalComments = 'none';
  },
  define: {
    __RUNC_TS_VERSION__: JSON.stringify(version),
    __RUNC_TS_COMMIT__: JSON.stringify(gitCommit()),
  },
});
