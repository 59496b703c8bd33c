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
    // Kinds: their records, expectations, judges and facts are pure, so the CLI, the harness and `repro report` can all use them.
    files: ['src/kinds/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/cli/**', '**/harness/**', '**/fdprobe/procfs*', '**/fdprobe/lsof*'], message: 'a kind\'s record, expectation, judge and facts are pure: they must not import the CLI, the harness or a probe back end.' }] },
      ],
    },
  },
  {
    // report/ reaches a kind only through its pure parts (the table in kinds/index.ts, its judge and facts), never a driver or a plan.
    files: ['src/report/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/cli/**', '**/harness/**'], message: 'model/, report/, fdprobe/ and protocol/ must not import the CLI or the harness: move what they share to src/errors.ts or src/model/.' },
            { group: ['**/kinds/*/plan*', '**/kinds/*/step*', '**/kinds/*/driver*', '**/kinds/*/run*'], message: 'report/ reads kinds only through what is pure: kinds/index.ts, a kind\'s judge, record and facts.' },
          ],
        },
      ],
    },
  },
  {
    files: ['bin/**/*.js', 'test/fixtures/**/*.{js,cjs,mjs}'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', setInterval: 'readonly', Buffer: 'readonly', URL: 'readonly' } },
  },
  {
    // The launcher is CommonJS (bin/package.json): the start-up fast path never loads the ESM loader.
    files: ['bin/**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
