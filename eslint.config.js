// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Packages that only the server may load: the contract and the SDK stay free of them. */
const SERVER_PACKAGES = [
  'fastify',
  '@fastify/*',
  'kysely',
  'pg',
  'better-sqlite3',
  'prom-client',
  'jose',
  'fastify-plugin',
];

/**
 * One `no-restricted-imports` block per layer of `src/`. A relative import is matched by the folder it reaches
 * (`../../store/repositories/x.js` reaches `store/repositories`), so a move inside a layer needs no rule change.
 * @param {{ layer: string, forbidden: string[], packages: string[] }[]} layers
 */
function layerRules(layers) {
  return layers.map(({ layer, forbidden, packages }) => ({
    files: [`src/${layer}/**/*.ts`],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...forbidden.map((target) => ({
              regex: `^(\\.\\./)+${target.replace('/', '\\/')}(\\/|\\.js$)`,
              message: `src/${layer}/ must not import src/${target}/ (docs/ARCHITECTURE.md: the layers)`,
            })),
            ...(packages.length > 0
              ? [
                  {
                    group: packages,
                    message: `src/${layer}/ must not depend on server packages (docs/ARCHITECTURE.md)`,
                  },
                ]
              : []),
          ],
        },
      ],
    },
  }));
}

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'packages/*/dist/',
      'node_modules/',
      'coverage/',
      'bench/.data/',
      'bin/',
      '**/*.js',
      'vitest.config.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
    },
  },
  // The layering (docs/ARCHITECTURE.md) as a check: each layer lists the layers and packages it must not import.
  ...layerRules([
    {
      layer: 'contract',
      forbidden: ['http', 'domain', 'store', 'webhooks', 'cli', 'client', 'demo'],
      packages: SERVER_PACKAGES,
    },
    {
      layer: 'client',
      forbidden: ['http', 'domain', 'store', 'webhooks', 'cli', 'demo', 'errors', 'config', 'services'],
      packages: SERVER_PACKAGES,
    },
    {
      layer: 'store',
      forbidden: ['http', 'domain', 'webhooks', 'cli', 'client', 'demo', 'services'],
      packages: ['fastify'],
    },
    { layer: 'domain', forbidden: ['http', 'cli', 'client', 'demo'], packages: ['fastify'] },
    { layer: 'webhooks', forbidden: ['http', 'cli', 'client', 'demo'], packages: ['fastify'] },
    {
      layer: 'http',
      forbidden: ['cli', 'client', 'demo', 'store/repositories', 'store/sqlite', 'store/postgres'],
      packages: ['kysely', 'pg', 'better-sqlite3'],
    },
  ]),
  // One error model, closed: every catalog code has its factory in src/errors.ts, and only there is an AppError made.
  {
    files: ['src/**/*.ts'],
    ignores: ['src/errors.ts', '**/*.test.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "NewExpression[callee.name='AppError']",
          message: 'Make errors with a factory of src/errors.ts (add one next to its catalog code if none fits)',
        },
      ],
    },
  },
  // The console (console/, its own tsconfig) runs in the browser and reaches the server only through the SDK.
  {
    files: ['console/**/*.{ts,tsx}'],
    ignores: ['console/vite.config.ts', '**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*'], message: 'console/ runs in the browser' },
            { group: SERVER_PACKAGES, message: 'console/ talks to the server through the SDK only' },
            {
              regex: '^(\\.\\./)+src\\/(?!client\\/|contract\\/)',
              message: 'console/ may import only the SDK (src/client) and contract types of the server code',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts', '**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
);
