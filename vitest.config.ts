import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts', 'console/src/**/*.test.ts'],
    // Benchmarks run only through `npm run bench`.
    exclude: [...configDefaults.exclude, 'bench/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Most suites wait on servers, databases and a browser rather than compute: two files at a time on a 2-core
    // machine (Vitest's default is one fewer than the cores, one file at a time here).
    maxWorkers: 2,
    reporters: ['default'],
  },
});
