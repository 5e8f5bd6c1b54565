/**
 * A query plan executed as @apollo/gateway's `executeQueryPlan` executes it: the same nodes in the
 * same order, the same calls to the data sources, the same spans, the same merging, errors and
 * answer. What differs is only the cost, which the bench's profile put at 16% of the gateway's
 * CPU plus much of its garbage collection:
 * - the operation is turned into federation-internals' objects once per document and supergraph
 *   load, not on every request;
 * - no usage-reporting trace nodes (protobuf objects) are built for every plan node when nobody
 *   asked for traces (a request that asks for them is executed by Apollo's own executor);
 * - the entities at a path are gathered into one array (entity-paths.ts), representations and
 *   type conditions are answered without rebuilding paths or asking the schema again
 *   (representations.ts).
 * `@defer` and subscriptions, which Apollo's executor refuses, go to it to be refused the same way.
 */
import { createRequire } from 'node:module';
import type { Operation, Schema } from '@apollo/federation-internals';
import type { FetchNode, PlanNode, QueryPlan, QueryPlanSelectionNode } from '@apollo/query-planner';
import type { GatewayExecutionResult, GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import { SpanStatusCode, type Span } from '@opentelemetry/api';
import { executeSync, GraphQLError, Kind, OperationTypeNode, visit, type DocumentNode, type FieldNode, type GraphQLSchema, type OperationDefinitionNode, type VariableDefinitionNode } from 'graphql';
import { hydratedPaths, valuesAtPath } from './entity-paths.ts';
import { deepMerge } from './merge.ts';
import { representationOf } from './representations.ts';
import { responseObject } from '../result-shaping/response-object.ts';

const require = createRequire(import.meta.url);
const internals = require('@apollo/federation-internals') as typeof import('@apollo/federation-internals');
const { operationFromDocument, errorCodeDef, ERRORS } = internals;
const { evaluateCondition } = require('@apollo/query-planner') as typeof import('@apollo/query-planner');
/** Read at each call: result-shaping/install.ts replaces the export. */
const shapingModule = require('@apollo/gateway/dist/resultShaping.js') as { computeResponse: ComputeResponse };
const rewritesModule = require('@apollo/gateway/dist/dataRewrites.js') as {
  applyRewrites: (schema: GraphQLSchema, rewrites: FetchNode['outputRewrites'], value: unknown) => void;
};
const telemetryModule = require('@apollo/gateway/dist/utilities/opentelemetry.js') as {
  tracer: { startActiveSpan: <T>(name: string, options: { attributes?: Record<string, string> }, fn: (span: Span) => T) => T };
  OpenTelemetrySpanNames: { EXECUTE: string; FETCH: string; POST_PROCESSING: string };
  recordExceptions: (span: Span, exceptions: readonly unknown[], config: unknown) => void;
};
const { tracer, OpenTelemetrySpanNames: SPANS, recordExceptions } = telemetryModule;
const INCOMING_OPERATION = 'incoming operation';

type Data = Record<string, unknown>;
type RequestContext = GatewayGraphQLRequestContext<Record<string, unknown>>;
type ComputeResponse = (args: {
  operation: Operation;
  variables?: Record<string, unknown>;
  input: unknown;
  introspectionHandling: (field: { expandFragments(): { toSelectionNode(): FieldNode } }) => unknown;
}) => { data: unknown; errors: GraphQLError[] };

/** What Apollo's executor gets from ApolloGateway for each request. */
export interface OperationContext {
  schema: GraphQLSchema;
  operation: OperationDefinitionNode;
  fragments: Record<string, unknown>;
}
interface DataSource {
  process(options: unknown): Promise<{ data?: Data | null; errors?: readonly SubgraphError[]; extensions?: Data }>;
}
interface SubgraphError {
  message: string;
  path?: readonly (string | number)[];
  extensions?: Record<string, unknown>;
}
export type ServiceMap = Record<string, DataSource>;
export type ExecuteQueryPlan = (
  queryPlan: QueryPlan,
  serviceMap: ServiceMap,
  requestContext: RequestContext,
  operationContext: OperationContext,
  supergraphSchema: GraphQLSchema,
  apiSchema: Schema,
  telemetryConfig: unknown,
) => Promise<GatewayExecutionResult>;

interface Cursor {
  path: (string | number)[];
  data: unknown;
  fullResult: Data;
}
interface Execution {
  operation: Operation;
  serviceMap: ServiceMap;
  requestContext: RequestContext;
  supergraphSchema: GraphQLSchema;
  errors: GraphQLError[];
  telemetryConfig: unknown;
}

/**
 * Per API schema (one per supergraph load), per operation definition (Apollo Server's document
 * cache keeps one per query), with the fragment definitions it was built with: a document
 * rewritten by an earlier stage (authorization, correctness) can keep the operation's node and
 * change a fragment, and must not get the operation built from the other fragments.
 */
const operations = new WeakMap<Schema, WeakMap<OperationDefinitionNode, { fragments: unknown[]; operation: Operation }>>();

export function operationOf(apiSchema: Schema, operationContext: OperationContext): Operation {
  let byDefinition = operations.get(apiSchema);
  if (!byDefinition) {
    byDefinition = new WeakMap();
    operations.set(apiSchema, byDefinition);
  }
  const fragments = Object.values(operationContext.fragments);
  const cached = byDefinition.get(operationContext.operation);
  if (cached && cached.fragments.length === fragments.length && cached.fragments.every((fragment, i) => fragment === fragments[i])) return cached.operation;
  const document = { kind: Kind.DOCUMENT, definitions: [operationContext.operation, ...fragments] } as DocumentNode;
  const operation = operationFromDocument(apiSchema, document, { validate: false });
  byDefinition.set(operationContext.operation, { fragments, operation });
  return operation;
}

/** Plans with nodes only Apollo's executor answers (it refuses them): checked once per plan. */
const plansForApollo = new WeakMap<QueryPlan, boolean>();

export function needsApollosExecutor(queryPlan: QueryPlan, requestContext: RequestContext): boolean {
  if (requestContext.metrics?.captureTraces) return true;
  let answer = plansForApollo.get(queryPlan);
  if (answer === undefined) {
    answer = queryPlan.node !== undefined && hasUnsupportedNode(queryPlan.node);
    plansForApollo.set(queryPlan, answer);
  }
  return answer;
}

function hasUnsupportedNode(node: PlanNode | { kind: string }): boolean {
  const planNode = node as PlanNode;
  switch (planNode.kind) {
    case 'Sequence':
    case 'Parallel':
      return planNode.nodes.some(hasUnsupportedNode);
    case 'Flatten':
      return hasUnsupportedNode(planNode.node);
    case 'Fetch':
      return false;
    case 'Condition':
      return (!!planNode.ifClause && hasUnsupportedNode(planNode.ifClause)) || (!!planNode.elseClause && hasUnsupportedNode(planNode.elseClause));
    default:
      return true;
  }
}

export const executeQueryPlan: ExecuteQueryPlan = (queryPlan, serviceMap, requestContext, operationContext, supergraphSchema, apiSchema, telemetryConfig) =>
  tracer.startActiveSpan(SPANS.EXECUTE, {}, async (span) => {
    try {
      let operation: Operation;
      try {
        operation = operationOf(apiSchema, operationContext);
      } catch (error) {
        if (error instanceof GraphQLError) return { errors: [error] };
        throw error;
      }
      const execution: Execution = { operation, serviceMap, requestContext, supergraphSchema, errors: [], telemetryConfig };
      const unfilteredData = responseObject();
      if (queryPlan.node) await executeNode(execution, queryPlan.node as PlanNode, { path: [], data: unfilteredData, fullResult: unfilteredData });
      const result = postProcess(execution, operationContext, unfilteredData, requestContext);
      if (result.errors) {
        recordExceptions(span, result.errors, telemetryConfig);
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      return result;
    } catch (error) {
      recordExceptions(span, [error], telemetryConfig);
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  });

function postProcess(execution: Execution, operationContext: OperationContext, unfilteredData: Data, requestContext: RequestContext): GatewayExecutionResult {
  return tracer.startActiveSpan(SPANS.POST_PROCESSING, {}, (span) => {
    const { errors, telemetryConfig } = execution;
    try {
      const variables = requestContext.request.variables;
      const { data, errors: postProcessingErrors } = shapingModule.computeResponse({
        operation: execution.operation,
        variables,
        input: unfilteredData,
        introspectionHandling: (field) =>
          executeIntrospection(operationContext.schema, field.expandFragments().toSelectionNode(), operationContext.operation.variableDefinitions, variables),
      });
      if (errors.length === 0 && postProcessingErrors.length > 0) {
        recordExceptions(span, postProcessingErrors, telemetryConfig);
        span.setStatus({ code: SpanStatusCode.ERROR });
        return { extensions: { valueCompletion: postProcessingErrors }, data } as GatewayExecutionResult;
      }
      return (errors.length === 0 ? { data } : { errors, data }) as GatewayExecutionResult;
    } catch (error) {
      recordExceptions(span, [error], telemetryConfig);
      span.setStatus({ code: SpanStatusCode.ERROR });
      if (error instanceof GraphQLError) return { errors: [error] };
      if (error instanceof Error) return { errors: [new GraphQLError(error.message, { originalError: error })] };
      (requestContext.logger ?? console).error(`Unexpected error during query plan execution: ${String(error)}`);
      return { errors: [new GraphQLError('Unexpected error during query plan execution')] };
    } finally {
      span.end();
    }
  });
}

async function executeNode(execution: Execution, node: PlanNode, cursor: Cursor | undefined): Promise<void> {
  if (!cursor) return;
  switch (node.kind) {
    case 'Sequence':
      for (const child of node.nodes) await executeNode(execution, child, cursor);
      return;
    case 'Parallel':
      await Promise.all(node.nodes.map((child) => executeNode(execution, child, cursor)));
      return;
    case 'Flatten': {
      const data = valuesAtPath(cursor.data, node.path);
      // Apollo's executor skips a node whose path holds no value (null, undefined, false, 0, '').
      await executeNode(execution, node.node, data ? { path: cursor.path.concat(node.path), data, fullResult: cursor.fullResult } : undefined);
      return;
    }
    case 'Fetch':
      try {
        await executeFetch(execution, node, cursor);
      } catch (error) {
        execution.errors.push(error as GraphQLError);
      }
      return;
    case 'Condition': {
      const condition = evaluateCondition(node, execution.operation.variableDefinitions, execution.requestContext.request.variables);
      const picked = condition ? node.ifClause : node.elseClause;
      if (picked) await executeNode(execution, picked, cursor);
      return;
    }
    default:
      // needsApollosExecutor sends plans with other nodes to Apollo's executor before they get here.
      throw new Error(`Plan node ${(node as { kind: string }).kind} is executed by @apollo/gateway's executor only`);
  }
}

function executeFetch(execution: Execution, fetch: FetchNode, cursor: Cursor): Promise<void> {
  return tracer.startActiveSpan(SPANS.FETCH, { attributes: { service: fetch.serviceName } }, async (span) => {
    try {
      const service = execution.serviceMap[fetch.serviceName];
      if (!service) throw new Error(`Couldn't find service with name "${fetch.serviceName}"`);
      const entities: Data[] = [];
      if (Array.isArray(cursor.data)) {
        for (const value of cursor.data as unknown[]) if (value !== null && value !== undefined) entities.push(value as Data);
      } else {
        entities.push(cursor.data as Data);
      }
      if (entities.length < 1) return;
      const variables = Object.create(null) as Data;
      const provided = execution.requestContext.request.variables;
      if (fetch.variableUsages && provided) {
        for (const name of fetch.variableUsages) {
          if (Object.prototype.hasOwnProperty.call(provided, name) && provided[name] !== undefined) variables[name] = provided[name];
        }
      }
      const schema = execution.supergraphSchema;
      if (!fetch.requires) {
        const received = await send(execution, service, fetch, cursor, variables);
        if (received) rewritesModule.applyRewrites(schema, fetch.outputRewrites, received);
        for (const entity of entities) deepMerge(entity, received);
        return;
      }
      const requires: readonly QueryPlanSelectionNode[] = fetch.requires;
      const representations: Data[] = [];
      const representationToEntity: number[] = [];
      for (let index = 0; index < entities.length; index++) {
        const representation = representationOf(schema, entities[index], requires);
        if (representation && representation.__typename) {
          rewritesModule.applyRewrites(schema, fetch.inputRewrites, representation);
          representations.push(representation);
          representationToEntity.push(index);
        }
      }
      if (representations.length < 1) return;
      if ('representations' in variables) throw new Error(`Variables cannot contain key "representations"`);
      const received = await send(execution, service, fetch, cursor, { ...variables, representations });
      if (!received) return;
      const receivedEntities = received._entities;
      if (!(receivedEntities && Array.isArray(receivedEntities))) throw new Error(`Expected "data._entities" in response to be an array`);
      if (receivedEntities.length !== representations.length) throw new Error(`Expected "data._entities" to contain ${representations.length} elements`);
      for (let i = 0; i < representations.length; i++) {
        const receivedEntity = receivedEntities[i] as Data | null | undefined;
        const existingEntity = entities[representationToEntity[i]!]!;
        if (receivedEntity && !receivedEntity.__typename) receivedEntity.__typename = existingEntity.__typename;
        rewritesModule.applyRewrites(schema, fetch.outputRewrites, receivedEntity);
        deepMerge(existingEntity, receivedEntity);
      }
    } catch (error) {
      recordExceptions(span, [error], execution.telemetryConfig);
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  });
}

async function send(execution: Execution, service: DataSource, fetch: FetchNode, cursor: Cursor, variables: Data): Promise<Data | null | undefined> {
  const { requestContext } = execution;
  const response = await service.process({
    kind: INCOMING_OPERATION,
    request: { query: fetch.operation, variables, operationName: fetch.operationName, http: undefined },
    incomingRequestContext: requestContext,
    context: requestContext.context,
    document: fetch.operationDocumentNode,
    pathInIncomingRequest: cursor.path,
  });
  if (response.errors) {
    const pathOf = errorPaths(fetch, cursor);
    for (const error of response.errors) execution.errors.push(downstreamServiceError(error, fetch.serviceName, pathOf));
    if (!response.extensions?.ftv1) {
      const metrics = requestContext.metrics as { nonFtv1ErrorPaths?: { subgraph: string; path: unknown }[] };
      const paths = response.errors.map((error) => ({ subgraph: fetch.serviceName, path: error.path }));
      if (metrics.nonFtv1ErrorPaths) metrics.nonFtv1ErrorPaths.push(...paths);
      else metrics.nonFtv1ErrorPaths = paths;
    }
  }
  return response.data;
}

type ErrorPathOf = (path: readonly (string | number)[] | undefined) => (string | number)[] | undefined;

/** A subgraph error's path in the caller's answer: an `_entities` index becomes the path of that entity. */
function errorPaths(fetch: FetchNode, cursor: Cursor): ErrorPathOf {
  let hydrated: (string | number)[][] | undefined;
  return (errorPath) => {
    if (fetch.requires && typeof errorPath?.[1] === 'number') {
      if (!hydrated) {
        hydrated = [];
        hydratedPaths([], cursor.path, 0, cursor.fullResult, hydrated);
      }
      return [...(hydrated[errorPath[1]] ?? []), ...errorPath.slice(2)];
    }
    return errorPath ? [...cursor.path, ...errorPath] : undefined;
  };
}

function downstreamServiceError(original: SubgraphError, serviceName: string, pathOf: ErrorPathOf): GraphQLError {
  const message = original.message || `Error while fetching subquery from service "${serviceName}"`;
  const { extensions } = original;
  const options = {
    originalError: original as Error,
    path: pathOf(original.path),
    extensions: { ...extensions, serviceName },
  };
  const codeDef = errorCodeDef(original as GraphQLError);
  if (!codeDef && extensions?.code) return new GraphQLError(message, options);
  return (codeDef ?? ERRORS.DOWNSTREAM_SERVICE_ERROR).err(message, options);
}

function executeIntrospection(
  schema: GraphQLSchema,
  selection: FieldNode,
  variableDefinitions: readonly VariableDefinitionNode[] | undefined,
  variableValues: Record<string, unknown> | undefined,
): unknown {
  const used = new Set<string>();
  visit(selection, {
    Variable: ({ name }) => {
      used.add(name.value);
    },
  });
  const document: DocumentNode = {
    kind: Kind.DOCUMENT,
    definitions: [
      {
        kind: Kind.OPERATION_DEFINITION,
        operation: OperationTypeNode.QUERY,
        variableDefinitions: variableDefinitions?.filter((definition) => used.has(definition.variable.name.value)),
        selectionSet: { kind: Kind.SELECTION_SET, selections: [selection] },
      },
    ],
  };
  const { data, errors } = executeSync({ schema, document, rootValue: {}, variableValues });
  if ((errors && errors.length > 0) || !data) throw new Error(`Introspection query for ${JSON.stringify(selection)} should not have failed but got ${JSON.stringify(errors)}`);
  const responseName = selection.alias?.value ?? selection.name.value;
  return Object.prototype.hasOwnProperty.call(data, responseName) ? data[responseName] : undefined;
}
