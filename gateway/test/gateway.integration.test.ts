import { readFile, writeFile, rename } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '@shop/test-support';
import { startTestStack, type TestStack } from '@shop/test-support/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

async function replaceFile(path: string, content: string): Promise<void> {
  // Deployments swap the file by rename; the gateway must notice that too.
  await writeFile(`${path}.next`, content);
  await rename(`${path}.next`, path);
}

describe('gateway HTTP edge', () => {
  const base = () => stack.gatewayUrl.replace(/\/graphql$/, '');

  it('answers /health and /ready', async () => {
    expect(await (await fetch(`${base()}/health`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${base()}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
  });

  it('refuses malformed JSON, a wrong content type, an oversized body and a mutation over GET with 4xx and a code', async () => {
    const post = (body: string, contentType = 'application/json') =>
      fetch(stack.gatewayUrl, { method: 'POST', headers: { 'content-type': contentType }, body });

    const malformed = await post('{"query": "{ users { id } }"');
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ errors: [{ extensions: { code: 'BAD_REQUEST' } }] });

    const wrongType = await post('{ users { id } }', 'text/plain');
    expect(wrongType.status).toBe(415);
    expect(await wrongType.json()).toMatchObject({ errors: [{ extensions: { code: 'UNSUPPORTED_MEDIA_TYPE' } }] });

    const huge = await post(JSON.stringify({ query: `{ users { id } } #${'x'.repeat(2 * 1024 * 1024)}` }));
    expect(huge.status).toBe(413);
    expect(await huge.json()).toMatchObject({ errors: [{ extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });

    const mutationOverGet = await fetch(
      `${stack.gatewayUrl}?query=${encodeURIComponent('mutation { addReview(input: {upc: "1", rating: 5, body: "x"}) { id } }')}`,
      { headers: { 'apollo-require-preflight': 'true' } },
    );
    expect(mutationOverGet.status).toBe(405);

    const wrongVariables = await stack.query('query($id: ID!) { user(id: $id) { id } }', { id: { nested: true } });
    expect(wrongVariables.status).toBe(400);
    expect(wrongVariables.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

    // And it keeps serving.
    const after = await stack.query<{ users: unknown[] }>('{ users(first: 2) { id } }');
    expect(after.body.data!.users).toHaveLength(2);
  });

  it('refuses a simple GET without a preflight header (CSRF prevention)', async () => {
    const response = await fetch(`${stack.gatewayUrl}?query=${encodeURIComponent('{ users(first: 1) { id } }')}`);
    expect(response.status).toBe(400);
  });
});

describe('supergraph hot reload', () => {
  it('rejects a broken supergraph file and keeps serving the last good one, then applies a valid change', async () => {
    const original = await readFile(stack.supergraphPath, 'utf8');
    const servedAtStart = stack.gateway.supergraphId();
    expect(servedAtStart).not.toBeNull();

    try {
      await replaceFile(stack.supergraphPath, `${original}\ntype Broken {`);
      // Give the poller several rounds to see and reject it.
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(stack.gateway.supergraphId()).toBe(servedAtStart);
      const stillServing = await stack.query<{ users: unknown[] }>('{ users(first: 1) { id username } }');
      expect(stillServing.body.errors).toBeUndefined();
      expect((await fetch(stack.gatewayUrl.replace(/graphql$/, 'ready'))).status).toBe(200);

      // A valid change: a new description on a field shows up in the served schema.
      // (Query already has a description: it is replaced, as a type may have only one.)
      const changed = original.replace(/(?:"{3}[^"]*"{3}\s*|"[^"\n]*"\s*)?type Query\b/, '"Entry points of the shop." type Query');
      expect(changed).not.toBe(original);
      await replaceFile(stack.supergraphPath, changed);
      await until(() => stack.gateway.supergraphId() !== servedAtStart);
      const introspection = await stack.query<{ __type: { description: string } }>('{ __type(name: "Query") { description } }');
      expect(introspection.body.data!.__type.description).toBe('Entry points of the shop.');
    } finally {
      await replaceFile(stack.supergraphPath, original);
      await until(() => stack.gateway.supergraphId() === servedAtStart);
    }
  });
});
