import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/env.ts';
import { generateStackTrust } from '../src/internal-auth.ts';
import { subgraphEnv } from '../src/subgraph.ts';

describe('loadConfig', () => {
  const schema = subgraphEnv(4001);
  const secret = generateStackTrust().subgraphEnv('accounts');

  it('applies defaults and coerces numbers; NODE_ENV unset is production', () => {
    const config = loadConfig(schema, { ...secret, DATABASE_URL: 'postgres://u@127.0.0.1:5432/db' });
    expect(config).toMatchObject({ PORT: 4001, HOST: '127.0.0.1', DATABASE_POOL_MAX: 10, NODE_ENV: 'production' });
    expect(loadConfig(schema, { ...secret, DATABASE_URL: 'postgres://u@127.0.0.1:5432/db', NODE_ENV: 'development' }).NODE_ENV).toBe('development');
  });

  it('reports every bad variable by name, with what it expects and what it got', () => {
    let error: unknown;
    try {
      loadConfig(schema, { ...secret, PORT: 'eighty', DATABASE_POOL_MAX: '0', NODE_ENV: 'prod' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toMatch(/PORT: expected a TCP port number \(got "eighty"\)/);
    expect(message).toMatch(/DATABASE_URL: expected a PostgreSQL URL.*\(not set\)/);
    expect(message).toMatch(/DATABASE_POOL_MAX: expected a positive integer \(got "0"\)/);
    expect(message).toMatch(/NODE_ENV: .*\(got "prod"\)/);
    expect((error as ConfigError).problems).toHaveLength(4);
  });

  it('treats an empty variable as unset', () => {
    const config = loadConfig(schema, { ...secret, DATABASE_URL: 'postgresql://u@h/db', PORT: '' });
    expect(config.PORT).toBe(4001);
  });

  it("requires the gateway's public keys", () => {
    expect(() => loadConfig(schema, { DATABASE_URL: 'postgresql://u@h/db' })).toThrow(/INTERNAL_TRUSTED_KEYS: expected a JSON object of issuer -> public JWK set/);
    expect(() => loadConfig(schema, { DATABASE_URL: 'postgresql://u@h/db', INTERNAL_TRUSTED_KEYS: '{"gateway":{"keys":[]}}' })).toThrow(
      /INTERNAL_TRUSTED_KEYS: expected issuer -> \{"keys":\[public Ed25519 JWKs with kid\]\}/,
    );
  });

  it('refuses a URL that is not PostgreSQL', () => {
    expect(() => loadConfig(schema, { DATABASE_URL: 'mysql://u@h/db' })).toThrow(/DATABASE_URL: expected a PostgreSQL URL/);
  });
});
