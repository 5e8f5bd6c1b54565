import { z } from 'zod';
import { loadConfig } from '@shop/service-kit';

/**
 * V8 grows its heap lazily under a high allocation rate (the gateway allocates a result tree per
 * request) up to a limit of several GB, so a busy gateway's RSS is mostly garbage not yet
 * collected. A cap makes V8 collect sooner: under the reference benchmark load it keeps peak RSS
 * near 210-230 MB instead of 350-420 MB (gateway/bench/RESULTS.md). It must be given when the
 * process starts, so whoever launches the gateway (npm start, the bench, cluster workers, which
 * inherit it) passes these flags. GATEWAY_HEAP_MB=0 leaves V8's own limit; raise it for workloads
 * with many large answers in flight at once.
 */
export const heapEnv = z.object({
  GATEWAY_HEAP_MB: z.coerce
    .number({ message: 'expected a number of MiB (0: V8 default)' })
    .int('expected a whole number of MiB')
    .min(0, 'expected 0 or more')
    .max(65_536, 'expected at most 65536')
    .default(128),
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
