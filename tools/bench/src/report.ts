import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { createRequire } from 'node:module';
import type { LoadResult } from './load.ts';
import type { ResourceSample } from './processes.ts';

export interface Row extends Partial<LoadResult>, Partial<ResourceSample> {
  set: string;
  scenario: string;
  gateway: string;
  label: string;
  baseline: boolean;
  skipped?: string;
  /** One request alone: what its query plan costs. */
  singleFetches?: number;
  singleSql?: number | null;
  /** Under the load: less than alone when identical fetches are shared. */
  fetchesPerRequest?: number;
  sqlPerRequest?: number | null;
  /** req/s of every round, when there were several. */
  rounds?: number[];
  /** Something to know about the numbers (e.g. the gateway died after these rounds). */
  note?: string;
}

const require = createRequire(import.meta.url);
function version(name: string): string {
  try {
    const main = require.resolve(name);
    // Walk up to the package's own package.json.
    const root = main.slice(0, main.lastIndexOf(`/node_modules/${name}/`) + `/node_modules/${name}/`.length);
    return (JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

function commit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return '?';
  }
}

const WHAT_IS_MEASURED = `Measured on the full gateway: every request of ours passes authentication, the trusted-document policy, the operation
limits, admission control (at most 16 executions at once), cost estimation (measure mode: the reference schema has no
\`@listSize\`), \`@authenticated\`/\`@requiresScopes\` enforcement, telemetry (no exporter) and Ed25519-signed subgraph
requests; rate limits are set out of reach (one load generator on one address). Ours runs as \`npm start\` runs it: bundled
(\`gateway/dist/main.js\`) under plain \`node\` with its default 192 MB heap cap (\`GATEWAY_HEAP_MB\`); the peers are bundled
and run the same way, with V8's default heap. The peers get the shop supergraph with the security features declared
handled (they ignore them) and unsigned access to the shop subgraphs (\`REQUIRE_SIGNATURE=false\`, bench only). The load
generator, the subgraphs and the gateway share the machine's cores: read ratios, not absolute numbers.`;

const num = (v: number | undefined, digits = 0) => (v === undefined ? '' : v.toFixed(digits));

export async function renderReport(input: {
  rows: Row[];
  command: string;
  started: Date;
  options: { duration: number; warmup: number; connections: number; rounds: number };
}): Promise<string> {
  const cpu = cpus();
  const lines: string[] = [];
  lines.push('# Gateway benchmark results', '');
  lines.push(WHAT_IS_MEASURED, '');
  lines.push(
    `Command: \`${input.command}\` (${input.options.connections} connections over loopback; per scenario and gateway ${input.options.rounds} round(s) of ${input.options.warmup} s warm-up then ${input.options.duration} s measured, the gateways taking turns in each round; the median round is shown, with every round's req/s in the last column, peak RSS is the highest of all rounds).`,
  );
  lines.push('');
  lines.push(`Run: ${input.started.toISOString()}, commit ${commit()}. Machine: ${cpu.length} x ${cpu[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, load average at the end ${loadavg().map((l) => l.toFixed(2)).join(' ')}. Node ${process.version}.`);
  lines.push('');
  lines.push(
    `Versions: @apollo/gateway ${version('@apollo/gateway')}, @apollo/server ${version('@apollo/server')}, @graphql-hive/gateway-runtime ${version('@graphql-hive/gateway-runtime')}, graphql ${version('graphql')}, autocannon ${version('autocannon')}, undici ${version('undici')}, ioredis ${version('ioredis')}.`,
  );
  lines.push('');
  for (const set of [...new Set(input.rows.map((r) => r.set))]) {
    lines.push(`## ${set === 'reference' ? 'Reference subgraphs (in memory, the reference benchmark\'s data; answers checked against its expected response)' : 'Shop subgraphs (Prisma on the seeded PostgreSQL)'}`, '');
    for (const scenario of [...new Set(input.rows.filter((r) => r.set === set).map((r) => r.scenario))]) {
      const rows = input.rows.filter((r) => r.set === set && r.scenario === scenario);
      const baseline = rows.find((r) => r.baseline)?.requestsPerSecond;
      lines.push(`### ${scenario}`, '');
      lines.push('| gateway | req/s | x plain @apollo/gateway | p50 ms | p95 ms | p99 ms | errors | peak RSS MB | peak PSS MB | CPU % | fetches/req alone | fetches/req loaded | SQL/req alone | SQL/req loaded | rounds req/s |');
      lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
      for (const row of rows) {
        if (row.skipped) {
          lines.push(`| ${row.label} | n/a: ${row.skipped.replace(/\|/g, '\\|').replace(/\n/g, ' ')} | | | | | | | | | | | | | |`);
          continue;
        }
        const ratio = baseline && row.requestsPerSecond !== undefined ? `${(row.requestsPerSecond / baseline).toFixed(2)}x` : '';
        lines.push(
          `| ${row.label}${row.note ? ` (${row.note})` : ''} | ${num(row.requestsPerSecond)} | ${ratio} | ${num(row.p50, 1)} | ${num(row.p95, 1)} | ${num(row.p99, 1)} | ${row.errors ?? ''} | ${num((row.peakRssBytes ?? 0) / 2 ** 20)} | ${row.peakPssBytes == null ? '–' : num(row.peakPssBytes / 2 ** 20)} | ${num(row.cpuPercent)} | ${num(row.singleFetches, 2)} | ${num(row.fetchesPerRequest, 2)} | ${row.singleSql == null ? '–' : num(row.singleSql, 2)} | ${row.sqlPerRequest == null ? '–' : num(row.sqlPerRequest, 2)} | ${(row.rounds ?? []).map((r) => r.toFixed(0)).join(', ')} |`,
        );
      }
      lines.push('');
    }
  }
  return lines.join('\n');
}
