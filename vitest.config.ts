import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql 16 ships CommonJS and ESM builds. Node (and so @apollo/gateway) loads the
    // CommonJS one; Vite would hand our sources the ESM one, and the two realms' schema
    // classes do not mix. Pin everyone to the file Node loads.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['{gateway,observability,prisma}/test/**/*.test.ts', '{packages,subgraphs,tools,examples}/*/test/**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    globalSetup: ['packages/test-support/src/global-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // CI must run every test: a skipped test fails the run instead of passing silently.
    allowOnly: false,
    passWithNoTests: false,
    // Every answer of every gateway the tests start is shaped both ways, and a difference fails it (gateway/src/result-shaping/).
    env: { RESULT_SHAPING: 'verify', PLAN_EXECUTION: 'verify' },
  },
});
