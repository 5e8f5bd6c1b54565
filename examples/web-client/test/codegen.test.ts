import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Kind, parse, print, visit } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The example client's build breaks when the schema drops a field it uses: its operations are
 * generated against a copy of the API schema without `Product.averageRating` (used by
 * TopProductsWithReviews), and GraphQL Code Generator refuses, naming the field.
 */
const run = promisify(execFile);
const exampleDir = fileURLToPath(new URL('../', import.meta.url));
const codegenBin = fileURLToPath(new URL('../../../node_modules/.bin/graphql-codegen', import.meta.url));
let dir: string;
let apiSchema: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'example-client-'));
  // The API schema of the working tree's subgraphs, as `npm run typecheck` makes it.
  await run(process.execPath, ['--import', 'tsx', 'scripts/api-schema.ts', '--output', join(dir, 'schema.graphql')], { cwd: exampleDir });
  apiSchema = await readFile(join(dir, 'schema.graphql'), 'utf8');
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The schema with one field of one type taken out. */
function withoutField(sdl: string, typeName: string, fieldName: string): string {
  return print(
    visit(parse(sdl), {
      ObjectTypeDefinition(node) {
        if (node.name.value !== typeName) return undefined;
        return { ...node, fields: node.fields?.filter((field) => field.name.value !== fieldName) };
      },
    }),
  );
}

async function codegen(schemaFile: string, outDir: string): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await run(codegenBin, ['--config', 'codegen.ts'], {
      cwd: exampleDir,
      // Under NODE_ENV=test (vitest's) codegen prints no error details; a developer's run prints them.
      env: { ...process.env, NODE_ENV: 'development', EXAMPLE_SCHEMA: schemaFile, EXAMPLE_GENERATED_DIR: `${outDir}/` },
    });
    return { ok: true, output: stdout + stderr };
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string };
    return { ok: false, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

describe('the example client against the supergraph API schema', () => {
  it('generates its typed operations from the current schema', async () => {
    const result = await codegen(join(dir, 'schema.graphql'), join(dir, 'current'));
    expect(result.ok, result.output).toBe(true);
    const generated = await readFile(join(dir, 'current', 'graphql.ts'), 'utf8');
    expect(generated).toMatch(/export type TopProductsWithReviewsQuery = /);
    expect(generated).toMatch(/export type PlaceOrderMutationVariables = /);
    expect(generated).toMatch(/export type MyOrdersQuery = /);
  });

  it('fails, naming the field, when the schema drops a field an operation uses', async () => {
    expect(parse(apiSchema).definitions.some((d) => d.kind === Kind.OBJECT_TYPE_DEFINITION && d.name.value === 'Product')).toBe(true);
    const broken = join(dir, 'without-averageRating.graphql');
    await writeFile(broken, withoutField(apiSchema, 'Product', 'averageRating'));
    const result = await codegen(broken, join(dir, 'broken'));
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/Cannot query field "averageRating" on type "Product"/);
    // ... and where: the operation's file.
    expect(result.output).toMatch(/src\/operations\.ts/);
  });

  it('still generates when the schema only gains a field', async () => {
    const added = join(dir, 'with-new-field.graphql');
    await writeFile(added, apiSchema.replace(/type Product \{/, 'type Product {\n  giftWrapAvailable: Boolean'));
    const result = await codegen(added, join(dir, 'added'));
    expect(result.ok, result.output).toBe(true);
  });
});
