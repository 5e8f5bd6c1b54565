import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import js from '@eslint/js';
import graphql from '@graphql-eslint/eslint-plugin';
import tseslint from 'typescript-eslint';

const repo = import.meta.dirname;
const subgraphs = readdirSync(join(repo, 'subgraphs'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

/**
 * The subgraphs' schemas are what every client reads in the explorer and in generated types: the
 * rules are written down in README "Schema lint". Each schema is linted against itself, built as a
 * Federation subgraph (graphql-eslint does that for an SDL that @links the federation spec), so
 * @key, @external, @requires, @shareable, @authenticated, ... are known directives, not errors.
 */
const schemaRules = {
  ...graphql.configs['flat/schema-recommended'].rules,
  // Every type, field, argument, enum value and directive says what it is for.
  '@graphql-eslint/require-description': [
    'error',
    { types: true, rootField: true, FieldDefinition: true, InputValueDefinition: true, EnumValueDefinition: true, DirectiveDefinition: true },
  ],
  // One-line descriptions stay "inline", longer ones are """block""": the rule can only demand one style.
  '@graphql-eslint/description-style': 'off',
  // Entities are keyed by the id the domain gives them (a product's upc), not always an `id: ID!`.
  '@graphql-eslint/strict-id-in-types': [
    'error',
    { acceptedIdNames: ['id', 'upc'], acceptedIdTypes: ['ID', 'String'], exceptions: { types: ['Query', 'Mutation', 'OrderLine', 'PageInfo'], suffixes: ['Connection', 'Edge'] } },
  ],
  '@graphql-eslint/require-deprecation-reason': 'error',
  '@graphql-eslint/no-hashtag-description': 'error',
  // `username` is one word, not a `User` prefix.
  '@graphql-eslint/no-typename-prefix': 'off',
  // Both misfire on a Federation subgraph: the subgraph schema the plugin builds (buildSubgraphSchema)
  // has root types without the SDL's fields, so every type looks unreachable, and it drops some
  // Federation directives (@external, @requires, @requiresScopes) it then calls unknown. Composition
  // (`npm run compose`, and the tests) checks every directive against the spec each schema @links.
  '@graphql-eslint/no-unreachable-types': 'off',
  '@graphql-eslint/known-directives': 'off',
};

/**
 * graphql-eslint loads its GraphQL config once per process, so every schema's project is in one
 * config; each file is checked against the project whose schema it is. Paths are absolute:
 * `npm run lint` runs ESLint from each workspace's own directory.
 */
const schemaProjects = {
  projects: Object.fromEntries(subgraphs.map((name) => [name, { schema: join(repo, 'subgraphs', name, 'schema.graphql') }])),
};

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/generated/**', '**/dist/**', '.data/**'] },
  { files: ['**/*.{js,ts,tsx}'], ...js.configs.recommended },
  ...tseslint.configs.recommended.map((config) => ({ files: ['**/*.{js,ts,tsx}'], ...config })),
  {
    files: ['**/*.{js,ts,tsx}'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    // Tools and command-line entry points talk to a person on stdout/stderr; services log through pino.
    files: ['tools/**/*.ts', '**/cli/**/*.ts', '**/embedded/main.ts'],
    rules: { 'no-console': 'off' },
  },
  ...subgraphs.map((name) => ({
    files: [`subgraphs/${name}/schema.graphql`],
    languageOptions: {
      parser: graphql.parser,
      parserOptions: { graphQLConfig: schemaProjects },
    },
    plugins: { '@graphql-eslint': graphql },
    rules: schemaRules,
  })),
);
