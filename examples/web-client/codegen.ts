import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * GraphQL Code Generator's client preset: every `graphql(...)` document in src/ is checked against
 * the API schema and gets its result and variables types. EXAMPLE_SCHEMA and EXAMPLE_GENERATED_DIR
 * point it elsewhere (the test that removes a field runs it on a copy of the schema).
 */
const config: CodegenConfig = {
  schema: process.env.EXAMPLE_SCHEMA ?? 'schema.graphql',
  documents: ['src/**/*.ts', '!src/generated/**'],
  ignoreNoDocuments: false,
  generates: {
    [process.env.EXAMPLE_GENERATED_DIR ?? 'src/generated/']: {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        // Documents as strings with their types attached: the client sends them with fetch, no GraphQL runtime needed.
        documentMode: 'string',
        // Imports with .js extensions, as Node's ES modules (and NodeNext type checking) require.
        emitLegacyCommonJSImports: false,
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { DateTime: 'string' },
      },
    },
  },
};

export default config;
