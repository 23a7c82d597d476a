import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['source', 'import', 'node', 'default'] },
  ssr: { resolve: { conditions: ['source', 'import', 'node', 'default'] } },
  test: {
    name: 'integration',
    environment: 'node',
    include: ['tests/**/*.test.ts', 'clients/**/*.test.ts'],
    globalSetup: ['support/global-setup.ts'],
    testTimeout: 30_000,
  },
});
