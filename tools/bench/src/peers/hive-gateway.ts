/**
 * The peer: Hive Gateway's runtime (@graphql-hive/gateway-runtime, what the hive-gateway CLI
 * serves) on node:http, with inbound request deduplication as configured.
 */
import { createServer } from 'node:http';
import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';
import { createInMemoryAPQStore, useAPQ } from '@graphql-yoga/plugin-apq';
import { peerEnv } from './peer-env.ts';

const config = peerEnv();
const gateway = createGatewayRuntime({
  supergraph: config.SUPERGRAPH_PATH,
  inboundInflightRequestDeduplication: config.INBOUND_DEDUP,
  logging: 'error',
  // Apollo's APQ protocol, for the persisted-ID scenario (Hive Gateway documents this plugin). Its
  // store forgets a query after 36 s by default; 300 s like Apollo Server's APQ cache.
  plugins: () => [useAPQ({ store: createInMemoryAPQStore({ ttl: 300_000 }) })],
});
const server = createServer(gateway);
server.listen(config.PORT, '127.0.0.1', () => process.send?.({ type: 'listening' }));
