import { Writable } from 'node:stream';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, describe, expect, it } from 'vitest';
import { BoundedLabel, createLogger, startTracing, tracer } from '../src/index.ts';

const tracing = startTracing({ service: 'unit', env: {}, spanProcessors: [new SimpleSpanProcessor(new InMemorySpanExporter())] });
afterAll(() => tracing.shutdown());

describe('logs', () => {
  it('carry the active span’s trace_id and span_id on every line, and none outside a span', () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
        done();
      },
    });
    const logger = createLogger('unit', 'info', sink);
    logger.info('outside');
    tracer.startActiveSpan('work', (span) => {
      logger.info('inside');
      span.end();
      expect(lines[1]).toMatchObject({ msg: 'inside', service: 'unit', trace_id: span.spanContext().traceId, span_id: span.spanContext().spanId });
    });
    expect(lines[0]).not.toHaveProperty('trace_id');
  });
});

describe('bounded labels', () => {
  it('keep the first values, pre-registered ones always, and put the rest in "other"', () => {
    const label = new BoundedLabel(2);
    label.allow(['Known']);
    expect(label.value('A')).toBe('A');
    expect(label.value('B')).toBe('other');
    expect(label.value('A')).toBe('A');
    expect(label.value('Known')).toBe('Known');
    expect(label.value(undefined)).toBe('anonymous');
  });
});
