import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ConfigError, env, keyIdSchema, loadConfig, REDIS_DEFAULTS, signingKeySchema } from '@shop/service-kit';
import { clientNameSchema } from './persisted/records.ts';

/** Shipped only so `npm start` works with no set-up; the gateway refuses it in production. */
export const DEVELOPMENT_JWT_SECRET = 'development-only-secret-change-me-0123456789';

export const DEFAULT_SUPERGRAPH_PATH = fileURLToPath(new URL('../supergraph.graphql', import.meta.url));
/** The cost limit when COST_LIMIT is unset: the shop's heaviest page (the benchmark query) costs 6,525. */
export const DEFAULT_COST_LIMIT = 10_000;

export const DEFAULT_PERSISTED_DIR = fileURLToPath(new URL('../../.data/persisted', import.meta.url));

/**
 * The explorer's browser sources, and where their build is kept (`npm run build` writes it; outside
 * production the gateway builds it there on first use). Resolved here, one level under the package
 * like dist/main.js, so they name the same directories from the sources and from the bundle.
 */
export const EXPLORER_PATHS = {
  sources: fileURLToPath(new URL('../explorer/', import.meta.url)),
  assets: fileURLToPath(new URL('../dist/explorer/', import.meta.url)),
  lockfile: fileURLToPath(new URL('../../package-lock.json', import.meta.url)),
} as const;

const csv = <T extends z.ZodType>(item: T) =>
  z.string().transform((value, ctx) => {
    const items = value.split(',').map((v) => v.trim()).filter(Boolean);
    const parsed = z.array(item).safeParse(items);
    if (!parsed.success) {
      ctx.addIssue({ code: 'custom', message: `expected a comma-separated list: ${parsed.error.issues[0]?.message}` });
      return z.NEVER;
    }
    return parsed.data as z.infer<T>[];
  });

const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
const policy = z.enum(['enforce', 'log', 'off']);

/** An on/off switch: `true|false` (also 1/0, on/off). */
const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'on', 'off'], { message: 'expected true or false' })
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'on');

/** A number between 0 and 1. */
const share = (expected: string, fallback: number) =>
  z.coerce.number({ message: `expected ${expected}` }).min(0, `expected ${expected}`).max(1, `expected ${expected}`).default(fallback);

/** One subgraph's resilience settings, each one optional over the SUBGRAPH_* defaults. */
const resilienceOverrideSchema = z
  .object({
    timeoutMs: z.number().int().min(1).max(300_000),
    retries: z.number().int().min(0).max(10),
    retryDelayMs: z.number().int().min(1).max(60_000),
    retryMaxDelayMs: z.number().int().min(1).max(60_000),
    retryBudgetRatio: z.number().min(0).max(1),
    retryBudgetMin: z.number().int().min(0).max(1_000_000),
    breakerThreshold: z.number().gt(0).lt(1),
    breakerWindow: z.number().int().min(1).max(10_000),
    breakerMinCalls: z.number().int().min(1).max(10_000),
    breakerHalfOpenMs: z.number().int().min(1).max(600_000),
  })
  .partial()
  .strict();
const resilienceOverridesSchema = z.record(
  z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/, 'expected subgraph names as keys'),
  resilienceOverrideSchema,
);

/** How the gateway calls one subgraph: timeout, retries and their budget, circuit breaker. */
export type SubgraphResilience = Required<z.infer<typeof resilienceOverrideSchema>>;

export const gatewayEnv = z
  .object({
    NODE_ENV: env.nodeEnv(),
    HOST: env.host('0.0.0.0'),
    PORT: env.port(4000),
    LOG_LEVEL: env.logLevel(),
    /**
     * /metrics is served on its own listener, off the public port (operation and client names,
     * pool state are internal): loopback by default; 0.0.0.0 for a Prometheus on another host.
     */
    METRICS_HOST: env.host('127.0.0.1'),
    /** The metrics listener's port (0: any free port); `off`: no metrics listener. */
    METRICS_PORT: z
      .union([z.literal('off'), env.port(9464)], { message: 'expected a TCP port between 0 and 65535, or off' })
      .default(9464)
      .transform((v) => (v === 'off' ? null : v)),
    /** The composed supergraph SDL (`npm run compose` writes it); reloaded when it changes. */
    SUPERGRAPH_PATH: z.string().min(1).default(DEFAULT_SUPERGRAPH_PATH),
    SUPERGRAPH_POLL_MS: env.positiveInt(1000, 600_000),

    /** Production: the identity provider's key set. Tokens are then verified with asymmetric keys only. */
    AUTH_JWKS_URL: env.httpUrl().optional(),
    /** Development: HS256 secret that signs bearer tokens (`npm run token`). */
    AUTH_JWT_SECRET: z.string().min(32, 'expected at least 32 characters').optional(),
    AUTH_JWT_ISSUER: z.string().min(1).optional(),
    AUTH_JWT_AUDIENCE: z.string().min(1).optional(),
    /** Accepted signing algorithms; `none` and HMAC algorithms are never accepted with a JWKS. */
    AUTH_ALGORITHMS: csv(z.enum([...ASYMMETRIC_ALGORITHMS, 'HS256', 'HS384', 'HS512'])).optional(),
    AUTH_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(5),
    /** Least time between two key-set fetches triggered by an unknown key id (rotation). */
    AUTH_JWKS_COOLDOWN_SECONDS: z.coerce.number().int().min(0).max(3600).default(30),

    /**
     * The gateway's private key (Ed25519: a private JWK or a PKCS8 PEM) that signs every subgraph
     * request; subgraphs hold only its public key, under INTERNAL_SIGNING_KEY_ID.
     */
    INTERNAL_SIGNING_KEY: signingKeySchema,
    INTERNAL_SIGNING_KEY_ID: keyIdSchema,

    /** Redis for shared state across replicas (APQ, persisted documents, rate limits); in-process without it. */
    REDIS_URL: env.redisUrl().optional(),
    /** Where published manifests and clients are kept when there is no Redis. */
    PERSISTED_DIR: z.string().min(1).default(DEFAULT_PERSISTED_DIR),
    /** Key prefix of all the gateway's Redis keys; lets several environments (or test runs) share one Redis. */
    REDIS_PREFIX: z.string().regex(/^\S{1,100}$/, 'expected 1-100 characters without spaces, e.g. "shop:"').default('shop:'),
    /**
     * The longest a Redis command may take before it counts as failed and its fallback answers
     * (a miss, pass-through, the in-process limiter): what a hung Redis can cost a request.
     */
    REDIS_COMMAND_TIMEOUT_MS: env.positiveInt(REDIS_DEFAULTS.commandTimeoutMs, 60_000),
    /** The longest one attempt to (re)connect to Redis may take. */
    REDIS_CONNECT_TIMEOUT_MS: env.positiveInt(REDIS_DEFAULTS.connectTimeoutMs, 60_000),
    APQ_TTL_SECONDS: env.positiveInt(24 * 3600, 30 * 24 * 3600),
    /** Policy for callers that are not a registered client. */
    PQ_DEFAULT_POLICY: policy.default('off'),
    /**
     * The registered client whose published operations unregistered callers may send (the
     * first-party app's): with PQ_DEFAULT_POLICY=enforce, every caller is held to a manifest.
     */
    PQ_DEFAULT_CLIENT: clientNameSchema.optional(),

    MAX_BODY_BYTES: env.positiveInt(1024 * 1024, 50 * 1024 * 1024),
    MAX_DEPTH: env.positiveInt(15, 1000),
    /** Nesting of objects and lists in an operation's variables and extensions (the shop's deepest, an order's variables, is 4). */
    MAX_VARIABLES_DEPTH: env.positiveInt(32, 1000),
    MAX_ALIASES: env.positiveInt(30, 10_000),
    MAX_ROOT_FIELDS: env.positiveInt(20, 1000),
    MAX_TOKENS: env.positiveInt(5000, 1_000_000),
    MAX_DIRECTIVES: env.positiveInt(50, 10_000),
    /** Operations in one batched HTTP request; 1 turns batching off. */
    MAX_BATCH_SIZE: env.positiveInt(10, 1000),
    /** Unset: DEFAULT_COST_LIMIT, enforced only on a supergraph with @cost/@listSize (COST_MODE=auto). */
    COST_LIMIT: env.positiveInt(DEFAULT_COST_LIMIT, 100_000_000).unwrap().optional(),
    /**
     * auto: refuse operations over the limit when COST_LIMIT is set or the supergraph carries
     * @cost/@listSize, else only measure (costs estimated from default list sizes are guesses);
     * enforce: always refuse; measure: never refuse, only report.
     */
    COST_MODE: z.enum(['auto', 'enforce', 'measure']).default('auto'),
    /** Whole request, all subgraph fetches included. */
    REQUEST_TIMEOUT_MS: env.positiveInt(30_000, 600_000),
    /**
     * Operations executing at once per gateway process; more wait in a queue (limits/admission.ts).
     * Bounds the memory in-flight executions hold and keeps latency even under a burst.
     */
    MAX_CONCURRENT_OPERATIONS: env.positiveInt(16, 100_000),
    /** Requests waiting for an execution slot; beyond it: 503 SERVER_BUSY. */
    OPERATION_QUEUE_SIZE: env.positiveInt(1000, 1_000_000),
    /**
     * Longest wait for an execution slot, then 503 SERVER_BUSY; below REQUEST_TIMEOUT_MS. Unset: 10 s,
     * or half the request deadline when that is shorter.
     */
    OPERATION_QUEUE_TIMEOUT_MS: env.positiveInt(10_000, 600_000).unwrap().optional(),
    /** Share of the heap limit in use above which new executions wait for running ones to finish; 1: off. */
    OPERATION_HEAP_WATERMARK: z.coerce
      .number({ message: 'expected a share of the heap limit between 0 and 1, e.g. 0.8' })
      .gt(0, 'expected a share above 0, e.g. 0.8')
      .max(1, 'expected at most 1 (1 turns the check off)')
      .default(0.8),
    /** Origins allowed to call from a browser, comma-separated; empty: no cross-origin access. */
    CORS_ORIGINS: csv(z.string().refine((v) => v === '*' || URL.canParse(v), 'expected origins like https://shop.example')).default([]),

    /** Requests per window of each user of a registered client (API-key clients without a user: of the client). */
    RATE_LIMIT_CLIENT: env.positiveInt(1200, 10_000_000),
    /** Requests per window of all users of one registered client together; 0: none (a client's total grows with its users). */
    RATE_LIMIT_CLIENT_CEILING: z.coerce.number({ message: 'expected 0 (none) or a positive integer' }).int('expected a whole number').min(0).max(1_000_000_000).default(0),
    /** Requests per window for each IP address. */
    RATE_LIMIT_IP: env.positiveInt(600, 10_000_000),
    /** Failed credentials (bad tokens or API keys) per window from one IP address; then 429 for requests with credentials. */
    RATE_LIMIT_AUTH_FAILURES: env.positiveInt(30, 1_000_000),
    RATE_LIMIT_WINDOW_SECONDS: env.positiveInt(60, 86_400),
    /**
     * The proxies in front that append to X-Forwarded-For: `false` (none: the header is ignored),
     * `true` (one load balancer) or their number. Only entries those proxies wrote are used.
     */
    TRUST_PROXY: z
      .string()
      .regex(/^(true|false|\d{1,2})$/, 'expected false, true (one proxy in front) or the number of proxies in front')
      .default('false')
      .transform((v) => (v === 'false' ? 0 : v === 'true' ? 1 : Number(v))),

    /** Per subgraph fetch; a slow subgraph fails its part of the response, not the whole gateway. */
    SUBGRAPH_TIMEOUT_MS: env.positiveInt(10_000, 300_000),
    // Subgraph resilience (subgraph-fetch/resilience.ts): the defaults of every subgraph, each overridable by name.
    /** Retries of a failed query fetch (connection errors, 502/503/504); mutations are never retried. 0: none. */
    SUBGRAPH_RETRIES: z.coerce.number({ message: 'expected 0 (no retries) or a positive integer' }).int('expected a whole number').min(0).max(10).default(2),
    /** First retry delay; each next one grows exponentially, with jitter, up to SUBGRAPH_RETRY_MAX_DELAY_MS. */
    SUBGRAPH_RETRY_DELAY_MS: env.positiveInt(25, 60_000),
    SUBGRAPH_RETRY_MAX_DELAY_MS: env.positiveInt(500, 60_000),
    /** Retries may add at most this share of a subgraph's fetches over the last 10 s (beyond SUBGRAPH_RETRY_BUDGET_MIN). */
    SUBGRAPH_RETRY_BUDGET_RATIO: share('a share of fetches between 0 and 1, e.g. 0.1', 0.1),
    /** Retries always allowed per subgraph per 10 s, so a quiet subgraph can still retry. */
    SUBGRAPH_RETRY_BUDGET_MIN: z.coerce.number({ message: 'expected 0 or a positive integer' }).int('expected a whole number').min(0).max(1_000_000).default(10),
    /** The circuit opens when more than this share of the last SUBGRAPH_BREAKER_WINDOW calls failed. */
    SUBGRAPH_BREAKER_THRESHOLD: z.coerce
      .number({ message: 'expected a share of calls strictly between 0 and 1, e.g. 0.5' })
      .gt(0, 'expected a share of calls strictly between 0 and 1, e.g. 0.5')
      .lt(1, 'expected a share of calls strictly between 0 and 1, e.g. 0.5')
      .default(0.5),
    SUBGRAPH_BREAKER_WINDOW: env.positiveInt(20, 10_000),
    /** Calls in the window before the circuit may open at all. */
    SUBGRAPH_BREAKER_MIN_CALLS: env.positiveInt(10, 10_000),
    /** How long an open circuit fails fast before one call probes the subgraph again. */
    SUBGRAPH_BREAKER_HALF_OPEN_MS: env.positiveInt(1000, 600_000),
    /** Per-subgraph settings over the defaults, as JSON: {"inventory": {"timeoutMs": 2000, "retries": 0}}. */
    SUBGRAPH_RESILIENCE_OVERRIDES: z
      .string()
      .transform((value, ctx) => {
        let json: unknown;
        try {
          json = JSON.parse(value);
        } catch {
          ctx.addIssue({ code: 'custom', message: 'expected JSON such as {"inventory": {"timeoutMs": 2000}}' });
          return z.NEVER;
        }
        const parsed = resilienceOverridesSchema.safeParse(json);
        if (!parsed.success) {
          const issue = parsed.error.issues[0]!;
          ctx.addIssue({ code: 'custom', message: `${issue.path.join('.') || '(top level)'}: ${issue.message}` });
          return z.NEVER;
        }
        return parsed.data;
      })
      .default({}),
    SUBGRAPH_CONNECTIONS: env.positiveInt(64, 10_000),
    DRAIN_TIMEOUT_MS: env.positiveInt(10_000, 600_000),
    /**
     * On SIGTERM, how long /ready answers 503 while everything is still served, before the listener
     * closes: the time load balancers need to notice and stop sending here. Default 5 s in
     * production, 0 elsewhere (see DEFAULT_SHUTDOWN_DELAY_MS).
     */
    SHUTDOWN_DELAY_MS: z.coerce
      .number({ message: 'expected a number of milliseconds' })
      .int('expected a whole number of milliseconds')
      .min(0, 'expected 0 or more milliseconds')
      .max(600_000, 'expected at most 600000')
      .optional(),
    // Speed features; each one's module (sharing/, subgraph-fetch/, edge/response-encoding.ts) says what it does and when it is safe.
    /** Identical in-flight queries (document, variables, identity) share one execution. */
    INBOUND_DEDUP: flag(true),
    /** Identical in-flight subgraph query fetches share one HTTP call. */
    SUBGRAPH_DEDUP: flag(true),
    /** Query plans scheduled in waves, and each wave's fetches to one subgraph sent as one request, representations deduplicated. */
    SUBGRAPH_BATCHING: flag(true),
    /** How answers are shaped from the merged subgraph data: `compiled` once per operation, `apollo`'s own walk, or `verify` (both, failing on a difference: the tests). */
    RESULT_SHAPING: z.enum(['compiled', 'apollo', 'verify']).default('compiled'),
    /** How query plans are executed: `compiled` (operation objects built once, no per-node trace objects), `apollo`'s executor, or `verify` (ours, then Apollo's replayed on the same subgraph answers, failing on a difference: the tests). */
    PLAN_EXECUTION: z.enum(['compiled', 'apollo', 'verify']).default('compiled'),
    /** Whole-response cache for queries, honouring the @cacheControl policy; per identity for PRIVATE data. */
    RESPONSE_CACHE: z.enum(['off', 'memory', 'redis']).default('off'),
    /** Largest in-process response cache, in MiB (RESPONSE_CACHE=memory). */
    RESPONSE_CACHE_MAX_MB: env.positiveInt(64, 16_384),
    /** Prefix of the cache's Redis keys, so deployments (and test runs) sharing a Redis stay apart. */
    RESPONSE_CACHE_NAMESPACE: z.string().min(1).default('shop:gateway:response:'),
    /** Compress answers for clients that accept br or gzip (off: loopback and proxies that compress). */
    COMPRESSION: flag(false),
    /** Smallest answer that is compressed, in bytes. */
    COMPRESSION_MIN_BYTES: env.positiveInt(1024, 100 * 1024 * 1024),
    /** Gateway processes serving one port (node:cluster); 1 serves from this process. */
    WORKERS: env.positiveInt(1, 256),
    /**
     * Record the operation documents executed, per client, with counts and last-seen times (in Redis,
     * else PERSISTED_DIR/operations.json), so `npm run schema:check` names the clients a change breaks.
     */
    OPERATION_RECORDING: flag(true),
    /** Recorded documents not executed for this many days are forgotten. */
    OPERATION_RECORDING_RETENTION_DAYS: env.positiveInt(30, 3650),
    /** How often the counts aggregated in memory are written. */
    OPERATION_RECORDING_FLUSH_MS: env.positiveInt(5000, 600_000),
    /** Most documents kept (the least recently executed go first); also bounds the distinct documents held in memory between flushes. */
    OPERATION_RECORDING_MAX_DOCUMENTS: env.positiveInt(5000, 1_000_000),
    /**
     * GraphiQL on GET /graphql for browsers (Accept: text/html). Unset: on outside production, off
     * in production, where it also needs `npm run build` to have built its assets.
     */
    EXPLORER: z
      .enum(['true', 'false', '1', '0', 'on', 'off'], { message: 'expected true or false' })
      .transform((v) => v === 'true' || v === '1' || v === 'on')
      .optional(),
    /** Approximate size of the query plan cache, in MiB. */
    QUERY_PLAN_CACHE_MB: env.positiveInt(30, 16_384),
    /** Approximate size of the parsed and validated document cache, in MiB. */
    DOCUMENT_CACHE_MB: env.positiveInt(30, 16_384),
  })
  .superRefine((config, ctx) => {
    const production = config.NODE_ENV === 'production';
    if (config.OPERATION_QUEUE_TIMEOUT_MS !== undefined && config.OPERATION_QUEUE_TIMEOUT_MS >= config.REQUEST_TIMEOUT_MS) {
      ctx.addIssue({
        code: 'custom',
        path: ['OPERATION_QUEUE_TIMEOUT_MS'],
        message: `must be below REQUEST_TIMEOUT_MS (${config.REQUEST_TIMEOUT_MS}): a request still queued at its deadline has already been answered 504`,
      });
    }
    for (const [name, settings] of [['(defaults)', resilienceDefaults(config)], ...Object.entries(config.SUBGRAPH_RESILIENCE_OVERRIDES)] as const) {
      const merged = { ...resilienceDefaults(config), ...settings };
      if (merged.breakerMinCalls > merged.breakerWindow) {
        ctx.addIssue({ code: 'custom', path: [name === '(defaults)' ? 'SUBGRAPH_BREAKER_MIN_CALLS' : 'SUBGRAPH_RESILIENCE_OVERRIDES'], message: `${name}: breakerMinCalls (${merged.breakerMinCalls}) must not exceed breakerWindow (${merged.breakerWindow})` });
      }
      if (merged.retryMaxDelayMs < merged.retryDelayMs) {
        ctx.addIssue({ code: 'custom', path: [name === '(defaults)' ? 'SUBGRAPH_RETRY_MAX_DELAY_MS' : 'SUBGRAPH_RESILIENCE_OVERRIDES'], message: `${name}: retryMaxDelayMs (${merged.retryMaxDelayMs}) must not be below retryDelayMs (${merged.retryDelayMs})` });
      }
    }
    if (config.RESPONSE_CACHE === 'redis' && !config.REDIS_URL) {
      ctx.addIssue({ code: 'custom', path: ['REDIS_URL'], message: 'is required with RESPONSE_CACHE=redis' });
    }
    if (config.AUTH_JWKS_URL) {
      for (const key of ['AUTH_JWT_ISSUER', 'AUTH_JWT_AUDIENCE'] as const) {
        if (!config[key]) ctx.addIssue({ code: 'custom', path: [key], message: 'is required with AUTH_JWKS_URL, so tokens for other services are refused' });
      }
      if (config.AUTH_ALGORITHMS?.some((alg) => alg.startsWith('HS'))) {
        ctx.addIssue({ code: 'custom', path: ['AUTH_ALGORITHMS'], message: 'must not allow HMAC algorithms with a JWKS (key-type confusion)' });
      }
      if (config.AUTH_JWT_SECRET) {
        ctx.addIssue({ code: 'custom', path: ['AUTH_JWT_SECRET'], message: 'set either AUTH_JWKS_URL or AUTH_JWT_SECRET, not both' });
      }
    } else if (production && !config.AUTH_JWT_SECRET) {
      // NODE_ENV unset is production: `node gateway/dist/main.js` as documented must not trust the published secret.
      ctx.addIssue({
        code: 'custom',
        path: ['AUTH_JWKS_URL'],
        message:
          'is required in production (NODE_ENV unset or production): set AUTH_JWKS_URL, AUTH_JWT_ISSUER and AUTH_JWT_AUDIENCE ' +
          '(your identity provider), or AUTH_JWT_SECRET with AUTH_JWT_ISSUER and AUTH_JWT_AUDIENCE; the built-in development ' +
          'secret is public and only NODE_ENV=development or test accepts it',
      });
    } else if (production) {
      // Every service holding the secret can sign with it: without iss and aud, its tokens would be accepted here.
      for (const key of ['AUTH_JWT_ISSUER', 'AUTH_JWT_AUDIENCE'] as const) {
        if (!config[key]) ctx.addIssue({ code: 'custom', path: [key], message: 'is required in production with AUTH_JWT_SECRET, so tokens for other services are refused' });
      }
    }
    if (production && config.AUTH_JWT_SECRET === DEVELOPMENT_JWT_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['AUTH_JWT_SECRET'], message: 'must be set to a secret of your own in production (the built-in development secret is public)' });
    }
  });

type ParsedEnv = z.infer<typeof gatewayEnv>;

/** The SUBGRAPH_* defaults every subgraph gets unless SUBGRAPH_RESILIENCE_OVERRIDES names it. */
function resilienceDefaults(config: {
  SUBGRAPH_TIMEOUT_MS: number;
  SUBGRAPH_RETRIES: number;
  SUBGRAPH_RETRY_DELAY_MS: number;
  SUBGRAPH_RETRY_MAX_DELAY_MS: number;
  SUBGRAPH_RETRY_BUDGET_RATIO: number;
  SUBGRAPH_RETRY_BUDGET_MIN: number;
  SUBGRAPH_BREAKER_THRESHOLD: number;
  SUBGRAPH_BREAKER_WINDOW: number;
  SUBGRAPH_BREAKER_MIN_CALLS: number;
  SUBGRAPH_BREAKER_HALF_OPEN_MS: number;
}): SubgraphResilience {
  return {
    timeoutMs: config.SUBGRAPH_TIMEOUT_MS,
    retries: config.SUBGRAPH_RETRIES,
    retryDelayMs: config.SUBGRAPH_RETRY_DELAY_MS,
    retryMaxDelayMs: config.SUBGRAPH_RETRY_MAX_DELAY_MS,
    retryBudgetRatio: config.SUBGRAPH_RETRY_BUDGET_RATIO,
    retryBudgetMin: config.SUBGRAPH_RETRY_BUDGET_MIN,
    breakerThreshold: config.SUBGRAPH_BREAKER_THRESHOLD,
    breakerWindow: config.SUBGRAPH_BREAKER_WINDOW,
    breakerMinCalls: config.SUBGRAPH_BREAKER_MIN_CALLS,
    breakerHalfOpenMs: config.SUBGRAPH_BREAKER_HALF_OPEN_MS,
  };
}

/** One subgraph's resilience settings: its overrides over the defaults. */
export function subgraphResilience(config: ParsedEnv, subgraph: string): SubgraphResilience {
  return { ...resilienceDefaults(config), ...config.SUBGRAPH_RESILIENCE_OVERRIDES[subgraph] };
}

/**
 * Subgraph names the configuration mentions that the supergraph does not have: a typo would
 * otherwise leave that subgraph on the defaults without a word. Checked once the supergraph is loaded.
 */
export function checkSubgraphNames(config: GatewayConfig, subgraphs: ReadonlySet<string>): void {
  const unknown = Object.keys(config.SUBGRAPH_RESILIENCE_OVERRIDES).filter((name) => !subgraphs.has(name));
  if (unknown.length > 0) {
    throw new ConfigError(
      unknown.map((name) => `SUBGRAPH_RESILIENCE_OVERRIDES: no subgraph named ${JSON.stringify(name)} in the supergraph (it has ${[...subgraphs].sort().join(', ')})`),
    );
  }
}
/**
 * SHUTDOWN_DELAY_MS when unset. Production: 5 s, what endpoint removal takes to reach the proxies
 * of an orchestrator (Kubernetes' kube-proxy and ingresses take a second or two) or a few health
 * checks of a load balancer polling /ready; with the 10 s drain it stays well within Kubernetes' 30 s
 * grace period. Elsewhere nothing routes by readiness, and Ctrl-C should stop at once.
 */
export const DEFAULT_SHUTDOWN_DELAY_MS = { production: 5000, other: 0 } as const;

export type GatewayConfig = Omit<ParsedEnv, 'OPERATION_QUEUE_TIMEOUT_MS' | 'SHUTDOWN_DELAY_MS' | 'EXPLORER'> & {
  /** Always set: on outside production when the variable is not. */
  EXPLORER: boolean;
  /** Always set: derived from REQUEST_TIMEOUT_MS when the variable is not. */
  OPERATION_QUEUE_TIMEOUT_MS: number;
  /** Always set: DEFAULT_SHUTDOWN_DELAY_MS for NODE_ENV when the variable is not. */
  SHUTDOWN_DELAY_MS: number;
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
  const parsed = loadConfig(gatewayEnv, environment);
  return {
    ...parsed,
    OPERATION_QUEUE_TIMEOUT_MS: parsed.OPERATION_QUEUE_TIMEOUT_MS ?? Math.max(1, Math.min(10_000, Math.floor(parsed.REQUEST_TIMEOUT_MS / 2))),
    SHUTDOWN_DELAY_MS: parsed.SHUTDOWN_DELAY_MS ?? DEFAULT_SHUTDOWN_DELAY_MS[parsed.NODE_ENV === 'production' ? 'production' : 'other'],
    EXPLORER: parsed.EXPLORER ?? parsed.NODE_ENV !== 'production',
    subgraphUrlOverrides: subgraphUrlOverrides(environment),
  };
}

/** The key source tokens are verified against, from the validated configuration. */
export function authOptions(config: ParsedEnv) {
  const common = {
    issuer: config.AUTH_JWT_ISSUER,
    audience: config.AUTH_JWT_AUDIENCE,
    clockToleranceSeconds: config.AUTH_CLOCK_TOLERANCE_SECONDS,
  };
  if (config.AUTH_JWKS_URL) {
    return {
      kind: 'jwks' as const,
      jwksUrl: config.AUTH_JWKS_URL,
      cooldownSeconds: config.AUTH_JWKS_COOLDOWN_SECONDS,
      algorithms: config.AUTH_ALGORITHMS ?? ['RS256', 'ES256', 'EdDSA', 'PS256'],
      ...common,
      issuer: config.AUTH_JWT_ISSUER!,
      audience: config.AUTH_JWT_AUDIENCE!,
    };
  }
  return {
    kind: 'secret' as const,
    secret: config.AUTH_JWT_SECRET ?? DEVELOPMENT_JWT_SECRET,
    algorithms: config.AUTH_ALGORITHMS ?? ['HS256'],
    ...common,
  };
}
