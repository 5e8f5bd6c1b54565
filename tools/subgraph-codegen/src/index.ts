import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { codegen } from '@graphql-codegen/core';
import * as typescriptPlugin from '@graphql-codegen/typescript';
import type { TypeScriptPluginConfig } from '@graphql-codegen/typescript';
import * as resolversPlugin from '@graphql-codegen/typescript-resolvers';
import type { TypeScriptResolversPluginConfig } from '@graphql-codegen/typescript-resolvers';
import { parse } from 'graphql';

/**
 * A subgraph's `codegen.ts` (default export). Type references are codegen's `module#Type`,
 * with modules relative to `src/generated/`, where the types are written.
 */
export interface SubgraphCodegenConfig {
  /** The context every resolver receives, e.g. `../index.ts#AccountsContext`. */
  contextType: string;
  /**
   * What a GraphQL type's resolvers receive as parent and may return for it, when that is not
   * the GraphQL type itself: e.g. `User: './prisma/client.ts#User'`, the row the resolvers read.
   * A bare type name refers to the generated file, e.g. `FederationReferenceTypes['User']` for an
   * entity this subgraph only knows by its key.
   */
  mappers?: Record<string, string>;
}

/** Where each subgraph's resolver types go, beside its Prisma client (git-ignored, like it). */
export const RESOLVER_TYPES_FILE = path.join('src', 'generated', 'resolvers.ts');

const HEADER = '// Generated from schema.graphql and codegen.ts by @shop/subgraph-codegen (npm run build): do not edit.\n';

/** Options every subgraph shares; only the context and the mappers are a subgraph's own. */
const SHARED_CONFIG = {
  federation: true,
  useTypeImports: true,
  // Prisma's enums are string unions: generated enums as unions accept them where TS enums would not.
  enumsAsTypes: true,
  // A custom scalar without a TypeScript type would silently be `any`-like; make adding one a decision.
  strictScalars: true,
  // _FieldSet is the type of @key's `fields` argument, which codegen's federation support declares.
  scalars: { DateTime: { input: 'Date', output: 'Date | string' }, _FieldSet: 'string' },
  mapperTypeSuffix: 'Model',
  // Plain functions: `{ resolve }` objects are not used here, and a union type gives worse errors.
  makeResolverTypeCallable: true,
} satisfies TypeScriptPluginConfig & TypeScriptResolversPluginConfig;

/** Loads `<packageDir>/codegen.ts`, which the caller can import because it runs under tsx. */
async function loadConfig(packageDir: string): Promise<SubgraphCodegenConfig> {
  const file = path.join(packageDir, 'codegen.ts');
  const module = (await import(pathToFileURL(file).href)) as { default?: SubgraphCodegenConfig };
  if (!module.default?.contextType) throw new Error(`${file}: the default export must be a SubgraphCodegenConfig with a contextType`);
  return module.default;
}

/**
 * The resolver types of the subgraph in `packageDir`, as TypeScript source. The schema is first
 * built the way the subgraph serves it (`buildSubgraphSchema`), so a schema that could not start
 * fails here with Apollo's own message instead of yielding types. Codegen then reads the SDL as
 * written: the built schema would add federation's machinery (`_entities`, `_service`, `link__*`)
 * to the types, which no resolver of ours implements.
 */
export async function resolverTypesSource(packageDir: string, config: SubgraphCodegenConfig): Promise<string> {
  const schemaFile = path.join(packageDir, 'schema.graphql');
  const typeDefs = parse(await readFile(schemaFile, 'utf8'), { noLocation: true });
  try {
    buildSubgraphSchema({ typeDefs });
  } catch (error) {
    throw new Error(`${schemaFile} is not a valid subgraph schema: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  const source = await codegen({
    filename: RESOLVER_TYPES_FILE,
    schema: typeDefs,
    documents: [],
    plugins: [{ typescript: {} }, { 'typescript-resolvers': {} }],
    pluginMap: { typescript: typescriptPlugin, 'typescript-resolvers': resolversPlugin },
    config: { ...SHARED_CONFIG, contextType: config.contextType, mappers: config.mappers ?? {} },
  });
  return HEADER + source;
}

/** Writes `src/generated/resolvers.ts` of the subgraph in `packageDir`; returns its path. */
export async function generateResolverTypes(packageDir: string): Promise<string> {
  const source = await resolverTypesSource(packageDir, await loadConfig(packageDir));
  const file = path.join(packageDir, RESOLVER_TYPES_FILE);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, source);
  return file;
}
