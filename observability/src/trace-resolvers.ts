import { performance } from 'node:perf_hooks';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { responsePathAsArray, type GraphQLResolveInfo } from 'graphql';
import { tracer } from './http-tracing.ts';

type AnyResolver = (this: unknown, ...args: unknown[]) => unknown;

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function infoOf(args: unknown[]): GraphQLResolveInfo | undefined {
  const candidate = args.find((arg) => typeof arg === 'object' && arg !== null && 'fieldName' in arg && 'path' in arg);
  return candidate as GraphQLResolveInfo | undefined;
}

/**
 * A span per resolver call that does work. "Work" is decided by the result: a resolver that
 * returns a promise (it waited on a DataLoader or the database) gets a span, started when it was
 * called; one that returns a value at once (a field read, a reference built) gets none. The cost
 * without tracing is one check per call.
 */
function traced(typeName: string, fieldName: string, resolve: AnyResolver): AnyResolver {
  const name = `resolve ${typeName}.${fieldName}`;
  return function (this: unknown, ...args: unknown[]) {
    if (!trace.getActiveSpan()?.isRecording()) return resolve.apply(this, args);
    const startTime = performance.timeOrigin + performance.now();
    const result = resolve.apply(this, args);
    if (!isThenable(result)) return result;
    const info = infoOf(args);
    const span = tracer.startSpan(name, {
      startTime,
      attributes: {
        'graphql.field.name': fieldName,
        'graphql.field.type': typeName,
        ...(info ? { 'graphql.field.path': responsePathAsArray(info.path).join('.') } : {}),
      },
    });
    return Promise.resolve(result).then(
      (value) => {
        span.end();
        return value;
      },
      (error: unknown) => {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
        throw error;
      },
    );
  };
}

/**
 * Only the root fields' resolvers get spans. A field of an entity list (User.reviews for each of
 * 1,000 users) runs once per item: a span each would be thousands of spans per request, all waiting
 * on the same DataLoader batch, which has its own span with the real cost. The batch spans, not
 * per-item resolver spans, are what show an entity field's work.
 */
const ROOT_TYPES = new Set(['Query', 'Mutation', 'Subscription']);

/** The resolver map with the root fields' resolvers traced (everything else is left as it is). */
export function traceResolvers<M extends object>(resolvers: M): M {
  const out: Record<string, unknown> = {};
  for (const [typeName, fields] of Object.entries(resolvers)) {
    if (!ROOT_TYPES.has(typeName) || typeof fields !== 'object' || fields === null || Object.getPrototypeOf(fields) !== Object.prototype) {
      out[typeName] = fields;
      continue;
    }
    out[typeName] = Object.fromEntries(
      Object.entries(fields).map(([fieldName, value]) => [
        fieldName,
        typeof value === 'function' ? traced(typeName, fieldName, value as AnyResolver) : value,
      ]),
    );
  }
  return out as M;
}
