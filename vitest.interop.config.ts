import { defineConfig } from 'vitest/config';

// Interop tests need Debian's mosquitto and mosquitto-clients (.ci/run installs them).
export default defineConfig({
  test: {
    include: ['test/interop/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    fileParallelism: false,
  },
});
