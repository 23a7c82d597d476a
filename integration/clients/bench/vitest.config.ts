import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The engines' `run --rm true` timing (docs/performance.md): a measurement,
// not a test, so never part of the integration project. Run as root:
//   node_modules/.bin/vitest run --config integration/clients/bench/vitest.config.ts
const conditions = ['source', 'import', 'node', 'default'];

export default defineConfig({
  root: dirname(fileURLToPath(import.meta.url)),
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    name: 'clients-bench',
    environment: 'node',
    include: ['*.bench.ts'],
    // the built runtimes checked, containerd's shim socket directories removed after
    globalSetup: ['../../support/global-setup.ts'],
    testTimeout: 600_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
