import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The systemd tier (`npm run test:systemd`): one file, one container, steps in order.
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['test/systemd/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 1,
    minWorkers: 1,
    testTimeout: 120_000,
    hookTimeout: 90_000,
    reporters: ['default', './test/helpers/summary-reporter.ts'],
  },
});
