import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@shop/service-kit';
import { authOptions, DEVELOPMENT_JWT_SECRET, loadGatewayConfig } from '../src/config.ts';

const run = promisify(execFile);
// A throwaway Ed25519 key of these tests only: the gateway's signing key is required.
const SECRET = {
  INTERNAL_SIGNING_KEY: '{"crv":"Ed25519","d":"FMUFunQpTlIjDzgqjY1ONEDk9_yTc0CRZC_mx6dHblg","x":"X0QWUNYi7Qxhg6cnbsKAyKKsVATCf_nWL-yuqqSTnsA","kty":"OKP"}',
  INTERNAL_SIGNING_KEY_ID: 'config-test',
  // These tests describe the development defaults; NODE_ENV unset is production (its own test below).
  NODE_ENV: 'development',
};
const repo = fileURLToPath(new URL('../../', import.meta.url));

function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadGatewayConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('gateway configuration', () => {
  it('has working defaults for development', () => {
    const config = loadGatewayConfig({ ...SECRET });
    expect(config).toMatchObject({ PORT: 4000, HOST: '0.0.0.0', NODE_ENV: 'development', PQ_DEFAULT_POLICY: 'off', COST_MODE: 'auto', MAX_VARIABLES_DEPTH: 32 });
    expect(config.COST_LIMIT).toBeUndefined();
    expect(config.AUTH_JWT_SECRET).toBeUndefined();
    expect(authOptions(config)).toMatchObject({ kind: 'secret', secret: DEVELOPMENT_JWT_SECRET, algorithms: ['HS256'] });
    expect(config.SUPERGRAPH_PATH).toMatch(/gateway\/supergraph\.graphql$/);
  });

  it('serves the explorer (EXPLORER) by default outside production only, and refuses values that are not a switch', () => {
    const production = { ...SECRET, NODE_ENV: 'production', AUTH_JWT_SECRET: 'x'.repeat(40), AUTH_JWT_ISSUER: 'issuer', AUTH_JWT_AUDIENCE: 'audience' };
    expect(loadGatewayConfig({ ...SECRET }).EXPLORER).toBe(true);
    expect(loadGatewayConfig({ ...SECRET, NODE_ENV: 'test' }).EXPLORER).toBe(true);
    expect(loadGatewayConfig(production).EXPLORER).toBe(false);
    expect(loadGatewayConfig({ ...production, EXPLORER: 'true' }).EXPLORER).toBe(true);
    expect(loadGatewayConfig({ ...SECRET, EXPLORER: 'off' }).EXPLORER).toBe(false);
    expect(configError({ ...SECRET, EXPLORER: 'yes please' }).message).toMatch(/EXPLORER: expected true or false/);
  });

  it('keeps serving after readiness turns 503 for SHUTDOWN_DELAY_MS: 5 s in production, none in development, or as set', () => {
    expect(loadGatewayConfig({ ...SECRET }).SHUTDOWN_DELAY_MS).toBe(0);
    const production = { ...SECRET, NODE_ENV: 'production', AUTH_JWT_SECRET: 'x'.repeat(40), AUTH_JWT_ISSUER: 'issuer', AUTH_JWT_AUDIENCE: 'audience' };
    expect(loadGatewayConfig(production).SHUTDOWN_DELAY_MS).toBe(5000);
    expect(loadGatewayConfig({ ...production, SHUTDOWN_DELAY_MS: '0' }).SHUTDOWN_DELAY_MS).toBe(0);
    expect(loadGatewayConfig({ ...SECRET, SHUTDOWN_DELAY_MS: '15000' }).SHUTDOWN_DELAY_MS).toBe(15000);
    expect(configError({ ...SECRET, SHUTDOWN_DELAY_MS: '-1' }).message).toMatch(/SHUTDOWN_DELAY_MS: expected 0 or more milliseconds/);
    expect(configError({ ...SECRET, SHUTDOWN_DELAY_MS: '5s' }).message).toMatch(/SHUTDOWN_DELAY_MS: expected a number of milliseconds/);
  });

  it('serves metrics on an internal listener: loopback:9464 by default, any port, or off', () => {
    expect(loadGatewayConfig({ ...SECRET })).toMatchObject({ METRICS_HOST: '127.0.0.1', METRICS_PORT: 9464 });
    expect(loadGatewayConfig({ ...SECRET, METRICS_PORT: '9100', METRICS_HOST: '0.0.0.0' })).toMatchObject({ METRICS_HOST: '0.0.0.0', METRICS_PORT: 9100 });
    expect(loadGatewayConfig({ ...SECRET, METRICS_PORT: 'off' }).METRICS_PORT).toBeNull();
    expect(configError({ ...SECRET, METRICS_PORT: 'nine' }).message).toMatch(/METRICS_PORT: expected a TCP port between 0 and 65535, or off/);
    expect(configError({ ...SECRET, METRICS_PORT: '70000' }).message).toMatch(/METRICS_PORT: /);
  });

  it('bounds the nesting of variables, 32 levels by default', () => {
    expect(loadGatewayConfig({ ...SECRET, MAX_VARIABLES_DEPTH: '8' }).MAX_VARIABLES_DEPTH).toBe(8);
    expect(configError({ ...SECRET, MAX_VARIABLES_DEPTH: '0' }).message).toMatch(/MAX_VARIABLES_DEPTH: expected a positive integer/);
  });

  it('enforces a cost limit where it is set or the supergraph prices its lists (auto), and names a bad mode', () => {
    expect(loadGatewayConfig({ ...SECRET, COST_LIMIT: '5000' })).toMatchObject({ COST_LIMIT: 5000, COST_MODE: 'auto' });
    expect(configError({ ...SECRET, COST_MODE: 'strict' }).message).toMatch(/COST_MODE: /);
  });

  it('names each bad variable and what it expects', () => {
    const error = configError({ ...SECRET, PORT: '99999', SUBGRAPH_TIMEOUT_MS: '-5', AUTH_JWT_SECRET: 'short' });
    expect(error.message).toMatch(/PORT: expected a port between 0 and 65535 \(got "99999"\)/);
    expect(error.message).toMatch(/SUBGRAPH_TIMEOUT_MS: expected a positive integer \(got "-5"\)/);
    expect(error.message).toMatch(/AUTH_JWT_SECRET: expected at least 32 characters/);
  });

  it('bounds executions by default, keeps the queue wait below the request deadline', () => {
    expect(loadGatewayConfig({ ...SECRET })).toMatchObject({
      MAX_CONCURRENT_OPERATIONS: 16,
      OPERATION_QUEUE_SIZE: 1000,
      OPERATION_QUEUE_TIMEOUT_MS: 10_000,
      OPERATION_HEAP_WATERMARK: 0.8,
    });
    // Unset, the queue wait follows a shorter request deadline; set, it must stay below it.
    expect(loadGatewayConfig({ ...SECRET, REQUEST_TIMEOUT_MS: '4000' }).OPERATION_QUEUE_TIMEOUT_MS).toBe(2000);
    expect(configError({ ...SECRET, OPERATION_QUEUE_TIMEOUT_MS: '30000' }).message).toMatch(
      /OPERATION_QUEUE_TIMEOUT_MS: must be below REQUEST_TIMEOUT_MS \(30000\)/,
    );
    expect(configError({ ...SECRET, OPERATION_HEAP_WATERMARK: '1.5', MAX_CONCURRENT_OPERATIONS: '0' }).message).toMatch(
      /OPERATION_HEAP_WATERMARK: expected at most 1[\s\S]*MAX_CONCURRENT_OPERATIONS: expected a positive integer|MAX_CONCURRENT_OPERATIONS: expected a positive integer[\s\S]*OPERATION_HEAP_WATERMARK: expected at most 1/,
    );
  });

  it('records operations by default for 30 days, flushed every 5 s, and names bad recording settings', () => {
    expect(loadGatewayConfig({ ...SECRET })).toMatchObject({
      OPERATION_RECORDING: true,
      OPERATION_RECORDING_RETENTION_DAYS: 30,
      OPERATION_RECORDING_FLUSH_MS: 5000,
      OPERATION_RECORDING_MAX_DOCUMENTS: 5000,
    });
    expect(loadGatewayConfig({ ...SECRET, OPERATION_RECORDING: 'off' }).OPERATION_RECORDING).toBe(false);
    const error = configError({ ...SECRET, OPERATION_RECORDING: 'sometimes', OPERATION_RECORDING_RETENTION_DAYS: '0' }).message;
    expect(error).toMatch(/OPERATION_RECORDING: expected true or false/);
    expect(error).toMatch(/OPERATION_RECORDING_RETENTION_DAYS: expected a positive integer/);
  });

  it('has the speed features at their defaults and names bad values', () => {
    expect(loadGatewayConfig({ ...SECRET })).toMatchObject({ INBOUND_DEDUP: true, SUBGRAPH_DEDUP: true, RESPONSE_CACHE: 'off', WORKERS: 1 });
    expect(configError({ ...SECRET, RESPONSE_CACHE: 'redis' }).message).toMatch(/REDIS_URL: is required with RESPONSE_CACHE=redis/);
    expect(loadGatewayConfig({ ...SECRET, INBOUND_DEDUP: 'false', RESPONSE_CACHE: 'redis', REDIS_URL: 'redis://127.0.0.1:6379', WORKERS: '4' })).toMatchObject({
      INBOUND_DEDUP: false,
      RESPONSE_CACHE: 'redis',
      WORKERS: 4,
    });
    const error = configError({ ...SECRET, INBOUND_DEDUP: 'maybe', RESPONSE_CACHE: 'disk', REDIS_URL: 'http://x', WORKERS: '0' });
    expect(error.message).toMatch(/INBOUND_DEDUP: expected true or false/);
    expect(error.message).toMatch(/RESPONSE_CACHE: .*\(got "disk"\)/);
    expect(error.message).toMatch(/REDIS_URL: expected a redis:\/\/ or rediss:\/\/ URL/);
    expect(error.message).toMatch(/WORKERS: expected a positive integer/);
  });

  it('is production when NODE_ENV is unset: refuses to start without authentication settings, naming them', () => {
    const { NODE_ENV: _development, ...keysOnly } = SECRET;
    const message = configError(keysOnly).message;
    expect(message).toMatch(/AUTH_JWKS_URL: is required in production \(NODE_ENV unset or production\)/);
    for (const variable of ['AUTH_JWT_ISSUER', 'AUTH_JWT_AUDIENCE', 'AUTH_JWT_SECRET', 'NODE_ENV=development']) expect(message).toContain(variable);
    const config = loadGatewayConfig({ ...keysOnly, AUTH_JWT_SECRET: 's'.repeat(40), AUTH_JWT_ISSUER: 'https://id.example/', AUTH_JWT_AUDIENCE: 'shop-api' });
    expect(config).toMatchObject({ NODE_ENV: 'production', EXPLORER: false, SHUTDOWN_DELAY_MS: 5000 });
  });

  it('refuses the public development secret in production', () => {
    expect(configError({ ...SECRET, NODE_ENV: 'production' }).message).toMatch(/AUTH_JWKS_URL: is required in production/);
    expect(configError({ ...SECRET, NODE_ENV: 'production', AUTH_JWT_SECRET: DEVELOPMENT_JWT_SECRET }).message).toMatch(/AUTH_JWT_SECRET: must be set to a secret of your own in production/);
    expect(
      loadGatewayConfig({ ...SECRET, NODE_ENV: 'production', AUTH_JWT_SECRET: 's'.repeat(40), AUTH_JWT_ISSUER: 'https://id.example/', AUTH_JWT_AUDIENCE: 'shop-api' }).NODE_ENV,
    ).toBe('production');
  });

  it('requires the issuer and the audience with AUTH_JWT_SECRET in production, as with a JWKS', async () => {
    const production = { ...SECRET, NODE_ENV: 'production', AUTH_JWT_SECRET: 's'.repeat(40) };
    const both = configError(production).message;
    expect(both).toMatch(/AUTH_JWT_ISSUER: is required in production with AUTH_JWT_SECRET/);
    expect(both).toMatch(/AUTH_JWT_AUDIENCE: is required in production with AUTH_JWT_SECRET/);
    expect(configError({ ...production, AUTH_JWT_ISSUER: 'https://id.example/' }).message).not.toMatch(/AUTH_JWT_ISSUER/);
    expect(configError({ ...production, AUTH_JWT_AUDIENCE: 'shop-api' }).message).toMatch(/AUTH_JWT_ISSUER: is required/);
    const config = loadGatewayConfig({ ...production, AUTH_JWT_ISSUER: 'https://id.example/', AUTH_JWT_AUDIENCE: 'shop-api' });
    expect(authOptions(config)).toMatchObject({ kind: 'secret', issuer: 'https://id.example/', audience: 'shop-api', algorithms: ['HS256'] });
    // Outside production the development secret and unchecked claims stay the default.
    expect(authOptions(loadGatewayConfig({ ...SECRET, AUTH_JWT_SECRET: 's'.repeat(40) }))).toMatchObject({ issuer: undefined, audience: undefined });

    const env: NodeJS.ProcessEnv = { ...process.env, ...production, PORT: '0', LOG_LEVEL: 'silent' };
    delete env.AUTH_JWT_ISSUER;
    delete env.AUTH_JWT_AUDIENCE;
    const refused = await run(process.execPath, ['--import', 'tsx', 'gateway/src/main.ts'], { cwd: repo, env }).then(
      () => null,
      (error: { code: number; stderr: string }) => error,
    );
    expect(refused?.code).toBe(78);
    expect(refused?.stderr).toMatch(/AUTH_JWT_ISSUER: is required in production with AUTH_JWT_SECRET/);
    expect(refused?.stderr).toMatch(/AUTH_JWT_AUDIENCE: is required in production with AUTH_JWT_SECRET/);
  });

  it('reads SUBGRAPH_URL_<NAME> overrides and refuses ones that are not URLs', () => {
    expect(loadGatewayConfig({ ...SECRET, SUBGRAPH_URL_ACCOUNTS: 'http://accounts.internal:8080/graphql' }).subgraphUrlOverrides).toEqual({
      accounts: 'http://accounts.internal:8080/graphql',
    });
    expect(configError({ ...SECRET, SUBGRAPH_URL_ORDERS: 'orders:4005' }).message).toMatch(/SUBGRAPH_URL_ORDERS: expected an http\(s\) URL/);
  });

  it('requires the internal signing key, and JWKS settings that close the classic holes', () => {
    expect(configError({}).message).toMatch(/INTERNAL_SIGNING_KEY: expected a private Ed25519 key/);
    expect(configError({}).message).toMatch(/INTERNAL_SIGNING_KEY_ID: /);
    expect(configError({ ...SECRET, INTERNAL_SIGNING_KEY: 'a-shared-secret-of-at-least-32-characters' }).message).toMatch(
      /INTERNAL_SIGNING_KEY: expected a private Ed25519 key: a private JWK \(JSON with "d"\) or a PKCS8 PEM/,
    );
    const jwks = configError({ ...SECRET, AUTH_JWKS_URL: 'https://id.example/jwks.json', AUTH_ALGORITHMS: 'RS256,HS256' }).message;
    expect(jwks).toMatch(/AUTH_JWT_ISSUER: is required with AUTH_JWKS_URL/);
    expect(jwks).toMatch(/AUTH_JWT_AUDIENCE: is required with AUTH_JWKS_URL/);
    expect(jwks).toMatch(/AUTH_ALGORITHMS: must not allow HMAC algorithms with a JWKS/);
    expect(configError({ ...SECRET, AUTH_ALGORITHMS: 'none' }).message).toMatch(/AUTH_ALGORITHMS: expected a comma-separated list/);
    expect(configError({ ...SECRET, CORS_ORIGINS: 'not a url' }).message).toMatch(/CORS_ORIGINS/);
  });

  it('the gateway and a subgraph process refuse to start with exit code 78 and say why', async () => {
    const gateway = await run(process.execPath, ['--import', 'tsx', 'gateway/src/main.ts'], {
      cwd: repo,
      env: { ...process.env, ...SECRET, PORT: 'http' },
    }).then(
      () => null,
      (error: { code: number; stderr: string }) => error,
    );
    expect(gateway?.code).toBe(78);
    expect(gateway?.stderr).toMatch(/gateway: Invalid configuration:\n {2}- PORT: expected a TCP port number \(got "http"\)/);

    const env = { ...process.env };
    delete env.DATABASE_URL;
    const subgraph = await run(process.execPath, ['--import', 'tsx', 'subgraphs/reviews/src/main.ts'], { cwd: repo, env }).then(
      () => null,
      (error: { code: number; stderr: string }) => error,
    );
    expect(subgraph?.code).toBe(78);
    expect(subgraph?.stderr).toMatch(/reviews: Invalid configuration:\n {2}- DATABASE_URL: expected a PostgreSQL URL/);
  });

  it('the gateway refuses to start without a supergraph file, naming it', async () => {
    const result = await run(process.execPath, ['--import', 'tsx', 'gateway/src/main.ts'], {
      cwd: repo,
      env: { ...process.env, ...SECRET, PORT: '0', SUPERGRAPH_PATH: '/nonexistent/supergraph.graphql', LOG_LEVEL: 'silent' },
    }).then(
      () => null,
      (error: { code: number; stderr: string }) => error,
    );
    expect(result?.code).toBe(1);
    expect(result?.stderr).toMatch(/Cannot read the supergraph file \/nonexistent\/supergraph\.graphql \(ENOENT\)/);
  });
});
