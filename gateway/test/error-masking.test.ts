import type { GraphQLRequestContextWillSendResponse } from '@apollo/server';
import { describe, expect, it } from 'vitest';
import { errorMasking } from '../src/apollo/error-masking.ts';
import type { GatewayContext } from '../src/context.ts';

interface Answered {
  message: string;
  path?: Array<string | number>;
  extensions?: Record<string, unknown>;
}

/** The errors of one answer after the plugin, as a production (or development) gateway sends them. */
async function masked(production: boolean, errors: Answered[]): Promise<Answered[]> {
  const response = { body: { kind: 'single', singleResult: { data: null, errors } } };
  const contextValue = { requestId: 'req-1' } as unknown as GatewayContext;
  const hooks = await errorMasking(production).requestDidStart!({ contextValue } as never);
  await hooks!.willSendResponse!({ response, contextValue } as unknown as GraphQLRequestContextWillSendResponse<GatewayContext>);
  return response.body.singleResult.errors;
}

describe('error masking in production', () => {
  it("keeps the orders' client-facing refusals with the extensions the error table promises", async () => {
    const shortages = [{ upc: '048213000019', requested: 3, available: 1 }];
    const [outOfStock, notCancellable, notFound] = await masked(true, [
      {
        message: 'Not enough stock for 048213000019 (3 asked, 1 available).',
        path: ['placeOrder'],
        extensions: { code: 'OUT_OF_STOCK', orderId: '42', shortages, stacktrace: ['at x'] },
      },
      { message: 'Order 7 is REJECTED and can no longer be cancelled.', extensions: { code: 'ORDER_NOT_CANCELLABLE', orderId: '7', status: 'REJECTED' } },
      { message: 'No such order of yours.', extensions: { code: 'ORDER_NOT_FOUND' } },
    ]);
    expect(outOfStock).toEqual({
      message: 'Not enough stock for 048213000019 (3 asked, 1 available).',
      path: ['placeOrder'],
      extensions: { code: 'OUT_OF_STOCK', orderId: '42', shortages, requestId: 'req-1' },
    });
    expect(notCancellable!.extensions).toEqual({ code: 'ORDER_NOT_CANCELLABLE', orderId: '7', status: 'REJECTED', requestId: 'req-1' });
    expect(notFound).toEqual({ message: 'No such order of yours.', extensions: { code: 'ORDER_NOT_FOUND', requestId: 'req-1' } });
  });

  it('still masks what is not written for clients, and keeps only the listed extensions', async () => {
    const [internal, unavailable] = await masked(true, [
      { message: 'connect ECONNREFUSED 127.0.0.1:5432', extensions: { code: 'INTERNAL_SERVER_ERROR', orderId: '1', shortages: [] } },
      { message: 'The orders service is unavailable.', extensions: { code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'orders', reason: 'connection refused', url: 'http://127.0.0.1:4005' } },
    ]);
    expect(internal).toEqual({ message: 'Internal server error.', extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: 'req-1' } });
    expect(unavailable!.extensions).toEqual({ code: 'SUBGRAPH_UNAVAILABLE', serviceName: 'orders', reason: 'connection refused', requestId: 'req-1' });
  });

  it('passes everything through outside production, adding the request id', async () => {
    const [error] = await masked(false, [{ message: 'x', extensions: { code: 'OUT_OF_STOCK', orderId: '1', debug: true } }]);
    expect(error!.extensions).toEqual({ code: 'OUT_OF_STOCK', orderId: '1', debug: true, requestId: 'req-1' });
  });
});
