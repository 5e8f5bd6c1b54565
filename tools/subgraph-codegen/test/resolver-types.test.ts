import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateResolverTypes, RESOLVER_TYPES_FILE } from '../src/index.ts';

const SCHEMA = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@external", "@requires", "@shareable"])

type Query {
  users(first: Int = 10): [User!]!
}

type User @key(fields: "id") {
  id: ID!
  name: String! @shareable
}

type Product @key(fields: "upc") {
  upc: String!
  price: Int! @external
  shipping: Int @requires(fields: "price")
}
`;

const CODEGEN = `
export default {
  contextType: '../context.ts#Context',
  mappers: { User: '../rows.ts#UserRow' },
};
`;

const SUPPORT = {
  'src/context.ts': 'export interface Context { userNames: Map<number, string> }\n',
  'src/rows.ts': 'export interface UserRow { id: number; name: string }\n',
};

const resolvers = (firstType: string) => `
import type { Resolvers } from './generated/resolvers.ts';

export const resolvers: Resolvers = {
  Query: {
    users: (_root, args: { first: ${firstType} }, { userNames }) =>
      [...userNames].slice(0, Number(args.first)).map(([id, name]) => ({ id, name })),
  },
  User: {
    __resolveReference: (reference, { userNames }) => {
      const name = userNames.get(Number(reference.id));
      return name === undefined ? null : { id: Number(reference.id), name };
    },
    id: (user) => String(user.id),
  },
  Product: {
    shipping: (product) => ('price' in product ? product.price * 2 : null),
  },
};
`;

/** Type errors of `src/resolvers.ts` under the repository's compiler options. */
function typeErrors(dir: string): string[] {
  const graphqlDir = path.dirname(createRequire(import.meta.url).resolve('graphql/package.json'));
  const program = ts.createProgram([path.join(dir, 'src', 'resolvers.ts')], {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2023,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    allowImportingTsExtensions: true,
    verbatimModuleSyntax: true,
    skipLibCheck: true,
    types: [],
    // The package lives in a temporary directory, away from the repository's node_modules.
    paths: { graphql: [path.join(graphqlDir, 'index.d.ts')] },
  });
  return ts
    .getPreEmitDiagnostics(program)
    .map((d) => `${d.file ? path.relative(dir, d.file.fileName) : ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
}

describe('resolver types', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'subgraph-codegen-'));
    await writeFile(path.join(dir, 'package.json'), '{ "type": "module" }\n');
    await writeFile(path.join(dir, 'schema.graphql'), SCHEMA);
    await writeFile(path.join(dir, 'codegen.ts'), CODEGEN);
    await mkdir(path.join(dir, 'src'));
    for (const [file, source] of Object.entries(SUPPORT)) await writeFile(path.join(dir, file), source);
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('types resolvers with the context, the mapped parents and federation references, without federation machinery', async () => {
    const file = await generateResolverTypes(dir);
    expect(file).toBe(path.join(dir, RESOLVER_TYPES_FILE));
    const source = await readFile(file, 'utf8');
    expect(source).toContain("import type { Context } from '../context.ts';");
    expect(source).toContain("import type { UserRow as UserRowModel } from '../rows.ts';");
    expect(source).toMatch(/FederationReferenceTypes = \{/);
    expect(source).not.toMatch(/_entities|_service|link__/);
  });

  it('makes a resolver that no longer matches the schema a type error', async () => {
    await generateResolverTypes(dir);
    await writeFile(path.join(dir, 'src', 'resolvers.ts'), resolvers('number'));
    expect(typeErrors(dir)).toEqual([]);

    await writeFile(path.join(dir, 'src', 'resolvers.ts'), resolvers('string'));
    const errors = typeErrors(dir);
    expect(errors.join('\n')).toMatch(/Types of property 'first' are incompatible\.\n\s*Type 'number' is not assignable to type 'string'/);
  });

  it('refuses a schema the subgraph could not serve, naming the file', async () => {
    await writeFile(path.join(dir, 'schema.graphql'), SCHEMA.replace('@key(fields: "id")', '@key(fields: "missing")'));
    await expect(generateResolverTypes(dir)).rejects.toThrow(/schema\.graphql is not a valid subgraph schema: .*missing/s);
  });
});
