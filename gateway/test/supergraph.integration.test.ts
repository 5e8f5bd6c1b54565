import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BENCHMARK_QUERY, tokenFor } from '@shop/test-support';
import { startTestStack, type TestStack } from '@shop/test-support/stack';

/**
 * Subgraph fetches in the benchmark query's plan, and the SQL statements they cost: one per
 * fetch, except in reviews, whose two fetches each resolve reviews of reviews (nested in the
 * same subgraph), one batched statement per level.
 */
// Plans in waves, each wave's fetches to a subgraph in one request (SUBGRAPH_BATCHING): Apollo's plan is 16 fetches
// (accounts 3, products 4, inventory 7, reviews 2) and 19 statements (3, 4, 7, 5) without.
const BENCHMARK_FETCHES = { accounts: 2, products: 2, inventory: 1, reviews: 1, orders: 0 };
const BENCHMARK_SQL = { accounts: 2, products: 2, inventory: 1, reviews: 5, orders: 0 };

let stack: TestStack;
beforeAll(async () => {
  // The list-size test asks for 100 users with nested reviews: over the default cost limit.
  stack = await startTestStack({ gatewayEnv: { COST_LIMIT: '10000000' } });
});
afterAll(async () => {
  await stack?.stop();
});

describe('federated reads through the gateway', () => {
  it('answers the reference benchmark query unchanged, without errors', async () => {
    const response = await stack.query<{ users: unknown[]; topProducts: unknown[] }>(BENCHMARK_QUERY);
    expect(response.status).toBe(200);
    expect(response.body.errors).toBeUndefined();
    const { users, topProducts } = response.body.data!;
    expect(users).toHaveLength(20);
    expect(topProducts).toHaveLength(5);
    const product = (topProducts as Array<Record<string, unknown>>)[0]!;
    expect(product).toMatchObject({
      upc: expect.any(String),
      name: expect.any(String),
      price: expect.any(Number),
      weight: expect.any(Number),
      inStock: expect.any(Boolean),
      shippingEstimate: expect.any(Number),
    });
    expect((product.reviews as unknown[]).length).toBeGreaterThan(0);
  });

  it('costs a fixed number of subgraph fetches and SQL statements for the benchmark query, whatever the list sizes', async () => {
    const small = await stack.measure(() => stack.query(BENCHMARK_QUERY));
    const larger = BENCHMARK_QUERY.replace('users {', 'users(first: 100) {').replace('topProducts {', 'topProducts(first: 50) {');
    const large = await stack.measure(async () => {
      const response = await stack.query<{ users: unknown[] }>(larger);
      expect(response.body.errors).toBeUndefined();
      expect(response.body.data!.users).toHaveLength(100);
    });
    expect(large).toEqual(small);
    expect(small.fetches).toEqual(BENCHMARK_FETCHES);
    expect(small.sql).toEqual(BENCHMARK_SQL);
  });

  it('loads 100 products with their reviews and authors in one statement per subgraph', async () => {
    const query = (first: number) => `{
      products(first: ${first}) {
        edges { node { upc name price inStock averageRating reviews { id rating body author { id username name } } } }
        pageInfo { hasNextPage endCursor }
      }
    }`;
    let reviewCount = 0;
    const counts = await stack.measure(async () => {
      const response = await stack.query<{ products: { edges: Array<{ node: { reviews: unknown[] } }> } }>(query(100));
      expect(response.body.errors).toBeUndefined();
      const edges = response.body.data!.products.edges;
      expect(edges).toHaveLength(100);
      reviewCount = edges.reduce((sum, edge) => sum + edge.node.reviews.length, 0);
    });
    expect(reviewCount).toBeGreaterThan(100);
    // products: the page; inventory: one batch; reviews: reviews + averages; accounts: authors.
    expect(counts.sql).toEqual({ accounts: 1, products: 1, inventory: 1, reviews: 2, orders: 0 });
    expect(counts.fetches).toEqual({ accounts: 1, products: 1, inventory: 1, reviews: 1, orders: 0 });
    const tenCounts = await stack.measure(() => stack.query(query(10)));
    expect(tenCounts).toEqual(counts);
  });

  it('pages through products with opaque cursors and filters by category and search', async () => {
    const first = await stack.query<{ products: { edges: Array<{ node: { upc: string } }>; pageInfo: { endCursor: string } } }>(
      '{ products(first: 3) { edges { node { upc } } pageInfo { hasNextPage endCursor } } }',
    );
    const { edges, pageInfo } = first.body.data!.products;
    const second = await stack.query<{ products: { edges: Array<{ node: { upc: string } }> } }>(
      'query($after: String) { products(first: 3, after: $after) { edges { node { upc } } } }',
      { after: pageInfo.endCursor },
    );
    const secondUpcs = second.body.data!.products.edges.map((e) => e.node.upc);
    expect(secondUpcs).toHaveLength(3);
    expect(secondUpcs[0]! > edges[2]!.node.upc).toBe(true);

    const product = await stack.query<{ product: { category: string; name: string } }>(
      'query($upc: String!) { product(upc: $upc) { category name } }',
      { upc: edges[0]!.node.upc },
    );
    const { category, name } = product.body.data!.product;
    const filtered = await stack.query<{ products: { edges: Array<{ node: { category: string; name: string } }> } }>(
      'query($c: String, $s: String) { products(first: 100, category: $c, search: $s) { edges { node { category name } } } }',
      { c: category, s: name.split(' ')[0]!.toUpperCase() },
    );
    const nodes = filtered.body.data!.products.edges.map((e) => e.node);
    expect(nodes.length).toBeGreaterThan(0);
    for (const node of nodes) {
      expect(node.category).toBe(category);
      expect(node.name.toLowerCase()).toContain(name.split(' ')[0]!.toLowerCase());
    }
  });

  it('returns null for entities that do not exist and refuses unbounded pages', async () => {
    const missing = await stack.query('{ user(id: "999999") { id } product(upc: "no-such-upc") { upc } }');
    expect(missing.body).toEqual({ data: { user: null, product: null } });

    // The gateway's cost limit stops it before any subgraph is asked...
    const huge = await stack.query('{ users(first: 1000000000) { id } }');
    expect(huge.status).toBe(400);
    expect(huge.body.errors?.[0]?.extensions?.code).toBe('COST_LIMIT_EXCEEDED');
    // ...and the subgraph's own page limit stops what the cost limit lets through.
    const tooMany = await stack.query('{ users(first: 101) { id } }');
    expect(tooMany.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(tooMany.body.errors?.[0]?.message).toMatch(/between 1 and 100/);
  });
});

describe('the signed-in user', () => {
  it('is null for anonymous callers and the token subject otherwise', async () => {
    const anonymous = await stack.query('{ me { id } }');
    expect(anonymous.body).toEqual({ data: { me: null } });

    const signedIn = await stack.query<{ me: { id: string; username: string; orders: unknown[] } }>(
      '{ me { id username orders { id total lines { quantity unitPrice product { upc name } } } } }',
      {},
      { token: await tokenFor(7) },
    );
    expect(signedIn.body.errors).toBeUndefined();
    expect(signedIn.body.data!.me.id).toBe('7');
    expect(signedIn.body.data!.me.orders.length).toBeGreaterThan(0);
  });

  it('refuses a forged or expired token with 401 instead of serving it as anonymous', async () => {
    const forged = await stack.query('{ me { id } }', {}, { token: await tokenFor(7, { secret: 'x'.repeat(40) }) });
    expect(forged.status).toBe(401);
    expect(forged.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    const expired = await stack.query('{ me { id } }', {}, { token: await tokenFor(7, { expiresIn: '-1m' }) });
    expect(expired.status).toBe(401);
    expect(expired.body.errors?.[0]?.extensions?.reason).toBe('TOKEN_EXPIRED');
  });
});

describe('mutations', () => {
  const ADD_REVIEW = `mutation($input: AddReviewInput!) {
    addReview(input: $input) { id rating body author { id username } product { upc name } }
  }`;

  it('adds a review for the signed-in user, validated', async () => {
    const products = await stack.query<{ topProducts: Array<{ upc: string }> }>('{ topProducts(first: 1) { upc } }');
    const upc = products.body.data!.topProducts[0]!.upc;
    const token = await tokenFor(3);

    const added = await stack.query<{ addReview: { id: string; author: { id: string }; product: { upc: string } } }>(
      ADD_REVIEW,
      { input: { upc, rating: 5, body: '  Sturdy and well made.  ' } },
      { token },
    );
    expect(added.body.errors).toBeUndefined();
    expect(added.body.data!.addReview).toMatchObject({ rating: 5, body: 'Sturdy and well made.', author: { id: '3' }, product: { upc } });

    const reviews = await stack.query<{ product: { reviews: Array<{ id: string }> } }>(
      'query($upc: String!) { product(upc: $upc) { reviews { id } } }',
      { upc },
    );
    expect(reviews.body.data!.product.reviews.map((r) => r.id)).toContain(added.body.data!.addReview.id);

    // @authenticated: the gateway removes the mutation for anonymous callers.
    const anonymous = await stack.query(ADD_REVIEW, { input: { upc, rating: 5, body: 'x' } });
    expect(anonymous.body.errors?.[0]?.extensions?.code).toBe('UNAUTHORIZED');
    expect(anonymous.body.data).toBeNull();

    const invalid = await stack.query(ADD_REVIEW, { input: { upc, rating: 6, body: '' } }, { token });
    expect(invalid.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(invalid.body.errors?.[0]?.message).toMatch(/rating must be 1 to 5/);
    expect(invalid.body.errors?.[0]?.message).toMatch(/body must not be empty/);
  });

  const PLACE_ORDER = `mutation($input: PlaceOrderInput!, $key: String!) {
    placeOrder(input: $input, idempotencyKey: $key) { id total status lines { quantity unitPrice product { upc price } } user { id } }
  }`;

  it('places an order once per idempotency key, also under concurrent retries', async () => {
    const products = await stack.query<{ topProducts: Array<{ upc: string; price: number }> }>('{ topProducts(first: 2) { upc price } }');
    const [a, b] = products.body.data!.topProducts;
    const token = await tokenFor(11);
    const key = `it-${Date.now().toString(36)}-concurrent`;
    const input = { lines: [{ upc: a!.upc, quantity: 2 }, { upc: b!.upc, quantity: 1 }] };

    const responses = await Promise.all(
      Array.from({ length: 8 }, () =>
        stack.query<{ placeOrder: { id: string; total: number; lines: Array<{ unitPrice: number }> } }>(PLACE_ORDER, { input, key }, { token }),
      ),
    );
    for (const response of responses) expect(response.body.errors).toBeUndefined();
    const ids = new Set(responses.map((r) => r.body.data!.placeOrder.id));
    expect(ids.size).toBe(1);
    const order = responses[0]!.body.data!.placeOrder;
    expect(order.total).toBe(2 * a!.price + b!.price);

    // Same lines in another order: the same request, the same order.
    const retried = await stack.query<{ placeOrder: { id: string } }>(
      PLACE_ORDER,
      { input: { lines: [...input.lines].reverse() }, key },
      { token },
    );
    expect(retried.body.data!.placeOrder.id).toBe(order.id);

    const mine = await stack.query<{ me: { orders: Array<{ id: string }> } }>('{ me { orders { id } } }', {}, { token });
    expect(mine.body.data!.me.orders.filter((o) => o.id === order.id)).toHaveLength(1);

    const reused = await stack.query(PLACE_ORDER, { input: { lines: [{ upc: a!.upc, quantity: 5 }] }, key }, { token });
    expect(reused.body.errors?.[0]?.extensions?.code).toBe('IDEMPOTENCY_KEY_REUSED');

    // Keys are per user: another user's identical key is another order.
    const other = await stack.query<{ placeOrder: { id: string; user: { id: string } } }>(PLACE_ORDER, { input, key }, { token: await tokenFor(12) });
    expect(other.body.data!.placeOrder.id).not.toBe(order.id);
    expect(other.body.data!.placeOrder.user.id).toBe('12');
  });

  it('refuses unknown products, bad quantities and anonymous callers with stable codes', async () => {
    const token = await tokenFor(11);
    const unknown = await stack.query(PLACE_ORDER, { input: { lines: [{ upc: 'no-such-upc', quantity: 1 }] }, key: 'it-unknown-product' }, { token });
    expect(unknown.body.errors?.[0]?.extensions?.code).toBe('PRODUCT_NOT_FOUND');

    const bad = await stack.query(PLACE_ORDER, { input: { lines: [{ upc: 'x', quantity: 0 }] }, key: 'short' }, { token });
    expect(bad.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(bad.body.errors?.[0]?.message).toMatch(/quantity must be 1 to 1000/);
    expect(bad.body.errors?.[0]?.message).toMatch(/idempotencyKey must be 8 to 100 characters/);

    const anonymous = await stack.query(PLACE_ORDER, { input: { lines: [{ upc: 'x', quantity: 1 }] }, key: 'it-anonymous' });
    expect(anonymous.body.errors?.[0]?.extensions?.code).toBe('UNAUTHORIZED');
  });
});
