import type { CallReport } from './graphql-plugin.ts';

const BAR_WIDTH = 40;
/** SQL is cut here on screen; `--json` has the statement as recorded. */
const SQL_WIDTH = 110;

/**
 * The call report as a person reads it: the query plan, then one line per internal call with
 * its offset, duration and a bar on a shared time axis (a waterfall), then the totals.
 */
export function formatCallReport(report: CallReport): string {
  const lines: string[] = [];
  lines.push(`Operation: ${report.operation ?? '(anonymous)'}`);
  if (report.queryPlan) lines.push('', 'Query plan:', report.queryPlan);
  if (report.waves) {
    // Each wave waits for the one before; its fetches to one subgraph leave as one request.
    lines.push('', 'Waves (the plan\'s fetches to each subgraph; one request per subgraph per wave):');
    report.waves.forEach((wave, i) => {
      lines.push(`  ${i + 1}. ${Object.entries(wave).map(([subgraph, n]) => `${subgraph} ${n === 1 ? '1 fetch' : `${n} fetches`}`).join(', ')}`);
    });
  }
  const end = Math.max(report.totals?.durationMs ?? 0, ...report.calls.map((c) => c.startMs + c.durationMs), 0.01);
  const scale = BAR_WIDTH / end;
  lines.push('', `Calls (waterfall over ${end.toFixed(1)} ms):`);
  lines.push(`${'start ms'.padStart(9)} ${'dur ms'.padStart(8)}  ${'timeline'.padEnd(BAR_WIDTH)}  call`);
  for (const call of report.calls) {
    const from = Math.min(BAR_WIDTH - 1, Math.floor(call.startMs * scale));
    const width = Math.max(1, Math.round(call.durationMs * scale));
    const bar = (' '.repeat(from) + '█'.repeat(width)).slice(0, BAR_WIDTH).padEnd(BAR_WIDTH);
    const label =
      call.kind === 'fetch'
        ? `fetch ${call.name}${fetchDetails(call)}`
        : call.kind === 'batch'
          ? `  batch ${call.service}:${call.name} (${call.size} keys)`
          : `    sql ${call.service}: ${call.name.length > SQL_WIDTH ? `${call.name.slice(0, SQL_WIDTH - 1)}…` : call.name}`;
    lines.push(`${call.startMs.toFixed(2).padStart(9)} ${call.durationMs.toFixed(2).padStart(8)}  ${bar}  ${label}${call.error ? '  ERROR' : ''}`);
  }
  if (report.totals) {
    const t = report.totals;
    lines.push(
      '',
      `Totals: ${t.subgraphFetches} subgraph fetches, ${t.dataLoaderBatches} DataLoader batches, ${t.sqlStatements} SQL statements, ${t.durationMs.toFixed(1)} ms at the gateway` +
        (t.planFetches !== undefined && t.planFetches !== t.subgraphFetches ? `; the query plan's ${t.planFetches} fetches went out batched in those ${t.subgraphFetches}` : ''),
    );
  }
  return lines.join('\n');
}

function fetchDetails(call: CallReport['calls'][number]): string {
  const details = [
    ...(call.fetches !== undefined && call.fetches > 1 ? [`${call.fetches} plan fetches merged`] : []),
    ...(call.size !== undefined ? [`${call.size} representations`] : []),
  ];
  return details.length ? ` (${details.join(', ')})` : '';
}
