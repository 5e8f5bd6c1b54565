import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire } from 'node:module';
import { isDeepStrictEqual } from 'node:util';
import type { ApolloGateway } from '@apollo/gateway';
import type { Operation, Schema } from '@apollo/federation-internals';
import type { DocumentNode, GraphQLError } from 'graphql';
import { compileShaping, shapeResponse, type CompiledShaping } from './compiled-shaping.ts';

export type ResultShapingMode = 'compiled' | 'apollo' | 'verify';

type ComputeResponse = (args: { operation: Operation; variables?: Record<string, unknown>; input: unknown; introspectionHandling: unknown }) => {
  data: unknown;
  errors: GraphQLError[];
};
type Executor = NonNullable<Awaited<ReturnType<ApolloGateway['load']>>['executor']>;

const require = createRequire(import.meta.url);
/** The module @apollo/gateway's executeQueryPlan.js calls `computeResponse` through, at each call. */
const shapingModule = require('@apollo/gateway/dist/resultShaping.js') as { computeResponse: ComputeResponse };
const apollosComputeResponse = shapingModule.computeResponse;

/** The document and operation name the executor is running, for the compiled shaping of that operation. */
const executing = new AsyncLocalStorage<{ document: DocumentNode; operationName: string }>();
/** Per API schema (a supergraph load), per document (Apollo Server's document cache keeps one object per query), per operation name. */
const compiled = new WeakMap<Schema, WeakMap<DocumentNode, Map<string, CompiledShaping | null>>>();
let mode: ResultShapingMode = 'apollo';

/** Thrown in verify mode when the compiled shaping answers otherwise than Apollo's. */
export class ResultShapingMismatch extends Error {}

function compiledFor(operation: Operation): CompiledShaping | null {
  const current = executing.getStore();
  if (!current) return null;
  const schema = operation.schema();
  let documents = compiled.get(schema);
  if (!documents) {
    documents = new WeakMap();
    compiled.set(schema, documents);
  }
  let byName = documents.get(current.document);
  if (!byName) {
    byName = new Map();
    documents.set(current.document, byName);
  }
  let shaping = byName.get(current.operationName);
  if (shaping === undefined) {
    shaping = compileShaping(operation);
    byName.set(current.operationName, shaping);
  }
  return shaping;
}

const computeResponse: ComputeResponse = (args) => {
  if (mode === 'apollo') return apollosComputeResponse(args);
  const shaping = compiledFor(args.operation);
  if (!shaping) return apollosComputeResponse(args);
  if (mode === 'compiled') return shapeResponse(shaping, args.variables, args.input);
  // verify: both from the same input (neither changes it), compared as JSON values with their error messages and paths.
  const ours = shapeResponse(shaping, args.variables, args.input);
  const apollos = apollosComputeResponse(args);
  const comparable = (r: { data: unknown; errors: GraphQLError[] }) => ({
    data: JSON.parse(JSON.stringify(r.data ?? null)) as unknown,
    errors: r.errors.map((e) => ({ message: e.message, path: e.path })),
  });
  if (!isDeepStrictEqual(comparable(ours), comparable(apollos))) {
    throw new ResultShapingMismatch(
      `compiled result shaping differs from Apollo's: ${JSON.stringify(comparable(ours)).slice(0, 500)} vs ${JSON.stringify(comparable(apollos)).slice(0, 500)}`,
    );
  }
  return apollos;
};

/**
 * Apollo's executor shapes every answer (computeResponse) by walking the operation's selections
 * through federation-internals' objects at each value: 18% of the gateway's CPU under the bench's
 * load. RESULT_SHAPING=compiled (the default) answers with the same walk over the operation
 * compiled once (compiled-shaping.ts); `verify` runs both and fails a request whose answers
 * differ (the test suite runs so: vitest.config.ts); `apollo` leaves Apollo's. One process has
 * one mode: a gateway started later sets it again (`verify` in the environment always wins).
 */
export function installResultShaping(configured: ResultShapingMode): void {
  mode = process.env.RESULT_SHAPING === 'verify' ? 'verify' : configured;
  shapingModule.computeResponse = mode === 'apollo' ? apollosComputeResponse : computeResponse;
}

type GatewayLike = Pick<ApolloGateway, 'load' | 'onSchemaLoadOrUpdate' | 'stop'>;

/** @apollo/gateway with the document each execution runs known to the result shaping (innermost: what the planner gets). */
export function shapingGateway(gateway: GatewayLike) {
  const shaping =
    (execute: Executor): Executor =>
    (requestContext) =>
      executing.run({ document: requestContext.document, operationName: requestContext.request.operationName ?? '' }, () => execute(requestContext));
  return {
    async load(options: Parameters<ApolloGateway['load']>[0]) {
      const loaded = await gateway.load(options);
      return { ...loaded, executor: loaded.executor ? shaping(loaded.executor) : loaded.executor };
    },
    onSchemaLoadOrUpdate: (callback: Parameters<ApolloGateway['onSchemaLoadOrUpdate']>[0]) => gateway.onSchemaLoadOrUpdate(callback),
    stop: () => gateway.stop(),
  } satisfies GatewayLike;
}
