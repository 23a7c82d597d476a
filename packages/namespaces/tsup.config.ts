import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  // Old chunks go; tsc's declarations (types/, test-types/) stay.
  clean: ['!types/**', '!test-types/**'],
  dts: false,
  outDir: 'dist',
  // A real `require` for esbuild's __require in this ES module: the sources
  // load koffi and dbus-native with `require` when it exists (the CLI's
  // CommonJS bundle), which without it is a shim that always throws.
  banner: {
    js: "import { createRequire as __runcTsCreateRequire } from 'node:module';\nconst require = __runcTsCreateRequire(import.meta.url);",
  },
});
