import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'test/fixtures/**/*.txt'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // A tool that hunts leaks must not drop a promise on the floor.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // Layers: model and report are views of data; they never reach into the CLI or the harness.
    files: ['src/model/**/*.ts', 'src/report/**/*.ts', 'src/fdprobe/**/*.ts', 'src/proc/**/*.ts', 'src/protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/cli/**', '**/harness/**'], message: 'model/, report/, fdprobe/, proc/ and protocol/ must not import the CLI or the harness: move what they share to src/errors.ts or src/model/.' }] },
      ],
    },
  },
  {
    files: ['bin/**/*.js', 'test/fixtures/**/*.{js,cjs,mjs}'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', setInterval: 'readonly', Buffer: 'readonly', URL: 'readonly' } },
  },
);
