import { z } from 'zod';
import { redisUrlSchema } from './redis-url.ts';

/** Raised at start-up when the environment is invalid; the message names every bad variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/**
 * Validates `env` against a zod object whose keys are variable names.
 * Every problem is reported at once, so a misconfigured deployment is fixed in one round.
 */
export function loadConfig<S extends z.ZodObject>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  // Empty strings mean "unset": a blank variable in a .env file must not override a default.
  const cleaned: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') cleaned[key] = value;
  }
  const result = schema.safeParse(cleaned);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '(environment)');
      const got = cleaned[key];
      return `${key}: ${issue.message}${got === undefined ? ' (not set)' : ` (got ${JSON.stringify(got)})`}`;
    }),
  );
}

/** Reusable variable shapes, so every service describes the same kind of value the same way. */
export const env = {
  port: (fallback: number) =>
    z.coerce
      .number({ message: 'expected a TCP port number' })
      .int('expected an integer TCP port')
      .min(0, 'expected a port between 0 and 65535')
      .max(65535, 'expected a port between 0 and 65535')
      .default(fallback),
  host: (fallback = '127.0.0.1') => z.string().min(1).default(fallback),
  postgresUrl: () =>
    z
      .string({ message: 'expected a PostgreSQL URL such as postgres://user@127.0.0.1:5432/db' })
      .refine((v) => /^postgres(ql)?:\/\/.+/.test(v) && URL.canParse(v), {
        message: 'expected a PostgreSQL URL such as postgres://user@127.0.0.1:5432/db',
      }),
  httpUrl: () =>
    z
      .string({ message: 'expected an http(s) URL' })
      .refine((v) => /^https?:\/\//.test(v) && URL.canParse(v), { message: 'expected an http(s) URL' }),
  positiveInt: (fallback: number, max = 1_000_000) =>
    z.coerce
      .number({ message: 'expected a positive integer' })
      .int('expected a positive integer')
      .min(1, 'expected a positive integer')
      .max(max, `expected at most ${max}`)
      .default(fallback),
  secret: () =>
    z
      .string({ message: 'expected a secret of at least 32 characters (e.g. `openssl rand -hex 32`)' })
      .min(32, 'expected a secret of at least 32 characters (e.g. `openssl rand -hex 32`)'),
  /** One Redis (redis://, rediss://) or a Sentinel-managed one (redis-sentinel://...); see redis-url.ts. */
  redisUrl: redisUrlSchema,
  logLevel: () => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * Unset means production: a service started the way a deployment starts it (`node dist/main.js`,
   * an image) must never fall back to development behaviour (stack traces, introspection, the
   * published development secret). `npm start` and the tests ask for development or test explicitly.
   */
  nodeEnv: () => z.enum(['development', 'test', 'production']).default('production'),
};
