/**
 * A typed client of the gateway in a few lines: `request(TopProductsWithReviews, { first: 3 })`
 * returns the operation's own result type, and its variables are checked at compile time.
 */
import type { TypedDocumentString } from './generated/graphql.js';
import { MyOrders, PlaceOrder, TopProductsWithReviews } from './operations.ts';
import type { PlaceOrderInput } from './generated/graphql.js';

export interface GraphQLErrorPayload {
  message: string;
  path?: ReadonlyArray<string | number>;
  extensions?: { code?: string } & Record<string, unknown>;
}

export interface Result<T> {
  data: T | null | undefined;
  errors: GraphQLErrorPayload[];
}

export interface ClientOptions {
  /** The gateway's /graphql URL. */
  url: string;
  /** A bearer token of the signed-in user, if any. */
  token?: string;
  /** A registered client's API key (partners). */
  apiKey?: string;
}

/** Sends one operation and returns its data and errors, typed by the document. */
export async function request<TResult, TVariables>(
  options: ClientOptions,
  document: TypedDocumentString<TResult, TVariables>,
  ...[variables]: TVariables extends Record<string, never> ? [] : [TVariables]
): Promise<Result<TResult>> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/graphql-response+json, application/json',
    'apollographql-client-name': 'example-web-client',
  };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.apiKey) headers['x-api-key'] = options.apiKey;
  const response = await fetch(options.url, { method: 'POST', headers, body: JSON.stringify({ query: document.toString(), variables }) });
  const body = (await response.json()) as { data?: TResult | null; errors?: GraphQLErrorPayload[] };
  return { data: body.data, errors: body.errors ?? [] };
}

/** The home page's products, each with its rating and the names of its reviewers. */
export async function homePage(options: ClientOptions, first = 3) {
  const { data, errors } = await request(options, TopProductsWithReviews, { first });
  const products = (data?.topProducts ?? []).map((product) => ({
    name: product.name,
    price: `${(product.price / 100).toFixed(2)}`,
    rating: product.averageRating ?? null,
    reviewers: (product.reviews ?? []).flatMap((review) => (review.author ? [review.author.username] : [])),
  }));
  return { products, errors };
}

/** The signed-in user's orders, newest first, with their totals in cents. */
export async function myOrders(options: ClientOptions) {
  const { data, errors } = await request(options, MyOrders, { first: 5 });
  return { user: data?.me?.username ?? null, orders: data?.me?.orders ?? [], errors };
}

/** Places an order; retry with the same key after a timeout. */
export async function checkout(options: ClientOptions, input: PlaceOrderInput, idempotencyKey: string) {
  const { data, errors } = await request(options, PlaceOrder, { input, idempotencyKey });
  return { order: data?.placeOrder ?? null, errors };
}
