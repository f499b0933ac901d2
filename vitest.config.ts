import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/property/**/*.test.ts', 'test/fuzz/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/crash/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
