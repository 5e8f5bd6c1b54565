import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';

/**
 * Prisma's `db_query` spans carry the current semantic conventions (db.system.name,
 * db.query.text). Jaeger's UI and older dashboards look for db.system and db.statement,
 * so both are set, at span start, where attributes are still writable.
 */
export class SqlAttributesProcessor implements SpanProcessor {
  onStart(span: Span, _parent: Context): void {
    if (!span.name.endsWith('db_query')) return;
    const attributes = span.attributes;
    span.setAttribute('db.system', String(attributes['db.system.name'] ?? 'postgresql'));
    const text = attributes['db.query.text'];
    if (typeof text === 'string') span.setAttribute('db.statement', text);
  }
  onEnd(_span: ReadableSpan): void {}
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
