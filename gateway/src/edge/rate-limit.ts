import { GraphQLError } from 'graphql';
import { LRUCache } from 'lru-cache';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Logger } from '@shop/observability';
import type { RedisConnection } from '@shop/service-kit';
import { established, type Exchange, type Stage } from '../exchange.ts';

export interface RateLimitOptions {
  /** Requests per window from one address, before anything else is known of the caller. */
  perIp: number;
  /** Requests per window of one user of a registered client, or of an API-key client without a user. */
  perClient: number;
  /** Requests per window of all users of one registered client together; 0: no ceiling. */
  clientCeiling: number;
  /** Failed credentials (bad token, bad API key) per window from one address. */
  authFailures: number;
  windowSeconds: number;
  /** Shared counters across replicas; in-process when absent. */
  redis?: RedisConnection | undefined;
  keyPrefix?: string;
}

export interface RateLimitState {
  limit: number;
  remaining: number;
  resetSeconds: number;
}

/** What a credential failure is refused with (see `authenticate` and `identifyClient`). */
const CREDENTIAL_FAILURES = new Set(['UNAUTHENTICATED', 'INVALID_API_KEY']);

/** The two calls the limits make, whichever limiter answers them. */
interface Limiter {
  consume(key: string): Promise<RateLimiterRes>;
  get(key: string): Promise<RateLimiterRes | null>;
}

/** A refusal (over the limit) is an answer from Redis, not a failure of it: carried out of `attempt` as a value. */
type Outcome = { allowed: RateLimiterRes } | { refused: RateLimiterRes };
const outcome = (consumed: Promise<RateLimiterRes>): Promise<Outcome> =>
  consumed.then(
    (allowed) => ({ allowed }),
    (error: unknown) => {
      if (error instanceof RateLimiterRes) return { refused: error };
      throw error;
    },
  );
const unwrap = (result: Outcome): RateLimiterRes => {
  if ('refused' in result) throw result.refused;
  return result.allowed;
};

/**
 * Fixed-window limits, in Redis so every replica counts the same requests. While Redis is
 * unavailable (refused, or hung past REDIS_COMMAND_TIMEOUT_MS), an in-process limiter answers
 * instead (insurance), so an outage degrades limits to per-replica instead of failing or delaying
 * requests; they are counted in Redis again as soon as it answers.
 */
export function createRateLimiter(options: RateLimitOptions, logger: Logger) {
  const make = (points: number, name: string): Limiter => {
    const base = { points, duration: options.windowSeconds, keyPrefix: `${options.keyPrefix ?? 'shop:rl'}:${name}` };
    const insurance = new RateLimiterMemory(base);
    const redis = options.redis;
    if (!redis) return insurance;
    const shared = new RateLimiterRedis({ ...base, storeClient: redis.client, rejectIfRedisNotReady: true });
    return {
      consume: async (key) => unwrap(await redis.attempt(() => outcome(shared.consume(key)), () => outcome(insurance.consume(key)))),
      get: (key) => redis.attempt(() => shared.get(key), () => insurance.get(key)),
    };
  };
  const perIp = make(options.perIp, 'ip');
  const perClient = make(options.perClient, 'client');
  const ceiling = options.clientCeiling > 0 ? make(options.clientCeiling, 'client-ceiling') : null;
  const failures = make(options.authFailures, 'auth-failures');
  // Addresses this process saw fail within the window: only their counters are read before
  // verifying, so a request with good credentials costs no extra look-up. A failure elsewhere is
  // still counted in the shared counter, and the first one this process sees marks the address.
  const suspects = new LRUCache<string, true>({ max: 100_000, ttl: options.windowSeconds * 1000 });

  const refusal = (scope: string, limit: number, msBeforeNext: number) => {
    const retryAfter = Math.max(1, Math.ceil(msBeforeNext / 1000));
    return new GraphQLError(`Too many requests for this ${scope}; retry in ${retryAfter} s.`, {
      extensions: {
        code: 'RATE_LIMITED',
        scope,
        http: {
          status: 429,
          headers: { 'retry-after': String(retryAfter), 'ratelimit-limit': String(limit), 'ratelimit-remaining': '0', 'ratelimit-reset': String(retryAfter) },
        },
      },
    });
  };

  async function consume(limiter: Limiter, key: string, scope: string, limit: number): Promise<RateLimitState> {
    try {
      const res = await limiter.consume(key);
      return { limit, remaining: res.remainingPoints, resetSeconds: Math.ceil(res.msBeforeNext / 1000) };
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) {
        logger.error({ err: error }, 'rate limiter failed; request allowed');
        return { limit, remaining: limit, resetSeconds: options.windowSeconds };
      }
      throw refusal(scope, limit, error.msBeforeNext);
    }
  }

  return {
    /** Counts one request against the address it came from. */
    address: (ip: string) => consume(perIp, ip, 'IP address', options.perIp),
    /**
     * Counts one request of a registered client: per user when the caller is a user (one user
     * cannot use up the allowance of the client's other users), and against the client's ceiling.
     */
    async client(client: string, userId: number | null): Promise<RateLimitState> {
      if (ceiling) await consume(ceiling, client, 'client', options.clientCeiling);
      if (userId === null) return consume(perClient, client, 'client', options.perClient);
      return consume(perClient, `${client}:user:${userId}`, 'user of this client', options.perClient);
    },
    /** Refuses an address that has failed credentials too often in this window. */
    async refuseIfFailingCredentials(ip: string): Promise<void> {
      if (!suspects.has(ip)) return;
      let seen: RateLimiterRes | null;
      try {
        seen = await failures.get(ip);
      } catch (error) {
        logger.error({ err: error }, 'rate limiter failed; request allowed');
        return;
      }
      if (seen && seen.consumedPoints >= options.authFailures) throw refusal('IP address after failed credentials', options.authFailures, seen.msBeforeNext);
    },
    /** Counts a failed credential against the address; the one over the limit is answered 429. */
    credentialFailed(ip: string): Promise<RateLimitState> {
      suspects.set(ip, true);
      return consume(failures, ip, 'IP address after failed credentials', options.authFailures);
    },
  };
}
export type RateLimiter = ReturnType<typeof createRateLimiter>;

function setHeaders(exchange: Exchange, state: RateLimitState): void {
  exchange.responseHeaders['ratelimit-limit'] = String(state.limit);
  exchange.responseHeaders['ratelimit-remaining'] = String(state.remaining);
  exchange.responseHeaders['ratelimit-reset'] = String(state.resetSeconds);
}

/**
 * Counts the request against its address before any work is done for it (reading the body,
 * verifying a token): a flood costs one counter each. Every answer says the state of the limit.
 */
export function rateLimitByAddress(limiter: RateLimiter): Stage {
  return async (exchange, next) => {
    setHeaders(exchange, await limiter.address(exchange.clientAddress));
    return next();
  };
}

/**
 * Around authentication and client identification: an address whose credentials failed too often
 * in the window is refused before its next credential is even verified, so tokens and API keys
 * cannot be guessed at the speed of the gateway. Requests without credentials are not affected:
 * one attacker behind a shared address does not lock its anonymous users out.
 */
export function limitFailedCredentials(limiter: RateLimiter): Stage {
  return async (exchange, next) => {
    const { headers } = exchange.req;
    if (headers.authorization === undefined && headers['x-api-key'] === undefined) return next();
    await limiter.refuseIfFailingCredentials(exchange.clientAddress);
    try {
      return await next();
    } catch (error) {
      if (error instanceof GraphQLError && CREDENTIAL_FAILURES.has(String(error.extensions.code))) await limiter.credentialFailed(exchange.clientAddress);
      throw error;
    }
  };
}

/** Counts the request of a registered client, per user and against the client's ceiling. */
export function rateLimitByClient(limiter: RateLimiter): Stage {
  return async (exchange, next) => {
    const client = established(exchange, 'client');
    if (client.registered) setHeaders(exchange, await limiter.client(client.name, established(exchange, 'caller').userId));
    return next();
  };
}
