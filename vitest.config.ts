import { defineConfig } from 'vitest/config';

// Two projects: unit tests need nothing; integration tests run real interpreters, which globalSetup
// finds in the ftfuzz cache or builds from source on a fresh machine (once, minutes).
export default defineConfig({
  test: {
    maxWorkers: 2,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['tests/**/*.test.ts'],
          // The bounded jsfuzz run takes a core for 20 s: it runs with the integration files, one at a time.
          exclude: ['tests/integration/**', 'tests/cli/**', 'tests/fuzz/**'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts', 'tests/cli/**/*.test.ts', 'tests/fuzz/**/*.test.ts'],
          globalSetup: ['tests/globalSetup.ts'],
          // One file at a time: race tests need free cores, and a file running 300 programs beside
          // them leaves their threads almost no true parallelism on this 2-core machine.
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
