import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ConfigError, env, loadConfig } from '@shop/service-kit';

/** Shipped only so `npm start` works with no set-up; the gateway refuses it in production. */
export const DEVELOPMENT_JWT_SECRET = 'development-only-secret-change-me-0123456789';

export const DEFAULT_SUPERGRAPH_PATH = fileURLToPath(new URL('../supergraph.graphql', import.meta.url));

/** An on/off switch: `true|false` (also 1/0, on/off). */
const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'on', 'off'], { message: 'expected true or false' })
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'on');

export const gatewayEnv = z
  .object({
    NODE_ENV: env.nodeEnv(),
    HOST: env.host('0.0.0.0'),
    PORT: env.port(4000),
    LOG_LEVEL: env.logLevel(),
    /** The composed supergraph SDL (`npm run compose` writes it); reloaded when it changes. */
    SUPERGRAPH_PATH: z.string().min(1).default(DEFAULT_SUPERGRAPH_PATH),
    /** How often the supergraph file is checked for changes. */
    SUPERGRAPH_POLL_MS: env.positiveInt(1000, 600_000),
    /** HS256 secret that signs development and test bearer tokens (at least 32 characters). */
    AUTH_JWT_SECRET: z.string().min(32, 'expected at least 32 characters').default(DEVELOPMENT_JWT_SECRET),
    AUTH_JWT_ISSUER: z.string().min(1).optional(),
    AUTH_JWT_AUDIENCE: z.string().min(1).optional(),
    MAX_BODY_BYTES: env.positiveInt(1024 * 1024, 50 * 1024 * 1024),
    /** Per subgraph fetch; a slow subgraph fails its part of the response, not the whole gateway. */
    SUBGRAPH_TIMEOUT_MS: env.positiveInt(10_000, 300_000),
    /** Keep-alive connections per subgraph origin. */
    SUBGRAPH_CONNECTIONS: env.positiveInt(64, 10_000),
    DRAIN_TIMEOUT_MS: env.positiveInt(10_000, 600_000),
    // Speed features (issue 5); each one's module says what it does and when it is safe.
    /** Identical in-flight queries (document, variables, identity) share one execution. */
    INBOUND_DEDUP: flag(true),
    /** Identical in-flight subgraph query fetches share one HTTP call. */
    SUBGRAPH_DEDUP: flag(true),
    /** Whole-response cache for queries, honouring the @cacheControl policy; per identity for PRIVATE data. */
    RESPONSE_CACHE: z.enum(['off', 'memory', 'redis']).default('off'),
    /** Largest in-process response cache, in MiB (RESPONSE_CACHE=memory). */
    RESPONSE_CACHE_MAX_MB: env.positiveInt(64, 16_384),
    /** Redis shared by every replica (RESPONSE_CACHE=redis). */
    REDIS_URL: z
      .string()
      .refine((v) => /^rediss?:\/\//.test(v) && URL.canParse(v), 'expected a redis:// or rediss:// URL')
      .default('redis://127.0.0.1:6379'),
    /** Prefix of the cache's Redis keys, so deployments (and test runs) sharing a Redis stay apart. */
    RESPONSE_CACHE_NAMESPACE: z.string().min(1).default('shop:gateway:response:'),
    /** Compress answers for clients that accept br or gzip (off: loopback and proxies that compress). */
    COMPRESSION: flag(false),
    /** Smallest answer that is compressed, in bytes. */
    COMPRESSION_MIN_BYTES: env.positiveInt(1024, 100 * 1024 * 1024),
    /** Gateway processes serving one port (node:cluster); 1 serves from this process. */
    WORKERS: env.positiveInt(1, 256),
    /** Approximate size of the query plan cache, in MiB. */
    QUERY_PLAN_CACHE_MB: env.positiveInt(30, 16_384),
    /** Approximate size of the parsed and validated document cache, in MiB. */
    DOCUMENT_CACHE_MB: env.positiveInt(30, 16_384),
  })
  .superRefine((config, ctx) => {
    if (config.NODE_ENV === 'production' && config.AUTH_JWT_SECRET === DEVELOPMENT_JWT_SECRET) {
      ctx.addIssue({
        code: 'custom',
        path: ['AUTH_JWT_SECRET'],
        message: 'must be set to a secret of your own in production (the built-in development secret is public)',
      });
    }
  });
export type GatewayConfig = z.infer<typeof gatewayEnv> & {
  /** Subgraph name -> URL, replacing the routing URLs in the supergraph (SUBGRAPH_URL_<NAME>). */
  subgraphUrlOverrides: Record<string, string>;
};

const OVERRIDE_PREFIX = 'SUBGRAPH_URL_';

/**
 * SUBGRAPH_URL_<NAME>=url points a subgraph elsewhere without recomposing, the way a
 * deployment moves a subgraph behind a different service name or load balancer.
 */
export function subgraphUrlOverrides(environment: NodeJS.ProcessEnv): Record<string, string> {
  const overrides: Record<string, string> = {};
  const problems: string[] = [];
  for (const [key, value] of Object.entries(environment)) {
    if (!key.startsWith(OVERRIDE_PREFIX) || !value) continue;
    const name = key.slice(OVERRIDE_PREFIX.length).toLowerCase();
    const parsed = env.httpUrl().safeParse(value);
    if (!parsed.success) problems.push(`${key}: expected an http(s) URL (got ${JSON.stringify(value)})`);
    else overrides[name] = value;
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return overrides;
}

export function loadGatewayConfig(environment: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return { ...loadConfig(gatewayEnv, environment), subgraphUrlOverrides: subgraphUrlOverrides(environment) };
}
