import { parseArgs } from 'node:util';
import { z } from 'zod';
import { CliError, EXIT, runCli, usageError } from '@shop/cli-kit';
import { loadConfig } from '@shop/service-kit';
import { DEVELOPMENT_JWT_SECRET } from '@shop/gateway/config';
import { clientNameSchema, issuesOf } from '@shop/gateway/persisted';
import { mintToken } from './mint-token.ts';

const USAGE = `Usage: npm run token -- --sub <user id> --scope "<scopes>" [--expires 1h] [--client <client name>]
Mints an HS256 development token signed with AUTH_JWT_SECRET (or the built-in development secret),
with iss / aud from AUTH_JWT_ISSUER / AUTH_JWT_AUDIENCE when set. Prints only the token.`;

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

await runCli('token', async (argv) => {
  const env = loadConfig(tokenEnv, process.env);
  // A token signed with a known secret would be accepted by anything that trusts that secret.
  if (env.NODE_ENV === 'production') throw new CliError('npm run token mints development tokens only; it refuses to run with NODE_ENV=production.', EXIT.config);

  const { values } = parseArgs({
    args: argv,
    options: { sub: { type: 'string' }, scope: { type: 'string' }, expires: { type: 'string' }, client: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log(USAGE);
    return EXIT.ok;
  }
  const parsed = tokenArgs.safeParse(values);
  if (!parsed.success) throw usageError(`${issuesOf(parsed.error).map((i) => i.replace(/^[^:]+: /, '')).join('; ')} (npm run token -- --help for usage)`);
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
  return EXIT.ok;
}, { usage: 'npm run token -- --sub <user id> --scope "<scopes>" [--expires 1h] [--client <client name>]' });
