import { describe, expect, it } from 'vitest';
import { errorMasking } from '../../src/apollo/error-masking.ts';

/** In production, errors not written for clients are masked: the correctness stage's refusal is written for them. */
async function maskedInProduction(error: Record<string, unknown>) {
  const plugin = errorMasking(true);
  const hooks = await plugin.requestDidStart!({ contextValue: { requestId: 'r1' } } as never);
  const response = { body: { kind: 'single', singleResult: { data: null, errors: [error] } } };
  await hooks!.willSendResponse!({ response } as never);
  return response.body.singleResult.errors[0];
}

describe('QUERY_PLANNING_FAILED in production', () => {
  it('keeps its message and the fields it names', async () => {
    const message = 'Cannot plan Product.usdGross and Product.eurGross together: ...';
    expect(
      await maskedInProduction({ message, extensions: { code: 'QUERY_PLANNING_FAILED', reason: 'requires-argument-conflict', fields: ['Product.usdGross', 'Product.eurGross'], stacktrace: ['x'] } }),
    ).toEqual({ message, extensions: { code: 'QUERY_PLANNING_FAILED', reason: 'requires-argument-conflict', fields: ['Product.usdGross', 'Product.eurGross'], requestId: 'r1' } });
  });

  it('still masks what is not written for clients', async () => {
    expect(await maskedInProduction({ message: 'boom at db.internal:5432', extensions: { code: 'INTERNAL_SERVER_ERROR', reason: 'x' } })).toEqual({
      message: 'Internal server error.',
      extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: 'r1' },
    });
  });
});
