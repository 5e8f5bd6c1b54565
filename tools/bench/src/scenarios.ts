import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { productUpc } from '@shop/db';
import { tokenFor } from '@shop/test-support';

export type SubgraphSet = 'reference' | 'shop';

export interface LoadRequest {
  method: 'POST';
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface Scenario {
  id: string;
  label: string;
  /** Which subgraph sets it runs on. */
  sets: SubgraphSet[];
  /** Needs a gateway that verifies our bearer tokens (the peers do not know our identity scheme). */
  needsIdentity(set: SubgraphSet): boolean;
  /** Requests each connection sends in turn. */
  requests(set: SubgraphSet): Promise<LoadRequest[]>;
  /** Sent once before the load (e.g. registering a persisted query). */
  prime?(set: SubgraphSet): Promise<LoadRequest[]>;
  /** The exact response body a correct gateway returns to request `index`, when known. */
  expected?(set: SubgraphSet, index: number): unknown;
}

const referenceFile = (name: string) => readFileSync(new URL(`../reference/${name}`, import.meta.url), 'utf8');
export const BENCHMARK_QUERY = referenceFile('query.graphql');
const EXPECTED = JSON.parse(referenceFile('expected-response.json')) as unknown;
const BENCHMARK_HASH = createHash('sha256').update(BENCHMARK_QUERY).digest('hex');

const post = (body: unknown, headers: Record<string, string> = {}): LoadRequest => ({
  method: 'POST',
  path: '/graphql',
  // As browsers send it: a gateway that compresses (ours with COMPRESSION=true) does.
  headers: { 'content-type': 'application/json', 'accept-encoding': 'gzip, deflate, br', ...headers },
  body: JSON.stringify(body),
});
// Minted once per scenario and sent for its whole load, which outlasts a test token's 5 minutes.
const bearer = async (userId: number) => ({ authorization: `Bearer ${await tokenFor(userId, { expiresIn: '2h' })}` });

/** The response is the reference answer on the reference subgraphs; elsewhere, "no errors" is checked. */
const referenceAnswer = (set: SubgraphSet) => (set === 'reference' ? EXPECTED : undefined);

const ME = 'query Me { me { id username name } }';
const TOP = 'query Top { topProducts(first: 5) { upc name price reviews { body author { username } } } }';
const ADD_REVIEW = 'mutation Add($input: AddReviewInput!) { addReview(input: $input) { id rating } }';

export const SCENARIOS: Scenario[] = [
  {
    id: 'benchmark',
    label: 'benchmark query (TestQuery)',
    sets: ['reference', 'shop'],
    needsIdentity: () => false,
    requests: async () => [post({ query: BENCHMARK_QUERY, operationName: 'TestQuery' })],
    expected: referenceAnswer,
  },
  {
    id: 'me',
    label: 'small query (me)',
    sets: ['reference', 'shop'],
    // The reference `me` is user 1 for everyone; on the shop it is the token's user.
    needsIdentity: (set) => set === 'shop',
    requests: async (set) => [post({ query: ME, operationName: 'Me' }, set === 'shop' ? await bearer(7) : {})],
    expected: (set) =>
      set === 'reference' ? { data: { me: { id: '1', username: 'urigo', name: 'Uri Goldshtein' } } } : undefined,
  },
  {
    id: 'persisted',
    label: 'benchmark query by persisted ID (APQ)',
    sets: ['reference', 'shop'],
    needsIdentity: () => false,
    prime: async () => [
      post({ query: BENCHMARK_QUERY, operationName: 'TestQuery', extensions: { persistedQuery: { version: 1, sha256Hash: BENCHMARK_HASH } } }),
    ],
    requests: async () => [
      post({ operationName: 'TestQuery', extensions: { persistedQuery: { version: 1, sha256Hash: BENCHMARK_HASH } } }),
    ],
    expected: referenceAnswer,
  },
  {
    id: 'mixed',
    label: 'mixed: 9 reads (public and private) to 1 write',
    sets: ['shop'],
    needsIdentity: () => true,
    requests: async () => {
      const headers = await bearer(11);
      const reads = [post({ query: TOP, operationName: 'Top' }, headers), post({ query: ME, operationName: 'Me' }, headers)];
      const write = post(
        { query: ADD_REVIEW, operationName: 'Add', variables: { input: { upc: productUpc(3), rating: 4, body: 'Bench review' } } },
        headers,
      );
      return [...Array.from({ length: 9 }, (_, i) => reads[i % 2]!), write];
    },
  },
];

/** True when `body` is a successful GraphQL response, and the expected one when that is known. */
export function isCorrect(status: number, body: string, expected: unknown): boolean {
  if (status !== 200) return false;
  let parsed: { data?: unknown; errors?: unknown };
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    return false;
  }
  if (parsed.errors !== undefined || parsed.data == null) return false;
  return expected === undefined || isDeepStrictEqual(parsed, expected);
}
