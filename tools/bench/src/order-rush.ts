/**
 * `npm run order-rush [-- --orders 1000 --keys 1000 --stock 10 --upc <upc> --url <gateway>]`: a burst of concurrent
 * placeOrder calls (one unit each) for one product against a running gateway (e.g. `npm start`), through the public
 * API only, and a count of what came back. It first brings the product to exactly --stock units (restock with the
 * `inventory:write` scope, or an order that takes the excess), then sends every call at once, then reads the stock
 * again. Exit 0 when the counts are what a correct shop answers: min(stock, keys) orders CONFIRMED, the rest of the
 * keys OUT_OF_STOCK, every call of one key the same order, stock lowered once per confirmed order and never below 0.
 * Tokens are development tokens (AUTH_JWT_SECRET or the built-in development secret), like `npm run token`.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { EXIT, runCli, unavailable, usageError } from '@shop/cli-kit';
import { mintToken } from '@shop/cli';
import { productUpc } from '@shop/db';
import { DEVELOPMENT_JWT_SECRET } from '@shop/gateway/config';
import { env, loadConfig } from '@shop/service-kit';

const USAGE = 'npm run order-rush [-- --orders N] [--keys K] [--stock S] [--upc UPC] [--users U] [--url URL]';

const PLACE = 'mutation RushPlaceOrder($input: PlaceOrderInput!, $key: String!) { placeOrder(input: $input, idempotencyKey: $key) { id status } }';
const RESTOCK = 'mutation RushRestock($input: RestockInput!) { restock(input: $input) { quantity } }';

interface Answer {
  status: number;
  ms: number;
  data?: { placeOrder?: { id: string; status: string } | null } | null;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

await runCli('order-rush', async (argv) => {
  const { values } = parseArgs({
    args: argv,
    options: {
      orders: { type: 'string' },
      keys: { type: 'string' },
      stock: { type: 'string' },
      upc: { type: 'string' },
      users: { type: 'string' },
      url: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(`usage: ${USAGE}`);
    return EXIT.ok;
  }
  const config = loadConfig(
    z.object({
      GATEWAY_URL: env.httpUrl().default('http://localhost:4000/graphql'),
      AUTH_JWT_SECRET: z.string().min(32, 'expected at least 32 characters').optional(),
    }),
  );
  const count = (name: string, fallback: number, max: number) => {
    const raw = values[name as keyof typeof values];
    const value = raw === undefined ? fallback : Number(raw);
    if (!Number.isInteger(value) || value < 1 || value > max) throw usageError(`--${name}: expected a whole number from 1 to ${max} (got ${String(raw)}); usage: ${USAGE}`);
    return value;
  };
  const orders = count('orders', 1000, 100_000);
  const keys = count('keys', orders, orders);
  const stock = values.stock === '0' ? 0 : count('stock', 10, 100_000);
  const users = count('users', 50, 1000);
  const upc = values.upc ?? productUpc(1500);
  const url = values.url ?? config.GATEWAY_URL;
  const secret = config.AUTH_JWT_SECRET ?? DEVELOPMENT_JWT_SECRET;
  const token = (sub: number, scope: string) => mintToken({ subject: String(sub), scope, expiresIn: '30m', secret });
  const buyers = await Promise.all(Array.from({ length: users }, (_, i) => token(1 + i, 'orders:read orders:write')));
  const staff = await token(1, 'inventory:write orders:read orders:write');

  const post = async (query: string, variables: Record<string, unknown>, bearer?: string): Promise<Answer> => {
    const started = performance.now();
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
      body: JSON.stringify({ query, variables }),
    }).catch(() => {
      throw unavailable(`cannot reach the gateway at ${url}: is it running? Start it with npm start, or set GATEWAY_URL / --url.`);
    });
    const text = await response.text();
    let body: Omit<Answer, 'status' | 'ms'> = {};
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      body = { errors: [{ message: `not JSON (HTTP ${response.status})`, extensions: { code: `HTTP_${response.status}` } }] };
    }
    return { status: response.status, ms: performance.now() - started, ...body };
  };
  const quantity = async (): Promise<number> => {
    // A fresh operation name per read: the response cache keys on the document, so this is never a cached answer.
    const answer = await post(`query RushStock${Date.now()}($upc: String!) { product(upc: $upc) { quantity } }`, { upc });
    const value = (answer.data as { product?: { quantity?: number } } | undefined)?.product?.quantity;
    if (typeof value !== 'number') throw unavailable(`cannot read the stock of ${upc}: ${answer.errors?.[0]?.message ?? `HTTP ${answer.status}`}`);
    return value;
  };

  // Bring the product to exactly `stock` units, through the API: a restock adds, an order takes the excess.
  const run = Date.now().toString(36);
  const before = await quantity();
  if (before < stock) {
    const restocked = await post(RESTOCK, { input: { upc, quantity: stock - before, reason: `order-rush ${run}` } }, staff);
    if (restocked.errors?.length) throw unavailable(`restock failed: ${restocked.errors[0]!.message}`);
  } else if (before > stock) {
    for (let left = before - stock, i = 0; left > 0; i += 1) {
      const take = Math.min(1000, left);
      const taken = await post(PLACE, { input: { lines: [{ upc, quantity: take }] }, key: `rush-${run}-excess-${i}` }, staff);
      if (taken.data?.placeOrder?.status !== 'CONFIRMED') throw unavailable(`could not take the excess stock: ${taken.errors?.[0]?.message ?? taken.data?.placeOrder?.status}`);
      left -= take;
    }
  }
  const start = await quantity();
  if (start !== stock) throw unavailable(`the stock of ${upc} is ${start}, not ${stock}: is something else ordering it?`);

  console.log(`${orders} concurrent placeOrder calls on ${keys} idempotency keys, ${users} users, product ${upc} with ${stock} units, gateway ${url}`);
  const started = performance.now();
  const answers = await Promise.all(
    Array.from({ length: orders }, (_, i) => {
      const key = i % keys;
      return post(PLACE, { input: { lines: [{ upc, quantity: 1 }] }, key: `rush-${run}-${key}` }, buyers[key % users]);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const end = await quantity();

  const outcomes = new Map<string, number>();
  const statuses = new Map<number, number>();
  const orderOfKey = new Map<number, Set<string>>();
  answers.forEach((answer, i) => {
    const order = answer.data?.placeOrder;
    const outcome = order ? order.status : String(answer.errors?.[0]?.extensions?.code ?? 'NO_ANSWER');
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
    const id = order?.id ?? (answer.errors?.[0]?.extensions?.orderId as string | undefined);
    if (id) orderOfKey.set(i % keys, (orderOfKey.get(i % keys) ?? new Set()).add(id));
  });
  const latencies = answers.map((a) => a.ms).sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!.toFixed(0);
  const confirmedKeys = new Set([...answers.entries()].filter(([, a]) => a.data?.placeOrder?.status === 'CONFIRMED').map(([i]) => i % keys)).size;

  console.log(`answered in ${seconds.toFixed(1)} s (${(orders / seconds).toFixed(0)} orders/s); latency p50 ${pct(50)} ms, p99 ${pct(99)} ms, max ${pct(100)} ms`);
  console.log(`answers: ${[...outcomes].map(([k, v]) => `${k} ${v}`).join(', ')}; HTTP ${[...statuses].map(([k, v]) => `${k}: ${v}`).join(', ')}`);
  console.log(`stock: ${start} before, ${end} after; keys confirmed: ${confirmedKeys}`);

  const expectedConfirmed = Math.min(stock, keys);
  const problems = [
    [...statuses.keys()].some((s) => s !== 200) ? 'some answers were not HTTP 200' : null,
    [...outcomes.keys()].some((k) => k !== 'CONFIRMED' && k !== 'OUT_OF_STOCK') ? `unexpected answers: ${[...outcomes.keys()].filter((k) => k !== 'CONFIRMED' && k !== 'OUT_OF_STOCK').join(', ')}` : null,
    confirmedKeys !== expectedConfirmed ? `${confirmedKeys} keys CONFIRMED, expected ${expectedConfirmed}` : null,
    [...orderOfKey.values()].some((ids) => ids.size > 1) ? 'some key was answered with two different orders' : null,
    end !== start - confirmedKeys ? `stock fell by ${start - end}, expected ${confirmedKeys} (one unit per confirmed order)` : null,
    end < 0 ? 'stock went below zero' : null,
  ].filter((p): p is string => p !== null);
  if (problems.length > 0) {
    for (const problem of problems) console.error(`FAIL: ${problem}`);
    if (outcomes.has('RATE_LIMITED')) console.error('hint: one address sent the whole burst; start the stack with RATE_LIMIT_IP and RATE_LIMIT_CLIENT raised (e.g. 100000) for this test.');
    if (outcomes.has('SERVER_BUSY')) console.error('hint: the gateway shed calls that waited longer than OPERATION_QUEUE_TIMEOUT_MS for one of MAX_CONCURRENT_OPERATIONS slots.');
    return EXIT.failed;
  }
  console.log(`OK: ${confirmedKeys} orders CONFIRMED, ${keys - confirmedKeys} keys OUT_OF_STOCK, stock never below 0.`);
  return EXIT.ok;
}, { usage: USAGE });
