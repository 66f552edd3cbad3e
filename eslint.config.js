// Type-aware linting: floating promises and misused promises are the bugs that lose findings in a
// long-running campaign (a crash file write nobody awaited), so those rules are errors.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const FOLDERS = ['generators', 'oracles', 'store', 'runtime', 'trials', 'campaign', 'triage', 'fleet', 'report', 'cli'];

/** What each layer may not import: every folder above it (and check.ts, index.ts where they are above). */
const FORBIDDEN = {
  generators: ['oracles', 'store', 'runtime', 'trials', 'campaign', 'triage', 'fleet', 'report', 'cli', 'check', 'index'],
  oracles: ['generators', 'store', 'runtime', 'trials', 'campaign', 'triage', 'fleet', 'report', 'cli', 'check', 'index'],
  store: ['generators', 'oracles', 'runtime', 'trials', 'campaign', 'triage', 'fleet', 'report', 'cli', 'check', 'index'],
  runtime: ['oracles', 'store', 'trials', 'campaign', 'triage', 'fleet', 'report', 'cli', 'check', 'index'],
  trials: ['campaign', 'triage', 'fleet', 'report', 'cli', 'index'],
  campaign: ['triage', 'fleet', 'report', 'cli', 'index'],
  triage: ['campaign', 'fleet', 'report', 'cli', 'index'],
  fleet: ['triage', 'report', 'cli', 'index'],
  report: ['campaign', 'fleet', 'cli', 'index'],
  cli: ['index'],
};

/** Import patterns of the folders and root modules in `names`, as written from `src/*.ts` (base) or a folder. */
function patternsFor(names, fromBase = false) {
  return names.map((n) => {
    if (n === 'check' || n === 'index') {
      const group = fromBase ? [`./${n}.js`] : [`../${n}.js`, `../../${n}.js`];
      return { group, message: `src/${n}.ts is above this layer (eslint.config.js, CONTRIBUTING.md)` };
    }
    return { group: [`**/${n}/*`, `**/${n}/**`], message: `${n}/ is above this layer (eslint.config.js, CONTRIBUTING.md)` };
  });
}

/** Nothing in src/ imports the benchmarks: they sit outside the library build (tsconfig.bench.json). */
const BENCH = { group: ['**/bench/*', '**/bench/**'], message: 'bench/ is outside the library build (tsconfig.bench.json)' };

function layerRules() {
  const base = {
    files: ['src/*.ts'],
    ignores: ['src/check.ts', 'src/index.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [...patternsFor([...FOLDERS, 'check', 'index'], true), BENCH] }] },
  };
  const folders = Object.entries(FORBIDDEN).map(([folder, names]) => ({ files: [`src/${folder}/**/*.ts`], rules: { 'no-restricted-imports': ['error', { patterns: [...patternsFor(names), BENCH] }] } }));
  // The benchmarks (bench/, their own build) drive the library as a user's program would, never the CLI.
  const bench = {
    files: ['bench/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['**/src/cli/*', '**/src/cli/**', '**/src/index.js'], message: 'bench/ drives the library, not the CLI (eslint.config.js)' }] }] },
  };
  return [base, ...folders, bench];
}

export default tseslint.config(
  { ignores: ['dist/**', 'build/**', 'node_modules/**', 'corpus/**', 'crashes/**', 'bin/**', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random', message: 'Use the seeded Rng passed in explicitly (STYLE.md practice 3).' },
      ],
    },
  },
  // Layers, bottom to top: each folder imports only from the ones below it, and an arrow the wrong way is a
  // lint error (CONTRIBUTING.md draws the picture).
  //   base        src/*.ts: types, errors, findingKinds, signature, reproduce, canonical, atomicWrite, units
  //   generators  pure: programs as values (no interpreter I/O)      oracles: runs -> findings
  //   store       buckets, their one merge rule, the timeline         runtime: interpreters, executors
  //   check.ts    one program on targets, oracles applied
  //   trials      rates, families, claims                           (under both campaign and triage)
  //   campaign    triage                                            fleet, report
  //   cli         (index.ts: the public API, above all of them; bench/ sits outside src/ and its build)
  ...layerRules(),
  // Sizes a newcomer can read: no function over 100 lines, no module over 400 (comments and blank lines not
  // counted). Tests are exempt: a describe block is one function.
  {
    files: ['src/**/*.ts', 'bench/**/*.ts'],
    rules: {
      'max-lines-per-function': ['error', { max: 100, skipBlankLines: true, skipComments: true }],
      'max-lines': ['error', { max: 400, skipBlankLines: true, skipComments: true }],
    },
  },
  // jsfuzz targets are CommonJS (jsfuzz require()s them): linted without type information.
  {
    files: ['**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', Buffer: 'readonly', console: 'readonly' },
    },
    rules: { ...tseslint.configs.disableTypeChecked.rules, '@typescript-eslint/no-require-imports': 'off' },
  },
);
