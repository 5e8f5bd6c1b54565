export { startGateway, type RunningGateway } from './server.ts';
export { gatewayEnv, loadGatewayConfig, DEFAULT_SUPERGRAPH_PATH, DEVELOPMENT_JWT_SECRET, type GatewayConfig } from './config.ts';
export { declareEnforcedSecurityFeatures } from './auth/authorization/requirements.ts';
