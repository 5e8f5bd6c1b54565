import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInternalSigner, generateInternalKeyPair, parsePrivateKey } from '@shop/service-kit';
import { internalClient } from '../src/internal-client.ts';

/** A subgraph that answers 503 until told to answer, counting the requests it got. */
let server: Server;
let url: string;
let requests = 0;
let healthy = false;

beforeAll(async () => {
  server = createServer((req, res) => {
    requests += 1;
    req.resume();
    req.on('end', () => {
      if (!healthy) {
        res.writeHead(503).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { ok: true } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('internalClient', () => {
  it('stops calling a service that failed to answer 3 times in a row, and counts GraphQL errors as answers', async () => {
    const { privateKey } = generateInternalKeyPair('orders-test');
    const signer = createInternalSigner({ issuer: 'orders', privateKey: parsePrivateKey(privateKey), keyId: 'orders-test' });
    const call = internalClient('inventory', url, signer, 2_000);

    for (let i = 0; i < 3; i += 1) await expect(call('{ ok }', {})).rejects.toThrow(/inventory answered HTTP 503/);
    expect(requests).toBe(3);
    // Open: refused at once, the service is not called.
    await expect(call('{ ok }', {})).rejects.toThrow(/inventory failed to answer 3 times in a row; not calling it/);
    expect(requests).toBe(3);

    healthy = true;
    await new Promise((resolve) => setTimeout(resolve, 5_100));
    // Half-open: one call goes through, succeeds, and closes the circuit.
    await expect(call('{ ok }', {})).resolves.toEqual({ ok: true });
    await expect(call('{ ok }', {})).resolves.toEqual({ ok: true });
    expect(requests).toBe(5);
  }, 15_000);
});
