import { z } from 'zod';
import { loadConfig } from '@shop/service-kit';

/**
 * V8 grows its heap lazily under a high allocation rate (the gateway allocates a result tree per
 * request) up to a limit of several GB, so a busy gateway's RSS is mostly garbage not yet
 * collected. A cap makes V8 collect sooner at about the same throughput (measured in
 * tools/bench/RESULTS.md). A cap alone is a hard limit that unbounded concurrency can exhaust; the
 * admission control of gateway/src/limits/admission.ts bounds the executions in flight and holds
 * new ones back while the heap is near its limit, which makes the cap safe. 0 leaves V8's default.
 * The flags must be given when the process starts, so whoever launches the gateway (npm start,
 * the bench; cluster workers inherit them) passes them; a deployment sets NODE_OPTIONS itself.
 */
export const heapEnv = z.object({
  GATEWAY_HEAP_MB: z.coerce
    .number({ message: 'expected a number of MiB (0: V8 default)' })
    .int('expected a whole number of MiB')
    .min(0, 'expected 0 or more')
    .max(65_536, 'expected at most 65536')
    .refine((mb) => mb === 0 || mb >= 64, 'expected 0 (V8 default) or at least 64 MiB: below that the gateway cannot hold its supergraph and plans')
    .default(192),
  /** V8's young generation semi-space; 0 leaves V8's default (16 MiB on 64-bit). */
  GATEWAY_SEMI_SPACE_MB: z.coerce
    .number({ message: 'expected a number of MiB (0: V8 default)' })
    .int('expected a whole number of MiB')
    .min(0, 'expected 0 or more')
    .max(1024, 'expected at most 1024')
    .default(0),
});

export function gatewayNodeFlags(environment: NodeJS.ProcessEnv = process.env): string[] {
  const { GATEWAY_HEAP_MB, GATEWAY_SEMI_SPACE_MB } = loadConfig(heapEnv, environment);
  return [
    ...(GATEWAY_HEAP_MB > 0 ? [`--max-old-space-size=${GATEWAY_HEAP_MB}`] : []),
    ...(GATEWAY_SEMI_SPACE_MB > 0 ? [`--max-semi-space-size=${GATEWAY_SEMI_SPACE_MB}`] : []),
  ];
}
