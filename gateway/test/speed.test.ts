import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type HTTPGraphQLResponse } from '@apollo/server';
import type { FetcherResponse } from '@apollo/utils.fetcher';
import { Response } from 'undici';
import { describe, expect, it } from 'vitest';
import type { Exchange } from '../src/exchange.ts';
import { inboundDedup } from '../src/sharing/inbound-dedup.ts';
import { OperationKinds } from '../src/sharing/operation-kinds.ts';
import { documentKey } from '../src/sharing/request-key.ts';
import { dedupSubgraphFetches } from '../src/subgraph-fetch/subgraph-dedup.ts';

// Which requests share one execution, counted with an execution the test holds open: the
// integration tests check the answers, these check that sharing happens exactly when allowed.

function learn(kinds: OperationKinds, query: string, kind: 'query' | 'mutation') {
  const plugin = kinds.plugin();
  return plugin.requestDidStart!({ request: { query } } as never).then((listener) =>
    listener!.didResolveOperation!({ request: { query }, operation: { operation: kind } } as never),
  );
}

/** A request as the stages before inbound dedup leave it: read and ready for Apollo. */
function execution(query: string, headers: Record<string, string> = {}, variables?: unknown): Exchange {
  return {
    req: {} as IncomingMessage,
    res: {} as ServerResponse,
    requestId: 'test',
    clientAddress: '127.0.0.1',
    responseHeaders: {},
    request: { method: 'POST', headers: new HeaderMap(Object.entries({ 'content-type': 'application/json', ...headers })), search: '', body: { query, variables } },
  };
}

function heldExecution() {
  let calls = 0;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const next = async (): Promise<HTTPGraphQLResponse> => {
    calls += 1;
    const n = calls;
    await gate;
    return { status: 200, headers: new HeaderMap(), body: { kind: 'complete', string: `{"data":{"n":${n}}}` } };
  };
  return { next, release: () => release(), calls: () => calls };
}

describe('inbound deduplication', () => {
  it('executes identical in-flight queries once and gives each caller the same answer', async () => {
    const kinds = new OperationKinds();
    await learn(kinds, '{ a }', 'query');
    const dedup = inboundDedup(kinds);
    const held = heldExecution();
    const answers = Promise.all([1, 2, 3].map(() => dedup(execution('{ a }'), held.next)));
    held.release();
    expect((await answers).map((a) => (a.body as { string: string }).string)).toEqual(Array(3).fill('{"data":{"n":1}}'));
    expect(held.calls()).toBe(1);
    expect(dedup.inFlight()).toBe(0);
  });

  it('does not share across credentials, variables or headers that change the answer', async () => {
    const kinds = new OperationKinds();
    await learn(kinds, '{ a }', 'query');
    const dedup = inboundDedup(kinds);
    const held = heldExecution();
    const answers = Promise.all([
      dedup(execution('{ a }', { authorization: 'Bearer one' }), held.next),
      dedup(execution('{ a }', { authorization: 'Bearer two' }), held.next),
      dedup(execution('{ a }', {}, { x: 1 }), held.next),
      dedup(execution('{ a }', { 'accept-language': 'de' }), held.next),
    ]);
    held.release();
    await answers;
    expect(held.calls()).toBe(4);
  });

  it('never shares mutations, nor documents not yet known to be queries', async () => {
    const kinds = new OperationKinds();
    await learn(kinds, 'mutation { m }', 'mutation');
    const dedup = inboundDedup(kinds);
    const held = heldExecution();
    const answers = Promise.all([
      dedup(execution('mutation { m }'), held.next),
      dedup(execution('mutation { m }'), held.next),
      dedup(execution('{ unseen }'), held.next),
      dedup(execution('{ unseen }'), held.next),
    ]);
    held.release();
    await answers;
    expect(held.calls()).toBe(4);
  });

  it('learns operation kinds per operation name and by persisted-query hash', () => {
    expect(documentKey('query A { a } mutation B { b }', undefined, 'A')).not.toBe(documentKey('query A { a } mutation B { b }', undefined, 'B'));
    expect(documentKey(undefined, { persistedQuery: { version: 1, sha256Hash: 'abc' } }, null)).toBe(documentKey('{ a }', { persistedQuery: { sha256Hash: 'abc' } }, undefined));
  });
});

describe('subgraph fetch deduplication', () => {
  function heldFetcher() {
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const fetcher = async () => {
      calls += 1;
      await gate;
      return new Response(`{"data":{"call":${calls}}}`, { status: 200, headers: { 'content-type': 'application/json' } }) as unknown as FetcherResponse;
    };
    return { fetcher, release: () => release(), calls: () => calls };
  }
  const init = (query: string, user = '1') => ({ method: 'POST', headers: { 'x-shop-user-id': user }, body: JSON.stringify({ query }) });

  it('sends identical query fetches once; each caller gets its own readable body', async () => {
    const held = heldFetcher();
    const fetch = dedupSubgraphFetches(held.fetcher);
    const responses = Promise.all([1, 2, 3].map(() => fetch('http://s/graphql', init('query Q { a }'))));
    held.release();
    const bodies = await Promise.all((await responses).map((r) => r.json()));
    expect(bodies).toEqual(Array(3).fill({ data: { call: 1 } }));
    expect(held.calls()).toBe(1);
  });

  it('sends mutations and fetches for different callers separately', async () => {
    const held = heldFetcher();
    const fetch = dedupSubgraphFetches(held.fetcher);
    const responses = Promise.all([
      fetch('http://s/graphql', init('mutation M { m }')),
      fetch('http://s/graphql', init('mutation M { m }')),
      fetch('http://s/graphql', init('query Q { a }', '1')),
      fetch('http://s/graphql', init('query Q { a }', '2')),
    ]);
    held.release();
    await responses;
    expect(held.calls()).toBe(4);
  });
});
