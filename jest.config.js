/** Two projects (three with SPROUT_FAULTS=1): fast unit specs beside the code, and e2e specs through HTTP against real services. */
const common = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  moduleNameMapper: { '^src/(.*)$': '<rootDir>/src/$1', '^test/(.*)$': '<rootDir>/test/$1' },
  // content-disposition 3 (via @fastify/static) ships ESM only; let ts-jest compile it to CommonJS.
  transform: { '^.+\\.[tj]s$': ['ts-jest', { tsconfig: { allowJs: true, isolatedModules: true } }] },
  transformIgnorePatterns: ['/node_modules/(?!(.*/)?content-disposition/)'],
};

/**
 * Fault injection (`npm run test:faults`): stops and starts throwaway PostgreSQL/Redis instances of its own, for minutes.
 * Listed only when SPROUT_FAULTS=1, so `npm test` never runs it; its files end in .fault-spec.ts, not .e2e-spec.ts.
 */
const faults = {
  ...common,
  displayName: 'faults',
  rootDir: __dirname,
  testMatch: ['<rootDir>/test/reliability/**/*.fault-spec.ts'],
  setupFiles: ['<rootDir>/test/setup/worker-env.ts'],
};

module.exports = {
  maxWorkers: 2,
  testTimeout: 60000,
  projects: [
    { ...common, displayName: 'unit', rootDir: __dirname, testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/bench/**/*.spec.ts', '<rootDir>/test/fixtures/**/*.spec.ts', '<rootDir>/test/support/**/*.spec.ts'] },
    {
      ...common,
      displayName: 'e2e',
      rootDir: __dirname,
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/setup/global-setup.ts',
      globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
      setupFiles: ['<rootDir>/test/setup/worker-env.ts'],
    },
    ...(process.env.SPROUT_FAULTS === '1' ? [faults] : []),
  ],
};
