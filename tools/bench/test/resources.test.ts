import { describe, expect, it } from 'vitest';
import { sampleResources } from '../src/processes.ts';

describe('sampleResources', () => {
  it.runIf(process.platform === 'linux')('reads RSS and PSS of a process tree, PSS never above RSS', async () => {
    const sampler = sampleResources(process.pid, 20);
    // Something to sample: 32 MB touched, kept until the sampler stops.
    const held = Buffer.alloc(32 * 2 ** 20, 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const sample = await sampler.stop();
    expect(held.length).toBe(32 * 2 ** 20);
    expect(sample.peakRssBytes).toBeGreaterThan(32 * 2 ** 20);
    expect(sample.peakPssBytes).toBeGreaterThan(32 * 2 ** 20);
    expect(sample.peakPssBytes!).toBeLessThanOrEqual(sample.peakRssBytes);
  });
});
