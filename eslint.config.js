// ESLint flat config: typescript-eslint's type-checked rules (no-floating-promises matters in
// socket code), eslint-plugin-svelte for the components, and layer rules: shared/ is pure,
// electron/core never imports electron, the renderer reaches the engine only through its bridge.
import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'out/', 'release/', 'electron/cli/ferry.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  ...svelte.configs['flat/recommended'],
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', '*.ts', 'build/*.mjs', 'renderer/*.ts', 'renderer/*.js'] },
        tsconfigRootDir: import.meta.dirname,
        extraFileExtensions: ['.svelte'],
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser, svelteConfig: './renderer/svelte.config.js' } },
    rules: {
      // State classes replace whole values ($state = new Set(...)), never mutate a Set in place.
      'svelte/prefer-svelte-reactivity': 'off',
    },
  },
  {
    // Inside markup, typescript-eslint cannot see the types of props and snippets and calls
    // them any; svelte-check (npm run typecheck) type-checks components fully instead.
    files: ['**/*.svelte'],
    rules: {
      // TypeScript (svelte-check) knows the globals; no-undef does not (typescript-eslint's advice).
      'no-undef': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // Configuration files: their imports' types are outside every layer's tsconfig.
    files: ['*.config.{js,ts}', 'renderer/*.config.{js,ts}', 'build/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'electron', 'fs', 'path', 'os', 'net'],
              message: 'shared/ is pure ES2022: no node, no electron.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['electron/core/**/*.ts', 'electron/cli/**/*.ts', 'electron/web/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'electron',
              message: 'core, cli and the browser shell run under plain Node: never import electron.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['renderer/src/**/*.ts', 'renderer/src/**/*.svelte'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'electron', '**/electron/**'],
              message: 'The renderer reaches the engine only through its bridge.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);
