/**
 * The explorer page's script: GraphiQL on this gateway's own /graphql, everything it loads served
 * by the gateway (the page's Content-Security-Policy allows nothing else). Built by
 * `src/edge/explorer-build.ts`; the gateway serves the result (`src/edge/explorer.ts`).
 */
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import type { Fetcher } from '@graphiql/toolkit';
import type { ExecutionResult } from 'graphql';
import 'graphiql/style.css';
import './explorer.css';
import { callReportPlugin, showCallReport } from './call-report.tsx';
import './workers.ts';

/** The gateway's own endpoint: the page is served from it, so the explorer always talks to the gateway it came from. */
const endpoint = new URL('/graphql', window.location.href).toString();

/**
 * Asks for the call report by default (development gateways only; production ignores the header),
 * so every run shows its subgraph calls and SQL. Bearer tokens and API keys go here too.
 */
const DEFAULT_HEADERS = JSON.stringify({ 'x-call-report': '1' }, null, 2);

/**
 * POSTs JSON: Apollo Server's CSRF prevention lets a JSON request through without a preflight
 * header, and every answer, refusals included, is GraphQL JSON with an `extensions.code`.
 */
const fetcher: Fetcher = async (params, options) => {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      'apollographql-client-name': 'explorer',
      ...options?.headers,
    },
    body: JSON.stringify(params),
  });
  const text = await response.text();
  let result: ExecutionResult;
  try {
    result = JSON.parse(text) as ExecutionResult;
  } catch {
    // GraphiQL shows errors as they come; only their messages are read.
    result = { errors: [{ message: `The gateway answered ${response.status} with a body that is not JSON: ${text.slice(0, 200)}` }] } as unknown as ExecutionResult;
  }
  // Introspection runs through here too; only operations the person runs replace the report shown.
  if (params.operationName !== 'IntrospectionQuery') showCallReport(result);
  return result;
};

const DEFAULT_QUERY = `# Run with the ▶ button or Ctrl-Enter. Signed-in fields need a bearer token in Headers:
#   {"authorization": "Bearer <npm run -s token -- --sub 7 --scope orders:read>"}
# Partners add their key: {"x-api-key": "<key>"}. The call report of each run is in the
# "Call report" panel (left) and under "extensions" in the response.
{
  topProducts(first: 2) {
    upc
    name
    price
  }
}
`;

const root = document.getElementById('explorer');
if (!root) throw new Error('the explorer page has no #explorer element');
createRoot(root).render(
  <GraphiQL fetcher={fetcher} defaultQuery={DEFAULT_QUERY} defaultHeaders={DEFAULT_HEADERS} plugins={[callReportPlugin]} shouldPersistHeaders={false} />,
);
