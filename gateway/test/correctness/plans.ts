import { Supergraph, operationFromDocument } from '@apollo/federation-internals';
import { QueryPlanner, prettyFormatQueryPlan } from '@apollo/query-planner';
import { parse, type DocumentNode } from 'graphql';
import type { SupergraphFacts } from '../../src/correctness/operation-corrections.ts';
import { requiresConflicts, requiresIndex } from '../../src/correctness/requires-index.ts';

/** Apollo's planner (the one @apollo/gateway runs) on a supergraph, for tests that look at plans. */
export function plannerOf(supergraphSdl: string) {
  const supergraph = Supergraph.build(supergraphSdl);
  const planner = new QueryPlanner(supergraph);
  const requires = requiresIndex(supergraphSdl);
  const facts: SupergraphFacts = { schema: supergraph.apiSchema().toGraphQLJSSchema(), requires, conflicts: requiresConflicts(requires) };
  return {
    facts,
    /** The plan as Apollo prints it. */
    plan(document: DocumentNode | string, operationName?: string): string {
      const parsed = typeof document === 'string' ? parse(document) : document;
      return prettyFormatQueryPlan(planner.buildQueryPlan(operationFromDocument(supergraph.schema, parsed, { operationName })));
    },
  };
}
