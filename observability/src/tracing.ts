import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { OTLPTraceExporter as OTLPJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { PrismaInstrumentation } from '@prisma/instrumentation';
import { z } from 'zod';
import { installPropagation, propagationInstalledBySdk, w3cPropagator } from './propagation.ts';
import { SqlAttributesProcessor } from './sql-attributes.ts';

/**
 * The standard OpenTelemetry variables this set-up honours, validated at start-up like every
 * other variable (a typo in a sampler ratio must stop the service, not silently trace 0%).
 * Empty variables count as unset.
 */
export const tracingEnv = z.object({
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ message: 'expected an http(s) URL such as http://localhost:4318' }).optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url({ message: 'expected an http(s) URL such as http://localhost:4318/v1/traces' }).optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: z.enum(['http/protobuf', 'http/json']).optional(),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: z.enum(['http/protobuf', 'http/json']).optional(),
  /** `otlp` exports to the default endpoint (http://localhost:4318) even with no endpoint set; `none` never. */
  OTEL_TRACES_EXPORTER: z.enum(['otlp', 'none']).optional(),
  /** Share of new traces that are sampled; a request arriving with a parent keeps its parent's decision. */
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0, 'expected a ratio from 0 to 1').max(1, 'expected a ratio from 0 to 1').default(1),
  // Unset is production, as for every service (service-kit's env.nodeEnv).
  NODE_ENV: z.enum(['development', 'test', 'production']).default('production'),
});
export type TracingEnv = z.infer<typeof tracingEnv>;

export interface TracingOptions {
  service: string;
  version?: string;
  env?: NodeJS.ProcessEnv;
  /** Extra processors (tests collect spans in memory with one). */
  spanProcessors?: SpanProcessor[];
}

export interface Tracing {
  /** Whether spans are recorded at all (an exporter or a processor is configured). */
  readonly enabled: boolean;
  /** Flushes the spans still buffered and stops exporting. */
  shutdown(): Promise<void>;
}

export function readTracingConfig(env: NodeJS.ProcessEnv): TracingEnv {
  const cleaned = Object.fromEntries(Object.keys(tracingEnv.shape).flatMap((key) => (env[key] ? [[key, env[key]]] : [])));
  const parsed = tracingEnv.safeParse(cleaned);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `  - ${String(issue.path[0])}: ${issue.message}`).join('\n');
  throw new Error(`Invalid tracing configuration:\n${problems}`);
}

/** The exporter the standard variables select, or none: no endpoint and no OTEL_TRACES_EXPORTER means no export. */
export function exporterFromEnv(config: TracingEnv): SpanExporter | null {
  if (config.OTEL_TRACES_EXPORTER === 'none') return null;
  const wanted = config.OTEL_TRACES_EXPORTER === 'otlp' || config.OTEL_EXPORTER_OTLP_ENDPOINT || config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (!wanted) return null;
  const protocol = config.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? config.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf';
  // The signal-specific endpoint is used as is; the generic one gets the signal's path, as the spec says.
  const url =
    config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
    `${(config.OTEL_EXPORTER_OTLP_ENDPOINT ?? DEFAULT_OTLP_ENDPOINT).replace(/\/+$/, '')}/v1/traces`;
  return protocol === 'http/json' ? new OTLPJsonTraceExporter({ url }) : new OTLPProtoTraceExporter({ url });
}

/** Where Jaeger v2 (and the OpenTelemetry Collector) receive OTLP over HTTP. */
export const DEFAULT_OTLP_ENDPOINT = 'http://localhost:4318';

let current: Tracing | null = null;

/**
 * The one tracing set-up of every service: a tracer provider with the service's resource, a
 * parent-based ratio sampler, W3C trace context and baggage over AsyncLocalStorage, Prisma's
 * instrumentation, and an OTLP/HTTP exporter when one is configured. With nothing to export it
 * registers no provider, so the tracing API stays a no-op on the hot path.
 *
 * The tracer provider rather than `@opentelemetry/sdk-node`'s NodeSDK: the NodeSDK module loads
 * the metrics and logs SDKs and every exporter it can configure, megabytes of heap in every
 * process, for features this set-up does not use (metrics are prom-client's, logs are pino's).
 */
export function startTracing(options: TracingOptions): Tracing {
  if (current) return current;
  const config = readTracingConfig(options.env ?? process.env);
  const exporter = exporterFromEnv(config);
  // A federated request of a big plan makes a few hundred spans across the stack: the queue
  // holds several such requests between exports rather than dropping spans of a burst.
  const batching = { maxQueueSize: 16_384, maxExportBatchSize: 1_024, scheduledDelayMillis: 1_000 };
  const processors = [...(exporter ? [new BatchSpanProcessor(exporter, batching)] : []), ...(options.spanProcessors ?? [])];
  if (processors.length === 0) {
    installPropagation();
    current = { enabled: false, shutdown: async () => {} };
    return current;
  }
  const environment = config.NODE_ENV;
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      'service.name': config.OTEL_SERVICE_NAME ?? options.service,
      'service.version': options.version ?? '0.0.0',
      // The stable name and the older one Jaeger's UI and many dashboards still read.
      'deployment.environment.name': environment,
      'deployment.environment': environment,
    }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.OTEL_TRACES_SAMPLER_ARG) }),
    spanProcessors: [new SqlAttributesProcessor(), ...processors],
  });
  // With no context manager given, register() installs AsyncLocalStorage's.
  provider.register({ propagator: w3cPropagator() });
  propagationInstalledBySdk();
  // Prisma's instrumentation hooks a global the client reads when constructed: no module patching.
  const prisma = new PrismaInstrumentation();
  prisma.setTracerProvider(provider);
  prisma.enable();
  let stopped: Promise<void> | null = null;
  current = {
    enabled: true,
    shutdown: () =>
      (stopped ??= (async () => {
        prisma.disable();
        await provider.shutdown();
      })()),
  };
  return current;
}

/** Flushes and stops the tracing started in this process, if any. */
export async function shutdownTracing(): Promise<void> {
  await current?.shutdown();
}

/** The version in the package.json next to a service's `src/` folder. */
export function packageVersion(entryFile: string): string {
  try {
    const pkg = JSON.parse(readFileSync(join(dirname(dirname(entryFile)), 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}
