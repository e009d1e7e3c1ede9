import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The systemd tier boots a container and runs apart: `npm run test:systemd`.
    exclude: [...configDefaults.exclude, 'test/systemd/**'],
    // Integration tests run real masters, workers and load clients: give each
    // file its own process and keep two at a time on a 2-core machine.
    pool: 'forks',
    maxWorkers: 2,
    minWorkers: 1,
    testTimeout: 60_000,
    hookTimeout: 30_000,
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});
