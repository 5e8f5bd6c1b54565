/**
 * A "Call report" panel: what the last run cost inside the supergraph (the query plan, each
 * subgraph fetch, DataLoader batch and SQL statement), from the `extensions.callReport` a
 * development gateway adds when the request carries `x-call-report: 1`.
 */
import { useSyncExternalStore } from 'react';
import type { GraphiQLPlugin } from '@graphiql/react';

interface CallEvent {
  kind: 'fetch' | 'batch' | 'sql';
  service: string;
  name: string;
  size?: number;
  startMs: number;
  durationMs: number;
  error?: boolean;
}

interface CallReport {
  operation: string | null;
  queryPlan?: string;
  totals?: { subgraphFetches: number; dataLoaderBatches: number; sqlStatements: number; durationMs: number };
  calls: CallEvent[];
}

type Shown = { report: CallReport } | { missing: string } | null;

let shown: Shown = null;
const listeners = new Set<() => void>();

/** Called with every result the explorer receives: keeps the report of the last run. */
export function showCallReport(result: unknown): void {
  const extensions = (result as { extensions?: { callReport?: CallReport } } | null)?.extensions;
  shown = extensions?.callReport
    ? { report: extensions.callReport }
    : { missing: 'The last run has no call report: add "x-call-report": "1" to the headers (development gateways only).' };
  for (const listener of listeners) listener();
}

function useShown(): Shown {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => shown,
  );
}

function CallReportPanel() {
  const current = useShown();
  if (!current) return <p>Run an operation to see its subgraph calls and SQL here.</p>;
  if ('missing' in current) return <p>{current.missing}</p>;
  const { report } = current;
  return (
    <div className="explorer-call-report" data-testid="call-report">
      <div className="graphiql-doc-explorer-title">Call report</div>
      {report.totals && (
        <p>
          {report.totals.subgraphFetches} subgraph fetches, {report.totals.dataLoaderBatches} DataLoader batches, {report.totals.sqlStatements} SQL
          statements in {report.totals.durationMs.toFixed(1)} ms
        </p>
      )}
      <table>
        <thead>
          <tr>
            <th>kind</th>
            <th>service</th>
            <th>call</th>
            <th>at ms</th>
            <th>ms</th>
          </tr>
        </thead>
        <tbody>
          {report.calls.map((call, index) => (
            <tr key={index} className={call.error ? 'explorer-call-failed' : undefined}>
              <td>{call.kind}</td>
              <td>{call.service}</td>
              <td>
                <code title={call.name}>{call.name.length > 120 ? `${call.name.slice(0, 117)}...` : call.name}</code>
                {call.size !== undefined ? ` (${call.size})` : ''}
              </td>
              <td>{call.startMs.toFixed(1)}</td>
              <td>{call.durationMs.toFixed(1)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {report.queryPlan && (
        <>
          <div className="graphiql-doc-explorer-section-title">Query plan</div>
          <pre>{report.queryPlan}</pre>
        </>
      )}
    </div>
  );
}

function CallReportIcon() {
  return (
    <svg viewBox="0 0 24 24" width="20" height="20" fill="none" stroke="currentColor" strokeWidth="1.5" aria-hidden="true">
      <path d="M4 20V10M10 20V4M16 20v-7M22 20H2" />
    </svg>
  );
}

export const callReportPlugin: GraphiQLPlugin = { title: 'Call report', icon: CallReportIcon, content: CallReportPanel };
