import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { env, keyIdSchema, loadConfig, signingKeySchema, subgraphEnv } from '@shop/service-kit';

const run = promisify(execFile);
const repo = fileURLToPath(new URL('../../../', import.meta.url));

describe('npm run deploy:keys', () => {
  it('prints an env file whose keys the gateway and every subgraph accept, the gateway signing for all of them', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'tools/deploy/src/keys.ts'], { cwd: repo, env: { PATH: process.env.PATH ?? '' } });
    // What `kubectl create secret --from-env-file` and compose's --env-file read: KEY=value, unquoted.
    const values = Object.fromEntries(stdout.trim().split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
    expect(Object.keys(values).sort()).toEqual(
      ['AUTH_JWT_AUDIENCE', 'AUTH_JWT_ISSUER', 'AUTH_JWT_SECRET', 'GATEWAY_SIGNING_KEY', 'GATEWAY_SIGNING_KEY_ID', 'INTERNAL_TRUSTED_KEYS', 'INTERNAL_TRUSTED_KEYS_WITH_ORDERS', 'ORDERS_SIGNING_KEY', 'ORDERS_SIGNING_KEY_ID', 'POSTGRES_PASSWORD'].sort(),
    );
    // The gateway's and orders' signing keys as the services validate them (the schemas their configuration uses).
    const signing = z.object({ INTERNAL_SIGNING_KEY: signingKeySchema, INTERNAL_SIGNING_KEY_ID: keyIdSchema, AUTH_JWT_SECRET: env.secret() });
    for (const who of ['GATEWAY', 'ORDERS']) {
      const parsed = loadConfig(signing, { INTERNAL_SIGNING_KEY: values[`${who}_SIGNING_KEY`], INTERNAL_SIGNING_KEY_ID: values[`${who}_SIGNING_KEY_ID`], AUTH_JWT_SECRET: values.AUTH_JWT_SECRET });
      expect(parsed.INTERNAL_SIGNING_KEY_ID).toBe(values[`${who}_SIGNING_KEY_ID`]);
    }
    const trusted = (key: string) => loadConfig(subgraphEnv(4001), { DATABASE_URL: 'postgres://u@h/db', INTERNAL_TRUSTED_KEYS: values[key] }).INTERNAL_TRUSTED_KEYS;
    const kids = (keys: ReturnType<typeof trusted>, issuer: string) => JSON.stringify(keys).includes(`"kid":"${issuer}`);
    expect(kids(trusted('INTERNAL_TRUSTED_KEYS'), values.GATEWAY_SIGNING_KEY_ID!)).toBe(true);
    expect(kids(trusted('INTERNAL_TRUSTED_KEYS'), values.ORDERS_SIGNING_KEY_ID!)).toBe(false);
    expect(kids(trusted('INTERNAL_TRUSTED_KEYS_WITH_ORDERS'), values.ORDERS_SIGNING_KEY_ID!)).toBe(true);
  });
});
