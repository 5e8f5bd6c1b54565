import { unavailable } from '@shop/cli-kit';
import { CALL_REPORT_HEADER, type CallReport } from '@shop/observability';

export interface ReportedResponse {
  status: number;
  data: unknown;
  errors: Array<{ message: string }>;
  report: CallReport | null;
}

/**
 * Runs one operation against a gateway asking for its call report (development gateways only).
 * `document` is the operation's text, or null to send only a persisted query's hash.
 */
export async function runWithCallReport(
  gatewayUrl: string,
  operation: { document: string | null; persistedId?: string; operationName?: string; variables?: Record<string, unknown> },
  headers: Record<string, string> = {},
): Promise<ReportedResponse> {
  const body: Record<string, unknown> = { operationName: operation.operationName, variables: operation.variables };
  if (operation.document) body.query = operation.document;
  if (operation.persistedId) body.extensions = { persistedQuery: { version: 1, sha256Hash: operation.persistedId } };
  const response = await fetch(gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [CALL_REPORT_HEADER]: '1', 'apollographql-client-name': 'call-report', ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  let json: { data?: unknown; errors?: Array<{ message: string }>; extensions?: { callReport?: CallReport } };
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    // Something answers there, but not a GraphQL server: a wrong port or path.
    throw unavailable(`${gatewayUrl} did not answer with GraphQL JSON (HTTP ${response.status}); is that the gateway's /graphql URL?`);
  }
  return { status: response.status, data: json.data ?? null, errors: json.errors ?? [], report: json.extensions?.callReport ?? null };
}
