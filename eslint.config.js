import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// One import-extension style: a relative import names the TypeScript file itself ('./x.ts'); the build rewrites
// it to './x.js' (rewriteRelativeImportExtensions in tsconfig.build.json).
const relativeJsImports = ['ImportDeclaration', 'ExportNamedDeclaration', 'ExportAllDeclaration', 'ImportExpression'].map((node) => ({
  selector: `${node} > Literal.source[value=/^\\.\\.?\\u002F.*\\.js$/]`,
  message: "Import a relative module by its '.ts' name, not '.js'.",
}));

// All SQL lives in src/store/ (issue 11 property 2): other rooms call its typed repository functions, never the
// database handle. Flat config replaces a rule given twice for one file, so this entry repeats the import ban.
const sqlOutsideStore = [
  {
    selector: "MemberExpression[property.name=/^(prepare|exec|transaction|pragma)$/]:matches([object.property.name='db'], [object.name='db'])",
    message: 'SQL lives in src/store/: add a typed function there and call it.',
  },
  {
    selector: "ImportDeclaration[source.value='better-sqlite3'], ImportExpression[source.value='better-sqlite3']",
    message: 'Only src/store/ opens the database (better-sqlite3).',
  },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'grafana/dashboards/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { languageOptions: { globals: { ...globals.node } } },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    files: ['**/*.ts', '**/*.mts'],
    rules: { 'no-restricted-syntax': ['error', ...relativeJsImports] },
  },
  {
    files: ['src/**/*.ts', 'src/**/*.mts'],
    ignores: ['src/store/**'],
    rules: { 'no-restricted-syntax': ['error', ...relativeJsImports, ...sqlOutsideStore] },
  },
);
