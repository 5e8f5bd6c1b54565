export { startGateway, type RunningGateway } from './server.ts';
export { gatewayEnv, loadGatewayConfig, DEVELOPMENT_JWT_SECRET, type GatewayConfig } from './config.ts';
export { composeSupergraph, type CompositionResult } from './composition/compose.ts';
export { readSupergraphConfig, type SupergraphConfig } from './composition/supergraph-config.ts';
