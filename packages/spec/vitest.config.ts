import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: '@runc-ts/spec', environment: 'node' },
});
