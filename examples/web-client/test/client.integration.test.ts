import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenFor } from '@shop/test-support';
import { startTestStack, type TestStack } from '@shop/test-support/stack';

/** The example client's typed functions against the real gateway: its operations are the shop's, and they run. */
const run = promisify(execFile);
const exampleDir = fileURLToPath(new URL('../', import.meta.url));
let stack: TestStack;
let client: typeof import('../src/client.ts');

beforeAll(async () => {
  // The typed operations are generated (npm run typecheck does it; CI runs that first): make them if missing.
  if (!existsSync(new URL('../src/generated/gql.ts', import.meta.url))) {
    await run('npm', ['run', '-s', 'schema'], { cwd: exampleDir });
    await run('npm', ['run', '-s', 'codegen'], { cwd: exampleDir, env: { ...process.env, NODE_ENV: 'development' } });
  }
  client = await import('../src/client.ts');
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

describe('the example client', () => {
  it('reads the home page: products with their reviewers', async () => {
    const { products, errors } = await client.homePage({ url: stack.gatewayUrl }, 3);
    expect(errors).toEqual([]);
    expect(products).toHaveLength(3);
    expect(products[0]).toMatchObject({ name: expect.any(String), price: expect.stringMatching(/^\d+\.\d\d$/) });
  });

  it('places an order once per idempotency key and finds it among the user’s orders', async () => {
    // A user no other test places orders for.
    const options = { url: stack.gatewayUrl, token: await tokenFor(901, { scope: 'orders:read orders:write' }) };
    const key = `example-client-${Date.now()}`;
    const input = { lines: [{ upc: '048213000011', quantity: 1 }] };
    const first = await client.checkout(options, input, key);
    expect(first.errors).toEqual([]);
    const retry = await client.checkout(options, input, key);
    expect(retry.order?.id).toBe(first.order?.id);
    const { orders, errors } = await client.myOrders(options);
    expect(errors).toEqual([]);
    expect(orders.map((order) => order.id)).toContain(first.order!.id);
  });

  it('answers a signed-out reader of orders with the gateway’s coded error, not a crash', async () => {
    const { user, errors } = await client.myOrders({ url: stack.gatewayUrl });
    expect(user).toBeNull();
    expect(errors.length === 0 || errors.every((error) => typeof error.extensions?.code === 'string')).toBe(true);
  });
});
