/**
 * The shop's supergraph in this process, in layers a consumer takes as far as it needs:
 * databases (createRunDatabases, seededDatabases) -> subgraphs (startSubgraphsInProcess) ->
 * supergraph file and gateways (startInProcessSupergraph). Composition itself is
 * composeSupergraphFile of @shop/supergraph-tools.
 */
export { createRunDatabases, seededDatabases, type RunDatabases } from './databases.ts';
export { startSubgraphsInProcess, type InProcessSubgraphs } from './in-process-subgraphs.ts';
export { startInProcessSupergraph, type InProcessSupergraph, type InProcessSupergraphOptions } from './in-process-supergraph.ts';
