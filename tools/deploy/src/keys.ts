/**
 * `npm run -s deploy:keys`: fresh keys and secrets for one deployment, as KEY=value lines (the
 * compose file's --env-file, or `kubectl create secret generic --from-env-file`): the gateway's
 * and orders' Ed25519 signing keys, the public keys each subgraph trusts, a database password,
 * and an HS256 token secret with an issuer and audience to try the stack (replace them with your
 * identity provider's AUTH_JWKS_URL). Printed once; nothing is written anywhere.
 */
import { randomBytes } from 'node:crypto';
import { runCli, usageError } from '@shop/cli-kit';
import { generateStackTrust } from '@shop/service-kit';

await runCli('deploy:keys', (argv) => {
  if (argv.length > 0) throw usageError(`unexpected arguments: ${argv.join(' ')}`);
  const trust = generateStackTrust();
  const lines = {
    GATEWAY_SIGNING_KEY: trust.gatewayEnv.INTERNAL_SIGNING_KEY,
    GATEWAY_SIGNING_KEY_ID: trust.gatewayEnv.INTERNAL_SIGNING_KEY_ID,
    ORDERS_SIGNING_KEY: trust.subgraphEnv('orders').INTERNAL_SIGNING_KEY!,
    ORDERS_SIGNING_KEY_ID: trust.subgraphEnv('orders').INTERNAL_SIGNING_KEY_ID!,
    INTERNAL_TRUSTED_KEYS: trust.subgraphEnv('accounts').INTERNAL_TRUSTED_KEYS,
    // Products (prices) and inventory (stock) also trust orders' key; both get the same set.
    INTERNAL_TRUSTED_KEYS_WITH_ORDERS: trust.subgraphEnv('products').INTERNAL_TRUSTED_KEYS,
    POSTGRES_PASSWORD: randomBytes(24).toString('hex'),
    AUTH_JWT_SECRET: randomBytes(32).toString('hex'),
    AUTH_JWT_ISSUER: 'https://shop.local/',
    AUTH_JWT_AUDIENCE: 'shop-api',
  };
  // Unquoted: `kubectl create secret --from-env-file` keeps quotes as part of the value. No value
  // holds a space, a `#`, a `$` or a newline (JSON keys, hex), so compose reads them the same.
  for (const [key, value] of Object.entries(lines)) {
    if (value === undefined) throw new Error(`${key}: no value (the stack's trust changed shape)`);
    if (/[\s#$'\\]/.test(value)) throw new Error(`${key} holds a character an env file cannot carry unquoted`);
    process.stdout.write(`${key}=${value}\n`);
  }
});
