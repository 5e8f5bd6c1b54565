import { describe, expect, it } from 'vitest';
import { mergeResults } from '../src/report.ts';

describe('results file of a partial run', () => {
  const full = ['# Chaos results', '', 'Command: `npm run chaos`', '', '### kill a subgraph', '', '| a |', '- pass: x', '', '### stop Redis', '', '- pass: y', '', '### data', '', '| 1 |', '', '### findings', '', '- none', ''].join('\n');

  it('replaces the sections of the scenarios that ran, inserts new ones before the data check, and keeps the rest', () => {
    const merged = mergeResults(full, ['### stop Redis\n\n- FAIL: z', '### kill orders during an order run\n\n| b |\n- pass: w'], '_From `npm run chaos -- --only x`._');
    expect(merged).toBe(
      [
        '# Chaos results',
        '',
        'Command: `npm run chaos`',
        '',
        '### kill a subgraph',
        '',
        '| a |',
        '- pass: x',
        '',
        '### stop Redis',
        '',
        '_From `npm run chaos -- --only x`._',
        '',
        '- FAIL: z',
        '',
        '### kill orders during an order run',
        '',
        '_From `npm run chaos -- --only x`._',
        '',
        '| b |',
        '- pass: w',
        '',
        '### data',
        '',
        '| 1 |',
        '',
        '### findings',
        '',
        '- none',
        '',
      ].join('\n'),
    );
    // Running it again replaces the section it put in.
    expect(mergeResults(merged, ['### kill orders during an order run\n\n| c |'], '_again_')).toBe(merged.replace('_From `npm run chaos -- --only x`._\n\n| b |\n- pass: w', '_again_\n\n| c |'));
  });
});
