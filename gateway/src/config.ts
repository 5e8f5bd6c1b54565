import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ConfigError, env, loadConfig } from '@shop/service-kit';

/** Shipped only so `npm start` works with no set-up; the gateway refuses it in production. */
export const DEVELOPMENT_JWT_SECRET = 'development-only-secret-change-me-0123456789';

export const DEFAULT_SUPERGRAPH_PATH = fileURLToPath(new URL('../supergraph.graphql', import.meta.url));

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
