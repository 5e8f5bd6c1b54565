/**
 * What tests and tools share, small and without the test runner: ports, waiting, tokens, the
 * servers and database names, the repository's files they read. The in-process supergraph is
 * `@shop/test-support/harness`; the vitest stack on the test run's databases is `./stack`.
 */
export { freePort } from './ports.ts';
export { until, type UntilOptions } from './waiting.ts';
export { ALL_SCOPES, tokenFor } from './tokens.ts';
export { LOCAL_POSTGRES_URL, LOCAL_REDIS_URL, TEST_DATABASE_URL, TEST_REDIS_URL, runDatabaseName } from './servers.ts';
export { BENCHMARK_QUERY, BENCHMARK_QUERY_FILE, copySupergraphSources, SUPERGRAPH_YAML } from './repository.ts';
export { startHangingSubgraph, type HangingSubgraph } from './hanging-subgraph.ts';
export { startRedisServer, type RedisServer } from './redis-server.ts';
export { startPostgresInstance, type PostgresInstance } from './postgres-instance.ts';
export { startFaultyProxy, type FaultyProxy, type ProxyFault } from './faulty-proxy.ts';
export { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './otlp-receiver.ts';
