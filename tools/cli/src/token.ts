import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ConfigError, loadConfig } from '@shop/service-kit';
import { DEVELOPMENT_JWT_SECRET } from '@shop/gateway/config';
import { clientNameSchema, issuesOf } from '@shop/gateway/persisted';
import { mintToken } from './mint-token.ts';

const USAGE = `Usage: npm run token -- --sub <user id> --scope "<scopes>" [--expires 1h] [--client <client name>]
Mints an HS256 development token signed with AUTH_JWT_SECRET (or the built-in development secret),
with iss / aud from AUTH_JWT_ISSUER / AUTH_JWT_AUDIENCE when set. Prints only the token.`;

const EXIT = { usage: 64, config: 78 } as const;

const tokenEnv = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  AUTH_JWT_SECRET: z.string().min(32, 'expected at least 32 characters').optional(),
  AUTH_JWT_ISSUER: z.string().min(1).optional(),
  AUTH_JWT_AUDIENCE: z.string().min(1).optional(),
});

const tokenArgs = z.object({
  sub: z.string({ message: '--sub is required (the user id, e.g. --sub 7)' }).min(1, '--sub must not be empty'),
  scope: z
    .string({ message: '--scope is required, e.g. --scope "read write" (use --scope "" for none)' })
    .regex(/^[\x21\x23-\x5b\x5d-\x7e]*( [\x21\x23-\x5b\x5d-\x7e]+)*$/, '--scope is a space-separated list of scope names'),
  // jose's time spans: a number and a unit (s, m, h, d, w, y), optionally spelled out.
  expires: z
    .string()
    .regex(/^\d+ ?(s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|weeks?|y|yrs?|years?)$/i, '--expires is a duration such as 30m, 1h, 7d')
    .default('1h'),
  client: clientNameSchema.optional(),
});

function fail(code: number, message: string): never {
  console.error(message);
  process.exit(code);
}

let env: z.infer<typeof tokenEnv>;
try {
  env = loadConfig(tokenEnv, process.env);
} catch (error) {
  if (error instanceof ConfigError) fail(EXIT.config, error.message);
  throw error;
}
// A token signed with a known secret would be accepted by anything that trusts that secret.
if (env.NODE_ENV === 'production') fail(EXIT.config, 'npm run token mints development tokens only; it refuses to run with NODE_ENV=production.');

let values;
try {
  values = parseArgs({
    options: { sub: { type: 'string' }, scope: { type: 'string' }, expires: { type: 'string' }, client: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  }).values;
} catch (error) {
  fail(EXIT.usage, `${(error as Error).message}\n\n${USAGE}`);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const parsed = tokenArgs.safeParse(values);
if (!parsed.success) fail(EXIT.usage, `${issuesOf(parsed.error).map((i) => i.replace(/^[^:]+: /, '')).join('\n')}\n\n${USAGE}`);
const args = parsed.data;

console.log(
  await mintToken({
    subject: args.sub,
    scope: args.scope,
    expiresIn: args.expires,
    clientId: args.client,
    issuer: env.AUTH_JWT_ISSUER,
    audience: env.AUTH_JWT_AUDIENCE,
    secret: env.AUTH_JWT_SECRET ?? DEVELOPMENT_JWT_SECRET,
  }),
);
