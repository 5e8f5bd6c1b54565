import type { PhaseStats } from './classify.ts';
import type { Criterion, ScenarioResult } from './criteria.ts';
import { DECIDE_WITHIN_MS, ORDER_RUN_SIZE, type OrderRunResult } from './order-run.ts';
import type { ChaosResult } from './run.ts';

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const counts = (record: Record<string, number>) =>
  Object.entries(record)
    .sort((a, b) => b[1] - a[1])
    .map(([key, n]) => `${key} ${n}`)
    .join(', ') || '–';

function phaseRow(name: string, durationMs: number, stats: PhaseStats): string {
  const retried = stats.refused + stats.closed > 0 ? ` (refused ${stats.refused}, closed ${stats.closed}, retried)` : '';
  return `| ${name} (${s(durationMs)}) | ${stats.requests} | ${stats.ok} | ${stats.degraded} | ${stats.failed} | ${stats.outside} | ${counts(stats.byStatus)}${retried} | ${counts(stats.byCode)} | ${stats.p99Ms} ms | ${stats.maxMs} ms |`;
}

const mark = (c: Criterion) => (c.pass ? 'pass' : c.awaiting ? `FAIL (not enforced yet: ${c.awaiting})` : 'FAIL');

export function scenarioTable(result: ScenarioResult, criteria: Criterion[], prometheus: boolean): string {
  const { phases, durations } = result;
  const lines = [
    `### ${result.scenario.title}`,
    '',
    '| phase | requests | ok | degraded | failed | failed outside the faulted part | HTTP status | error codes | p99 | max |',
    '|---|---|---|---|---|---|---|---|---|---|',
    phaseRow('before', durations.before, phases.before),
    phaseRow('fault', durations.fault, phases.fault),
    phaseRow('after', durations.after, phases.after),
    '',
    `- faulted part: ${[...result.scenario.faulted].join(', ') || 'none (no field may go missing)'}; ${result.notes.join('; ') || `held ${s(result.holdMs)}`}`,
    `- time to recover: ${result.recovery.recoveredMs === null ? 'no fully correct answer after the fault' : `${s(result.recovery.recoveredMs)} (the first request answered fully correct was sent then; its answer took ${s(result.recovery.answerMs ?? 0)})`}` +
      (result.recovery.badAfter > 0 ? `, then ${result.recovery.badAfter} not fully correct` : ''),
  ];
  if (result.orderRun) lines.push('', ...orderRunTable(result));
  const messages: Record<string, number> = {};
  for (const stats of [phases.before, phases.fault, phases.after]) {
    for (const [message, n] of Object.entries(stats.messages)) messages[message] = (messages[message] ?? 0) + n;
  }
  const top = Object.entries(messages).sort((a, b) => b[1] - a[1]).slice(0, 4);
  if (top.length > 0) lines.push(`- most frequent errors: ${top.map(([m, n]) => `${n}× \`${m.replaceAll('`', "'")}\``).join('; ')}`);
  if (prometheus) {
    lines.push(
      `- alerts: ${
        result.alerts.length === 0
          ? '**none: no alert caught this fault**'
          : result.alerts
              .map((a) => {
                const labels = Object.entries(a.labels)
                  .filter(([k]) => k !== 'severity')
                  .map(([k, v]) => `${k}="${v}"`)
                  .join(',');
                return `${a.name}{${labels}} pending after ${a.pendingAfterS.toFixed(1)} s, ${a.firingAfterS === null ? 'not firing by the end' : `firing after ${a.firingAfterS.toFixed(1)} s`}`;
              })
              .join('; ')
      }`,
    );
  }
  for (const c of criteria) lines.push(`- ${mark(c)}: ${c.text} (${c.detail})`);
  return lines.join('\n');
}

function orderRunTable(result: ScenarioResult): string[] {
  const run = result.orderRun!;
  const row = (name: string, durationMs: number, phase: OrderRunResult['phases']['before']) =>
    `| ${name} (${s(durationMs)}) | ${phase.sent} | ${phase.byKind.CONFIRMED} | ${phase.byKind.PENDING} | ${phase.byKind.OUT_OF_STOCK} | ${phase.byKind.failed} | ${counts(phase.failedByCode)} | ${phase.p99Ms} ms | ${phase.maxMs} ms |`;
  const decided =
    run.decidedAfterRestartMs === null
      ? `**not every order decided ${s(DECIDE_WITHIN_MS)} after the restart** (${run.checks.pending} PENDING, ${run.checks.unansweredCommands} stock commands unanswered)`
      : `${s(run.decidedAfterRestartMs)} after the restart (${s(run.decidedAfterLastAnswerMs ?? 0)} after the run's last answer)`;
  return [
    `Order run: ${ORDER_RUN_SIZE} placeOrder calls (distinct idempotency keys), the fault injected once half were sent; answers as the client saw them:`,
    '',
    '| phase | orders | CONFIRMED | PENDING | OUT_OF_STOCK | failed | failed by code | p99 | max |',
    '|---|---|---|---|---|---|---|---|---|',
    row('before', result.durations.before, run.phases.before),
    row('fault', result.durations.fault, run.phases.fault),
    row('after', result.durations.after, run.phases.after),
    '',
    `- every order decided (none PENDING, every stock command answered): ${decided}`,
    `- stock (start - units RESERVED = final): ${run.products.map((p) => `${p.upc} ${p.start} - ${p.reserved} = ${p.final ?? 'no row'}`).join('; ')}`,
    `- stored: ${run.checks.stored} orders of the run, ${run.checks.acknowledged} acknowledged`,
  ];
}

export function dataTable(result: ChaosResult, criteria: Criterion[]): string {
  const { data } = result;
  return [
    '### data',
    '',
    '| placeOrder sent | acknowledged | stored | lost | duplicated | stored, not acknowledged |',
    '|---|---|---|---|---|---|',
    `| ${data.sent} | ${data.acknowledged} | ${data.stored} | ${data.lost} | ${data.duplicated} | ${data.unacknowledged} |`,
    '',
    ...criteria.map((c) => `- ${mark(c)}: ${c.text} (${c.detail})`),
  ].join('\n');
}

/** One table per scenario that ran. */
export function scenarioSections(result: ChaosResult): string[] {
  return result.results.map((r) =>
    scenarioTable(
      r,
      result.criteria.filter((c) => c.scenario === r.scenario.id),
      result.prometheus,
    ),
  );
}

/**
 * A results file with the sections of a partial run (`--only`) put in: each replaces the section
 * of the same title, or goes before the data check; every other section stays as the last full run
 * wrote it. Each section put in starts with `note` (which run it comes from).
 */
export function mergeResults(existing: string, sections: string[], note: string): string {
  const parts = existing.trimEnd().split(/\n(?=### )/).map((part) => part.trimEnd());
  const titleOf = (section: string) => section.split('\n', 1)[0]!;
  for (const section of sections) {
    const [title, ...rest] = section.split('\n');
    const noted = [title, '', note, ...rest].join('\n');
    const at = parts.findIndex((part, i) => i > 0 && titleOf(part) === title);
    if (at > 0) parts[at] = noted;
    else {
      const data = parts.findIndex((part, i) => i > 0 && titleOf(part) === '### data');
      parts.splice(data > 0 ? data : parts.length, 0, noted);
    }
  }
  return `${parts.join('\n\n')}\n`;
}

export function fullReport(result: ChaosResult): string {
  const sections = scenarioSections(result);
  sections.push(dataTable(result, result.criteria.filter((c) => c.scenario === 'data')));
  const failing = result.criteria.filter((c) => !c.pass);
  const findings = [
    ...failing.map((c) => `${c.scenario}: ${c.text}: ${c.detail}${c.awaiting ? ` (${c.awaiting})` : ''}`),
    ...result.uncaught.map((title) => `no alert caught: ${title}`),
  ];
  sections.push(['### findings', '', ...(findings.length ? findings.map((f) => `- ${f}`) : ['- none'])].join('\n'));
  return sections.join('\n\n');
}
