/** What tests and measuring tools share, without the test runner (see ./stack for the vitest stack). */
export { startHangingSubgraph, type HangingSubgraph } from './hanging-subgraph.ts';
export { startInProcessStack, type InProcessStack } from './in-process-stack.ts';
export { startSubgraphsInProcess, type InProcessSubgraphs } from './in-process-subgraphs.ts';
export { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './otlp-receiver.ts';
export { TEST_DATABASE_URL, TEST_REDIS_URL } from './test-env.ts';
