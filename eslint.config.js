import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

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
    // One import-extension style: a relative import names the TypeScript file itself ('./x.ts'); the build rewrites
    // it to './x.js' (rewriteRelativeImportExtensions in tsconfig.build.json).
    files: ['**/*.ts', '**/*.mts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        ...['ImportDeclaration', 'ExportNamedDeclaration', 'ExportAllDeclaration', 'ImportExpression'].map((node) => ({
          selector: `${node} > Literal.source[value=/^\\.\\.?\\u002F.*\\.js$/]`,
          message: "Import a relative module by its '.ts' name, not '.js'.",
        })),
      ],
    },
  },
);
