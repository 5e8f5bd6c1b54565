import { HeaderMap, type HTTPGraphQLResponse } from '@apollo/server';
import { describe, expect, it } from 'vitest';
import { admissionControl, type AdmissionOptions, type RejectReason } from '../src/limits/admission.ts';
import type { Exchange } from '../src/exchange.ts';

/** An execution the test finishes when it wants, recording the order executions started in. */
function controllableExecutions() {
  const started: string[] = [];
  const finishers = new Map<string, () => void>();
  const run = (name: string) => (): Promise<HTTPGraphQLResponse> => {
    started.push(name);
    return new Promise((resolve) => {
      finishers.set(name, () => resolve({ status: 200, headers: new HeaderMap(), body: { kind: 'complete', string: `{"data":"${name}"}` } }));
    });
  };
  return { started, run, finish: (name: string) => finishers.get(name)!() };
}

// Admission looks at nothing of the request: it only counts.
const execution = {} as Exchange;
const tick = () => new Promise((resolve) => setImmediate(resolve));
const bodyOf = (response: HTTPGraphQLResponse) => JSON.parse((response.body as { string: string }).string) as { errors?: Array<{ message: string; extensions: { code: string } }>; data?: string };

function limiter(overrides: Partial<AdmissionOptions> = {}) {
  const rejections: RejectReason[] = [];
  const admission = admissionControl({
    maxConcurrent: 2,
    maxQueued: 10,
    queueTimeoutMs: 60_000,
    heapHighWatermark: 1,
    onReject: (reason) => rejections.push(reason),
    ...overrides,
  });
  return { admission, rejections };
}

describe('admission control', () => {
  it('runs at most maxConcurrent executions and starts the waiting ones in arrival order', async () => {
    const { admission } = limiter();
    const { started, run, finish } = controllableExecutions();
    const answers = ['a', 'b', 'c', 'd', 'e'].map((name) => admission(execution, run(name)));
    await tick();
    expect(started).toEqual(['a', 'b']);
    expect([admission.executing(), admission.queued()]).toEqual([2, 3]);

    finish('b');
    await tick();
    expect(started).toEqual(['a', 'b', 'c']);
    // A newcomer while others wait queues behind them, even at the moment a slot frees up.
    const late = admission(execution, run('late'));
    finish('a');
    await tick();
    expect(started).toEqual(['a', 'b', 'c', 'd']);
    for (const name of ['c', 'd']) finish(name);
    await tick();
    for (const name of ['e', 'late']) finish(name);
    const bodies = (await Promise.all([...answers, late])).map((r) => bodyOf(r).data);
    expect(bodies).toEqual(['a', 'b', 'c', 'd', 'e', 'late']);
    expect([admission.executing(), admission.queued()]).toEqual([0, 0]);
  });

  it('refuses with 503 SERVER_BUSY and Retry-After, without executing, when the queue is full', async () => {
    const { admission, rejections } = limiter({ maxConcurrent: 1, maxQueued: 1 });
    const { started, run, finish } = controllableExecutions();
    const first = admission(execution, run('first'));
    const second = admission(execution, run('second'));
    const refused = await admission(execution, run('refused'));

    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(bodyOf(refused).errors?.[0]?.extensions.code).toBe('SERVER_BUSY');
    expect(bodyOf(refused).errors?.[0]?.message).toMatch(/1 operations are executing and 1 are waiting.*Nothing was executed/);
    expect(rejections).toEqual(['queue_full']);
    finish('first');
    await tick();
    finish('second');
    expect((await Promise.all([first, second])).map((r) => r.status)).toEqual([200, 200]);
    expect(started).toEqual(['first', 'second']);
  });

  it('refuses a request that waited longer than the queue timeout, and it never runs', async () => {
    const { admission, rejections } = limiter({ maxConcurrent: 1, queueTimeoutMs: 20 });
    const { started, run, finish } = controllableExecutions();
    const first = admission(execution, run('first'));
    const waited = await admission(execution, run('waited'));
    expect(waited.status).toBe(503);
    expect(bodyOf(waited).errors?.[0]?.message).toMatch(/waited 20 ms/);
    expect(rejections).toEqual(['queue_timeout']);
    expect(admission.queued()).toBe(0);

    finish('first');
    await first;
    await tick();
    expect(started).toEqual(['first']);
    expect(admission.executing()).toBe(0);
  });

  it('above the heap watermark starts no second execution, but always lets one run', async () => {
    let heap = 0.95;
    const { admission } = limiter({ maxConcurrent: 4, heapHighWatermark: 0.8, heapUsage: () => heap });
    const { started, run, finish } = controllableExecutions();
    const answers = ['a', 'b', 'c'].map((name) => admission(execution, run(name)));
    await tick();
    expect(started).toEqual(['a']);

    finish('a');
    await tick();
    expect(started).toEqual(['a', 'b']);

    heap = 0.5;
    finish('b');
    await tick();
    expect(started).toEqual(['a', 'b', 'c']);
    finish('c');
    expect((await Promise.all(answers)).map((r) => r.status)).toEqual([200, 200, 200]);
  });

  it('frees the slot of an execution that failed', async () => {
    const { admission } = limiter({ maxConcurrent: 1 });
    await expect(admission(execution, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(admission.executing()).toBe(0);
    const { run, finish } = controllableExecutions();
    const next = admission(execution, run('next'));
    await tick();
    finish('next');
    expect((await next).status).toBe(200);
  });
});
