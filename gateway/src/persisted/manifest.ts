import { readFile } from 'node:fs/promises';
import { printSchema, Supergraph } from '@apollo/federation-internals';
import { buildSchema, GraphQLError, Kind, parse, validate, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { z } from 'zod';
import { PersistedError } from './errors.ts';
import { formatPath, operationSchema } from './records.ts';
import type { PersistedOperation, PersistedQueryManifest } from './types.ts';

/** Apollo's persisted query manifest, as `@apollo/generate-persisted-query-manifest` writes it. */
export const manifestSchema = z.object({
  format: z.literal('apollo-persisted-query-manifest', { message: 'format must be "apollo-persisted-query-manifest"' }),
  version: z.literal(1, { message: 'version must be 1 (the only manifest version there is)' }),
  operations: z.array(operationSchema, { message: 'operations must be an array of { id, name, type, body }' }),
});

/** Parses a manifest's text; every problem names its field, e.g. `operations[3].type (GetCart): ...`. */
export function parseManifest(text: string, source = 'manifest'): PersistedQueryManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new PersistedError('MANIFEST_INVALID_JSON', `${source} is not valid JSON: ${(error as Error).message}`);
  }
  const result = manifestSchema.safeParse(raw);
  if (result.success) return result.data;
  const operations = (raw as { operations?: unknown } | null)?.operations;
  const problems = result.error.issues.map((issue) => {
    const [field, index] = issue.path;
    // Name the operation as well as its index: the name is what a person searches their code for.
    const operation = field === 'operations' && typeof index === 'number' && Array.isArray(operations) ? (operations[index] as unknown) : undefined;
    const name = operation && typeof operation === 'object' && 'name' in operation && typeof operation.name === 'string' ? operation.name : '';
    return `${formatPath(issue.path)}${name ? ` (${name})` : ''}: ${issue.message}`;
  });
  throw new PersistedError('MANIFEST_INVALID', `${source} is not a valid persisted query manifest:`, problems);
}

export async function readManifestFile(path: string): Promise<PersistedQueryManifest> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new PersistedError('MANIFEST_UNREADABLE', `Cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return parseManifest(text, path);
}

/** An operation that the schema refuses, with every reason. */
export interface OperationFailure {
  index: number;
  id: string;
  name: string;
  messages: string[];
}

function describe(error: GraphQLError): string {
  const location = error.locations?.[0];
  return location ? `${error.message} (line ${location.line}, column ${location.column})` : error.message;
}

/**
 * Checks each operation as the gateway would execute it: it parses, holds exactly one
 * operation of the declared type and name, and validates against the API schema. Ids must be
 * unique, or the gateway could not tell two operations apart.
 */
export function validateOperations(apiSchema: GraphQLSchema, operations: readonly PersistedOperation[]): OperationFailure[] {
  const failures: OperationFailure[] = [];
  const firstIndexById = new Map<string, number>();
  operations.forEach((operation, index) => {
    const messages: string[] = [];
    const first = firstIndexById.get(operation.id);
    if (first === undefined) firstIndexById.set(operation.id, index);
    else messages.push(`id ${operation.id} is also the id of operations[${first}] (${operations[first]!.name}); ids must be unique`);

    let document;
    try {
      document = parse(operation.body);
    } catch (error) {
      messages.push(error instanceof GraphQLError ? describe(error) : String(error));
    }
    if (document) {
      const definitions = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
      if (definitions.length !== 1) {
        messages.push(`the body must hold exactly one operation, found ${definitions.length}`);
      } else {
        const definition = definitions[0]!;
        if (definition.operation !== operation.type) {
          messages.push(`type is "${operation.type}" but the document is a ${definition.operation}`);
        }
        if (definition.name && definition.name.value !== operation.name) {
          messages.push(`name is "${operation.name}" but the document's operation is named "${definition.name.value}"`);
        }
      }
      messages.push(...validate(apiSchema, document).map(describe));
    }
    if (messages.length > 0) failures.push({ index, id: operation.id, name: operation.name, messages });
  });
  return failures;
}

/** The schema clients see: the supergraph without its federation machinery or @inaccessible elements. */
export function apiSchemaFromSupergraph(supergraphSdl: string): GraphQLSchema {
  try {
    // No feature allow-list: security and cost features (@authenticated, @requiresScopes, @cost) do not
    // change which operations are valid, and whether the gateway can serve them is checked where it loads.
    const apiSchema = Supergraph.build(supergraphSdl, { supportedFeatures: null }).apiSchema();
    // Rebuilt from SDL rather than `toGraphQLJSSchema()`: federation-internals is CommonJS and holds its own
    // `graphql` instance where a bundler (vitest) loads ours as ESM, and `validate` refuses a schema from
    // "another module or realm". Printing and parsing makes the schema ours wherever this runs.
    return buildSchema(printSchema(apiSchema));
  } catch (error) {
    throw new PersistedError('SUPERGRAPH_INVALID', `The supergraph cannot be loaded (recompose it with \`npm run compose\`): ${error instanceof Error ? error.message : String(error)}`);
  }
}
