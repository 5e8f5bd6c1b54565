import { describe, expect, it } from 'vitest';
import { gatewayNodeFlags, missingFlags, NodeFlagsConfigError } from '../src/node-flags.ts';

describe('the node flags the gateway applies to itself', () => {
  it('caps the heap and sizes the semi-space by default, leaves V8 its own sizes on 0', () => {
    expect(gatewayNodeFlags({})).toEqual(['--max-old-space-size=192', '--max-semi-space-size=32']);
    expect(gatewayNodeFlags({ GATEWAY_HEAP_MB: '', GATEWAY_SEMI_SPACE_MB: '' })).toEqual(['--max-old-space-size=192', '--max-semi-space-size=32']);
    expect(gatewayNodeFlags({ GATEWAY_HEAP_MB: '0' })).toEqual(['--max-semi-space-size=32']);
    expect(gatewayNodeFlags({ GATEWAY_HEAP_MB: '0', GATEWAY_SEMI_SPACE_MB: '0' })).toEqual([]);
    expect(gatewayNodeFlags({ GATEWAY_HEAP_MB: '256', GATEWAY_SEMI_SPACE_MB: '8' })).toEqual(['--max-old-space-size=256', '--max-semi-space-size=8']);
  });

  it('refuses values that are not whole MiB, or too small to hold a supergraph, naming each variable', () => {
    const error = (() => {
      try {
        gatewayNodeFlags({ GATEWAY_HEAP_MB: '16', GATEWAY_SEMI_SPACE_MB: 'lots' });
      } catch (caught) {
        return caught;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(NodeFlagsConfigError);
    expect((error as NodeFlagsConfigError).problems).toEqual([
      'GATEWAY_HEAP_MB: expected 0 (V8 default) or at least 64 MiB: below that the gateway cannot hold its supergraph and plans (got "16")',
      'GATEWAY_SEMI_SPACE_MB: expected a whole number of MiB (0: V8 default) (got "lots")',
    ]);
    expect(() => gatewayNodeFlags({ GATEWAY_HEAP_MB: '100000' })).toThrow(/GATEWAY_HEAP_MB: expected at most 65536/);
    expect(() => gatewayNodeFlags({ GATEWAY_HEAP_MB: '1.5' })).toThrow(/GATEWAY_HEAP_MB: expected a whole number/);
  });

  it('counts a flag as given when its option is on the command line or in NODE_OPTIONS, whatever its value', () => {
    const wanted = ['--max-old-space-size=192', '--max-semi-space-size=8'];
    expect(missingFlags(wanted, [])).toEqual(wanted);
    expect(missingFlags(wanted, ['--import', 'tsx', '--max-old-space-size=512'])).toEqual(['--max-semi-space-size=8']);
    expect(missingFlags(wanted, ['--max_old_space_size=512'], '--max-semi-space-size=4 --enable-source-maps')).toEqual([]);
    expect(missingFlags([], ['--max-old-space-size=512'])).toEqual([]);
  });
});
