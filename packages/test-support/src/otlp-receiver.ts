import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import protobuf from 'protobufjs';

/**
 * The part of OTLP's trace protocol (opentelemetry/proto/collector/trace/v1) a test reads:
 * enough to decode what a real exporter sends, as Jaeger's OTLP receiver would.
 */
const OTLP_TRACE_PROTO = `
syntax = "proto3";
message AnyValue { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; } }
message KeyValue { string key = 1; AnyValue value = 2; }
message Resource { repeated KeyValue attributes = 1; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4;
  string name = 5; int32 kind = 6; fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9;
}
message ScopeSpans { repeated Span spans = 2; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
`;
const ExportTraceServiceRequest = protobuf.parse(OTLP_TRACE_PROTO, { keepCase: false }).root.lookupType('ExportTraceServiceRequest');

export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  attributes: Record<string, unknown>;
}

export interface OtlpReceiver {
  /** The base URL, as OTEL_EXPORTER_OTLP_ENDPOINT takes it. */
  url: string;
  spans: ReceivedSpan[];
  /** Content types of the export requests received. */
  contentTypes: string[];
  close(): Promise<void>;
}

interface WireValue { stringValue?: string; boolValue?: boolean; intValue?: number | string | { toNumber(): number }; doubleValue?: number }
interface WireRequest {
  resourceSpans?: Array<{
    resource?: { attributes?: Array<{ key: string; value?: WireValue }> };
    scopeSpans?: Array<{ spans?: Array<{ traceId: string | Uint8Array; spanId: string | Uint8Array; parentSpanId?: string | Uint8Array; name: string; attributes?: Array<{ key: string; value?: WireValue }> }> }>;
  }>;
}

const hex = (id: string | Uint8Array | undefined) => (id === undefined ? '' : typeof id === 'string' ? id : Buffer.from(id).toString('hex'));
const valueOf = (value: WireValue | undefined): unknown => {
  if (!value) return undefined;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.doubleValue !== undefined) return value.doubleValue;
  const int = value.intValue;
  return typeof int === 'object' && int !== null ? int.toNumber() : int === undefined ? undefined : Number(int);
};
const attributesOf = (list: Array<{ key: string; value?: WireValue }> = []) => Object.fromEntries(list.map((kv) => [kv.key, valueOf(kv.value)]));

/** A small OTLP/HTTP trace receiver (protobuf and JSON encodings) on a free loopback port. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const contentTypes: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const contentType = String(req.headers['content-type'] ?? '');
      contentTypes.push(contentType);
      const body = Buffer.concat(chunks);
      const request = (
        contentType.includes('json')
          ? JSON.parse(body.toString('utf8'))
          : ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.decode(body), { bytes: String, longs: Number })
      ) as WireRequest;
      for (const resourceSpans of request.resourceSpans ?? []) {
        const resource = attributesOf(resourceSpans.resource?.attributes);
        for (const scope of resourceSpans.scopeSpans ?? []) {
          for (const span of scope.spans ?? []) {
            spans.push({
              service: String(resource['service.name']),
              // protobufjs gives bytes as base64 when asked for strings; JSON carries hex.
              traceId: contentType.includes('json') ? hex(span.traceId) : Buffer.from(String(span.traceId), 'base64').toString('hex'),
              spanId: contentType.includes('json') ? hex(span.spanId) : Buffer.from(String(span.spanId), 'base64').toString('hex'),
              parentSpanId: contentType.includes('json') ? hex(span.parentSpanId) : Buffer.from(String(span.parentSpanId ?? ''), 'base64').toString('hex'),
              name: span.name,
              attributes: attributesOf(span.attributes),
            });
          }
        }
      }
      res.statusCode = 200;
      res.setHeader('content-type', contentType.includes('json') ? 'application/json' : 'application/x-protobuf');
      res.end(contentType.includes('json') ? '{}' : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    contentTypes,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
