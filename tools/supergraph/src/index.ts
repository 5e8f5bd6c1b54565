export {
  composeSupergraph,
  composeSupergraphFile,
  CompositionError,
  formatCompositionErrors,
  writeSupergraphFile,
  type ComposeOptions,
  type CompositionProblem,
  type CompositionResult,
} from './compose.ts';
export { readCurrentSupergraph, SupergraphUnavailableError } from './current-supergraph.ts';
export { checkConfiguredStore, checkPublishedOperations } from './published-check.ts';
export { readSupergraphConfig, SupergraphConfigError, type SupergraphConfig } from './supergraph-config.ts';
