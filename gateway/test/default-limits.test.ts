import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BENCHMARK_QUERY } from '@shop/test-support';
import { loadGatewayConfig } from '../src/config.ts';
import { nestedDeeperThan } from '../src/edge/json-depth.ts';
import { annotated, enforcedLimit } from '../src/limits/cost-limit.ts';
import { createOperationGuard } from '../src/limits/operation-limits.ts';

// A default must not refuse legitimate traffic: the reference benchmark's query and the shop's
// own operations pass every limit that is on by default.

const KEYS = {
  INTERNAL_SIGNING_KEY: '{"crv":"Ed25519","d":"FMUFunQpTlIjDzgqjY1ONEDk9_yTc0CRZC_mx6dHblg","x":"X0QWUNYi7Qxhg6cnbsKAyKKsVATCf_nWL-yuqqSTnsA","kty":"OKP"}',
  INTERNAL_SIGNING_KEY_ID: 'defaults-test',
};
// Development: the limits' defaults do not depend on NODE_ENV, and production would also want authentication settings.
const defaults = loadGatewayConfig({ ...KEYS, NODE_ENV: 'development' });
const budgets = JSON.parse(readFileSync(new URL('../../tools/explain/budgets/operations.json', import.meta.url), 'utf8')) as {
  operations: Array<{ name: string; body?: string }>;
};

/** The shop's largest legitimate input: an order of 50 lines (its maximum), as the web app sends it. */
const LARGEST_ORDER = {
  query: 'mutation PlaceOrder($input: PlaceOrderInput!, $key: String!) { placeOrder(input: $input, idempotencyKey: $key) { id total status lines { quantity unitPrice product { upc name } } } }',
  operationName: 'PlaceOrder',
  variables: { input: { lines: Array.from({ length: 50 }, (_, i) => ({ upc: `0482130000${String(i).padStart(2, '0')}`, quantity: 1000 })) }, key: 'a'.repeat(64) },
};

describe('default limits', () => {
  const guard = createOperationGuard({
    maxTokens: defaults.MAX_TOKENS,
    maxDepth: defaults.MAX_DEPTH,
    maxAliases: defaults.MAX_ALIASES,
    maxRootFields: defaults.MAX_ROOT_FIELDS,
    maxDirectives: defaults.MAX_DIRECTIVES,
  });

  it('let the reference benchmark query and the budgeted operations through the shape and size limits', () => {
    const documents = [BENCHMARK_QUERY, LARGEST_ORDER.query, ...budgets.operations.flatMap((op) => (op.body ? [op.body] : []))];
    expect(documents.length).toBeGreaterThan(3);
    for (const document of documents) {
      expect(() => guard(document)).not.toThrow();
      expect(Buffer.byteLength(JSON.stringify({ query: document }))).toBeLessThan(defaults.MAX_BODY_BYTES);
    }
  });

  it('let the largest order through the variables and body limits, with room to spare', () => {
    expect(nestedDeeperThan(LARGEST_ORDER.variables, defaults.MAX_VARIABLES_DEPTH)).toBe(false);
    // Its variables are 4 levels deep (variables -> input -> lines -> line); the limit leaves eight times that.
    expect(nestedDeeperThan(LARGEST_ORDER.variables, 4)).toBe(false);
    expect(nestedDeeperThan(LARGEST_ORDER.variables, 3)).toBe(true);
    expect(defaults.MAX_VARIABLES_DEPTH).toBeGreaterThanOrEqual(30);
    expect(Buffer.byteLength(JSON.stringify(LARGEST_ORDER)) * defaults.MAX_BATCH_SIZE).toBeLessThan(defaults.MAX_BODY_BYTES);
  });

  it('enforce a cost limit only where the supergraph prices its lists, or one is configured', () => {
    const none = { weights: new Map(), listSizes: new Map() };
    const priced = { weights: new Map(), listSizes: new Map([['Query.users', { slicingArguments: ['first'] }]]) };
    expect(annotated(none)).toBe(false);
    expect(annotated(priced)).toBe(true);
    const auto = { limit: defaults.COST_LIMIT, defaultLimit: 10_000, mode: defaults.COST_MODE };
    expect(enforcedLimit(auto, none)).toBeNull();
    expect(enforcedLimit(auto, priced)).toBe(10_000);
    expect(enforcedLimit({ ...auto, limit: 500 }, none)).toBe(500);
    expect(enforcedLimit({ ...auto, mode: 'enforce' }, none)).toBe(10_000);
    expect(enforcedLimit({ ...auto, mode: 'measure', limit: 500 }, priced)).toBeNull();
  });
});
