import type { Redis } from 'ioredis';
import { GraphQLError } from 'graphql';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Logger } from '@shop/observability';
import { established, type Stage } from '../exchange.ts';
import { clientIpOf } from './request-meta.ts';

export interface RateLimitOptions {
  perClient: number;
  perIp: number;
  windowSeconds: number;
  /** Shared counters across replicas; in-process when absent. */
  redis?: Redis | undefined;
  keyPrefix?: string;
}

export interface RateLimitState {
  limit: number;
  remaining: number;
  resetSeconds: number;
}

/**
 * Fixed-window limits per client and per IP address, in Redis so every replica counts the
 * same requests. If Redis is unreachable, an in-process limiter takes over (insurance), so a
 * Redis outage degrades limits to per-replica instead of taking the gateway down.
 */
export function createRateLimiter(options: RateLimitOptions, logger: Logger) {
  const make = (points: number, name: string): RateLimiterAbstract => {
    const base = { points, duration: options.windowSeconds, keyPrefix: `${options.keyPrefix ?? 'shop:rl'}:${name}` };
    if (!options.redis) return new RateLimiterMemory(base);
    return new RateLimiterRedis({
      ...base,
      storeClient: options.redis,
      rejectIfRedisNotReady: true,
      insuranceLimiter: new RateLimiterMemory(base),
    });
  };
  const perClient = make(options.perClient, 'client');
  const perIp = make(options.perIp, 'ip');

  async function consume(limiter: RateLimiterAbstract, key: string, scope: string, limit: number): Promise<RateLimitState> {
    try {
      const res = await limiter.consume(key);
      return { limit, remaining: res.remainingPoints, resetSeconds: Math.ceil(res.msBeforeNext / 1000) };
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) {
        logger.error({ err: error }, 'rate limiter failed; request allowed');
        return { limit, remaining: limit, resetSeconds: options.windowSeconds };
      }
      const retryAfter = Math.max(1, Math.ceil(error.msBeforeNext / 1000));
      throw new GraphQLError(`Too many requests for this ${scope}; retry in ${retryAfter} s.`, {
        extensions: {
          code: 'RATE_LIMITED',
          scope,
          http: {
            status: 429,
            headers: { 'retry-after': String(retryAfter), 'ratelimit-limit': String(limit), 'ratelimit-remaining': '0', 'ratelimit-reset': String(retryAfter) },
          },
        },
      });
    }
  }

  return {
    /** Counts one request against the IP and, for an identified client, against the client. */
    async check(ip: string, clientKey: string | null): Promise<RateLimitState> {
      const ipState = await consume(perIp, ip, 'IP address', options.perIp);
      if (clientKey === null) return ipState;
      return consume(perClient, clientKey, 'client', options.perClient);
    },
  };
}
export type RateLimiter = ReturnType<typeof createRateLimiter>;

/**
 * Counts the request against its IP address and, for a registered client, against the client;
 * refuses it with 429 past either limit. Every answer says the state of the limit.
 */
export function rateLimit(limiter: RateLimiter, options: { trustProxy: boolean }): Stage {
  return async (exchange, next) => {
    const client = established(exchange, 'client');
    const state = await limiter.check(clientIpOf(exchange.req, options.trustProxy), client.registered ? client.name : null);
    exchange.responseHeaders['ratelimit-limit'] = String(state.limit);
    exchange.responseHeaders['ratelimit-remaining'] = String(state.remaining);
    exchange.responseHeaders['ratelimit-reset'] = String(state.resetSeconds);
    return next();
  };
}
