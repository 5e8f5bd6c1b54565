/**
 * `npm run cluster [-- --rate <n>] [--concurrency <n>] [--steady <s>] [--results <file>]`: the
 * replica run of issue 12 (cluster.ts). Prints the table and writes it to tools/chaos/CLUSTER.md
 * (or --results); exits 1 when the rolling restart failed a request or the killed replica was not
 * taken out of the balancer, with @shop/cli-kit's codes when the run could not be done.
 */
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { exitOnFailure, reportFailure, usageError } from '@shop/cli-kit';
import { cleanupAll, cleanupOnSignals } from './cleanup.ts';
import { clusterReport, runCluster } from './cluster.ts';
import { findHaproxy } from './haproxy.ts';

const USAGE = 'npm run cluster [-- --rate <n>] [--concurrency <n>] [--steady <s>] [--results <file>]';
exitOnFailure('cluster', USAGE);
const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '15' },
    concurrency: { type: 'string', default: '64' },
    steady: { type: 'string', default: '15' },
    results: { type: 'string' },
    'log-level': { type: 'string', default: 'warn' },
  },
});
const number = (name: string, min: number, max: number) =>
  z.coerce.number({ message: `${name}: expected a number` }).int(`${name}: expected a whole number`).min(min, `${name}: expected at least ${min}`).max(max, `${name}: expected at most ${max}`);
const parsed = z
  .object({ rate: number('--rate', 1, 5_000), concurrency: number('--concurrency', 1, 1_000), steady: number('--steady', 1, 600) })
  .safeParse({ rate: values.rate, concurrency: values.concurrency, steady: values.steady });
if (!parsed.success) throw usageError(parsed.error.issues.map((i) => i.message).join('; '));

cleanupOnSignals();
const haproxy = findHaproxy();
const progress = (line: string) => process.stderr.write(`cluster: ${line}\n`);
try {
  const result = await runCluster({
    ratePerSecond: parsed.data.rate,
    concurrency: parsed.data.concurrency,
    steadySeconds: parsed.data.steady,
    logLevel: values['log-level'],
    haproxy,
    progress,
  });
  const commit = (() => {
    try {
      return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  })();
  const args = process.argv.slice(2).join(' ');
  const report = clusterReport(result, {
    command: `npm run cluster${args ? ` -- ${args}` : ''}`,
    when: new Date().toISOString(),
    commit,
    machine: `Machine: ${availableParallelism()} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, load average at the end ${loadavg().map((l) => l.toFixed(2)).join(' ')}. Node ${process.version}.`,
  });
  process.stdout.write(report);
  await writeFile(values.results ?? fileURLToPath(new URL('../CLUSTER.md', import.meta.url)), report);
  const rolling = result.phases.find((p) => p.phase === 'rolling restart');
  const ok = rolling?.stats.failed === 0 && result.killedState.startsWith('DOWN');
  await cleanupAll();
  process.exit(ok ? 0 : 1);
} catch (error) {
  await cleanupAll();
  process.exit(reportFailure('cluster', error, USAGE));
}
