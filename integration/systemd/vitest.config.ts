import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Tests that need systemd as PID 1: run inside the container that
// run-in-nspawn boots (see systemd-nspawn.test.ts in ../tests), never by the
// integration project on the host.
const conditions = ['source', 'import', 'node', 'default'];

export default defineConfig({
  root: dirname(fileURLToPath(import.meta.url)),
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    name: 'systemd-in-nspawn',
    environment: 'node',
    include: ['*.test.ts'],
    testTimeout: 30_000,
    // One systemd: the tests create units one after another.
    fileParallelism: false,
  },
});
