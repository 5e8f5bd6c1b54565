import { describe, expect, it } from 'vitest';
import { gatewayNodeFlags } from '../src/heap.ts';

describe('the node flags the gateway is launched with', () => {
  it('caps the heap by default, leaves V8 its own limit on 0, and refuses a cap too small to hold a supergraph', () => {
    expect(gatewayNodeFlags({})).toEqual(['--max-old-space-size=192']);
    expect(gatewayNodeFlags({ GATEWAY_HEAP_MB: '0' })).toEqual([]);
    expect(() => gatewayNodeFlags({ GATEWAY_HEAP_MB: '16' })).toThrow(/GATEWAY_HEAP_MB: expected 0 \(V8 default\) or at least 64 MiB/);
  });
});
