import { defineProject } from 'vitest/config';

/** One vitest project per package; workspace imports resolve to TypeScript sources. */
export function packageProject(name: string) {
  return defineProject({
    resolve: { conditions: ['source', 'import', 'node', 'default'] },
    ssr: { resolve: { conditions: ['source', 'import', 'node', 'default'] } },
    test: { name, environment: 'node' },
  });
}
