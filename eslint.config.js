// ESLint (flat config) for lib/, scripts/ and tests/: the recommended JavaScript and typescript-eslint
// rules, plus the type-aware promise rules, since a forgotten `await` fails no notebook cell.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    // demo/ is browser code served as-is; notebooks are checked by tslab when they run.
    ignores: [
      'build/',
      'node_modules/',
      'data/',
      'demo/',
      'figures/',
      'notebooks/',
      '.jupyter/',
      'test-output/',
      // The project's Python environment (npm run python-env) and pip's cache: Jupyter's own JavaScript.
      '.venv/',
      '.cache/',
    ],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { project: './tsconfig.check.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test runs these itself; awaiting them at top level is not how its tests are written.
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    // Settings are read only through lib/core/settings.ts, which validates them and generates
    // docs/settings.md: a read of an MNIST_* variable anywhere else is an error. Setting one for a
    // child process (an assignment, a delete, an object literal) stays allowed.
    files: ['**/*.ts', '**/*.js', '**/*.mjs', '**/*.cjs'],
    ignores: [
      'lib/core/settings.ts',
      // Node's loader thread runs this hook before tsx can compile the registry.
      'tests/support/fixtures/cli/trace-tf-hooks.mjs',
    ],
    rules: {
      'no-restricted-syntax': [
        'error',
        ...[
          'MemberExpression[property.name=/^MNIST_/]',
          'MemberExpression[computed=true][property.value=/^MNIST_/]',
          'ObjectPattern > Property[key.name=/^MNIST_/]',
        ].map((read) => ({
          selector: `${read}:not([object.name="SETTINGS"]):not(AssignmentExpression > .left):not(UnaryExpression[operator="delete"] > .argument)`,
          message: 'Read MNIST_* settings with setting() from lib/core/settings.ts (the registry).',
        })),
      ],
    },
  },
  {
    // The CommonJS files: tool configs and the tfjs-node stand-in for danfojs-node.
    files: ['**/*.cjs', 'packages/danfo-tfjs-stub/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { module: 'writable', require: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
