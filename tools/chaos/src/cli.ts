/**
 * `npm run chaos [-- --short] [--only kill-subgraph,stop-redis] [--no-prometheus] [--hold <s>] [--rate <n>]`: the real
 * stack under a bounded load while each fault is injected in turn; one table per fault, the
 * done-when criteria of issue 10 (and issue 11's order runs), and (full runs) tools/chaos/RESULTS.md. Exits 1 when an enforced
 * criterion fails; when the run itself could not be done, with @shop/cli-kit's codes (64 a bad flag, 69 a
 * service or tool it needs is missing, 70 a bug).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { exitOnFailure, reportFailure, usageError } from '@shop/cli-kit';
import { cleanupAll, cleanupOnSignals } from './cleanup.ts';
import { findPrometheus, PROMETHEUS_MISSING } from './prometheus.ts';
import { fullReport, mergeResults, scenarioSections } from './report.ts';
import { runChaos, type ChaosOptions, type ChaosResult } from './run.ts';
import { SCENARIOS } from './scenarios.ts';

const RESULTS = fileURLToPath(new URL('../RESULTS.md', import.meta.url));
const scenarioIds = SCENARIOS.map((s) => s.id);

exitOnFailure('chaos', 'npm run chaos [-- --short] [--only <ids>] [--no-prometheus] [--hold <s>] [--rate <n>] [--concurrency <n>] [--results <file>]');
const { values } = parseArgs({
  options: {
    short: { type: 'boolean', default: false },
    only: { type: 'string' },
    prometheus: { type: 'boolean' },
    'no-prometheus': { type: 'boolean', default: false },
    'alert-for-scale': { type: 'string', default: '0.1' },
    rate: { type: 'string' },
    hold: { type: 'string' },
    concurrency: { type: 'string' },
    results: { type: 'string' },
    'log-level': { type: 'string', default: 'warn' },
  },
});

const number = (name: string, min: number, max: number) =>
  z.coerce.number({ message: `${name}: expected a number` }).min(min, `${name}: expected at least ${min}`).max(max, `${name}: expected at most ${max}`);
const args = z
  .object({
    only: z
      .string()
      .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
      .refine((ids) => ids.every((id) => (scenarioIds as string[]).includes(id)), `--only: expected scenario ids among ${scenarioIds.join(', ')}`)
      .default([]),
    alertForScale: number('--alert-for-scale', 0.001, 1),
    rate: number('--rate', 1, 10_000).optional(),
    concurrency: number('--concurrency', 1, 1_000).int().optional(),
    holdSeconds: number('--hold', 1, 600).optional(),
  })
  .safeParse({ only: values.only, alertForScale: values['alert-for-scale'], rate: values.rate, concurrency: values.concurrency, holdSeconds: values.hold });
if (!args.success) throw usageError(args.error.issues.map((i) => i.message).join('; '));

const short = values.short;
// Short runs (CI) skip the alerts unless asked: waiting for rules to fire needs faults held for tens of seconds.
const wantPrometheus = values['no-prometheus'] ? false : (values.prometheus ?? !short);
const prometheus = wantPrometheus ? findPrometheus() : null;
if (wantPrometheus && !prometheus) {
  console.error(PROMETHEUS_MISSING);
  process.exit(69);
}

const options: ChaosOptions = {
  short,
  only: args.data.only,
  prometheus,
  alertForScale: args.data.alertForScale,
  baselineMs: short ? 2_000 : 5_000,
  holdMs: args.data.holdSeconds ? args.data.holdSeconds * 1000 : short ? 5_000 : 40_000,
  // Longer than the subgraph timeout, so a breaker can be seen opening.
  // Short: long enough for the circuit to open (the fetch timeout and a few seconds of failures) and a few seconds after.
  hangHoldMs: args.data.holdSeconds ? args.data.holdSeconds * 1000 : short ? 22_000 : 40_000,
  afterMs: short ? 7_000 : 20_000,
  concurrency: args.data.concurrency ?? 256,
  ratePerSecond: args.data.rate ?? (short ? 10 : 20),
  maxRequests: 100_000,
  orderRunRate: 25,
  logLevel: values['log-level'],
  progress: (line) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`),
};

cleanupOnSignals();
// Other work on the machine shows in p99s and recovery times: the results file says how busy it was.
const loadAtStart = loadavg()[0]!;
let exitCode = 0;
try {
  const result = await runChaos(options);
  const report = fullReport(result);
  console.log(`\n${report}\n`);
  const failed = result.criteria.filter((c) => !c.pass && !c.awaiting);
  const pending = result.criteria.filter((c) => !c.pass && c.awaiting);
  console.log(
    `${result.totalRequests} requests in ${(result.durationMs / 1000).toFixed(0)} s; ${result.criteria.length - failed.length - pending.length} criteria pass, ${failed.length} fail, ${pending.length} fail but are not enforced yet`,
  );
  const resultsPath = values.results ?? (short ? undefined : RESULTS);
  if (resultsPath) {
    // A run of some scenarios (--only) updates their sections and keeps the others of the last full run.
    const existing = options.only.length > 0 ? await readFile(resultsPath, 'utf8').catch(() => null) : null;
    await writeFile(
      resultsPath,
      existing ? mergeResults(existing, scenarioSections(result), partialNote(result)) : resultsFile(report, result.durationMs, result.totalRequests),
    );
    console.log(`${existing ? 'updated' : 'wrote'} ${resultsPath}`);
  }
  if (failed.length > 0) exitCode = 1;
} catch (error) {
  exitCode = reportFailure('chaos', error);
} finally {
  await cleanupAll();
}
process.exit(exitCode);

function commandLine(): string {
  return `npm run chaos${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
}

/** Where a section of a partial run comes from: it ran apart from the full run the file's header describes. */
function partialNote(result: ChaosResult): string {
  const { data } = result;
  const failing = result.criteria.filter((c) => !c.pass).length;
  return (
    `_From \`${commandLine()}\` (${result.totalRequests} requests in ${(result.durationMs / 1000).toFixed(0)} s), ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ` +
    `load average ${loadAtStart.toFixed(1)} at the start and ${loadavg()[0]!.toFixed(1)} at the end; the same load and phases as above, ` +
    `held ${options.holdMs / 1000} s. Its data check: ${data.acknowledged} placeOrder of the load acknowledged, ${data.stored} stored, ${data.lost} lost, ${data.duplicated} duplicated; ` +
    `${failing === 0 ? 'no criterion failed' : `${failing} ${failing === 1 ? 'criterion' : 'criteria'} failed`}._`
  );
}

function resultsFile(report: string, durationMs: number, requests: number): string {
  const command = commandLine();
  return `# Chaos results

Command: \`${command}\` (${requests} requests in ${(durationMs / 1000).toFixed(0)} s)

Machine: ${availableParallelism()} CPUs (\`nproc\`), ${(totalmem() / 2 ** 30).toFixed(1)} GiB memory, Node ${process.version}; ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC;
load average ${loadAtStart.toFixed(1)} at the start and ${loadavg()[0]!.toFixed(1)} at the end (1 minute; other work on the machine shows in the latencies).

Load: open loop, ${options.ratePerSecond} requests/s (at most ${options.concurrency} in flight), round-robin over topProducts (products, inventory,
reviews, accounts), \`me\` with orders (bearer token), placeOrder (a fresh idempotency key each) and a product by APQ hash.
Each fault: ${options.baselineMs / 1000} s before, held ${options.holdMs / 1000} s (hang ${options.hangHoldMs / 1000} s), ${options.afterMs / 1000} s after; a
request in flight at any moment between the fault and its repair counts in the fault phase. Alert rules: observability/prometheus/alerts.yml${options.prometheus ? ` with every \`for:\` × ${options.alertForScale}, scraped and evaluated every 1 s` : ' (not run)'}.
A request is *ok* (200, every field, no error), *degraded* (200, only the faulted part's fields missing) or *failed*; clients
retry refused and closed connections (counted) like HTTP clients do.

${report}
`;
}
