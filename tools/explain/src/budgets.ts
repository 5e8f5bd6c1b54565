/**
 * `npm run budgets [-- budgets.json ...]`: runs every budgeted operation on a freshly seeded
 * in-process stack and fails when one costs more subgraph fetches or SQL statements than its
 * budget. Needs only a PostgreSQL server (BUDGETS_DATABASE_URL, default the local one); it creates
 * and drops its own databases.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { EXIT, runCli, unavailable } from '@shop/cli-kit';
import { createLogger, formatCallReport } from '@shop/observability';
import { env, loadConfig } from '@shop/service-kit';
import { LOCAL_POSTGRES_URL } from '@shop/test-support';
import { createRunDatabases, startInProcessSupergraph } from '@shop/test-support/harness';
import { checkBudget, readBudgets, runBudgeted } from './budgets-file.ts';

const USAGE = 'npm run budgets [-- [--explain] budgets.json ...] (default tools/explain/budgets/operations.json; --explain prints each call report)';

await runCli('budgets', async (argv) => {
  const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, options: { help: { type: 'boolean', short: 'h' }, explain: { type: 'boolean' } } });
  if (values.help) {
    console.log(`usage: ${USAGE}`);
    return EXIT.ok;
  }
  const config = loadConfig(z.object({ BUDGETS_DATABASE_URL: env.postgresUrl().default(LOCAL_POSTGRES_URL) }));
  // npm runs scripts from the package root; paths a person typed are relative to where they typed them.
  const budgetFiles = positionals.length
    ? positionals.map((file) => resolve(process.env.INIT_CWD ?? process.cwd(), file))
    : [fileURLToPath(new URL('../budgets/operations.json', import.meta.url))];
  const budgets = (await Promise.all(budgetFiles.map(readBudgets))).flat();

  const databases = await createRunDatabases(config.BUDGETS_DATABASE_URL, 'shop_budgets').catch((error: unknown) => {
    const code = (error as { code?: unknown }).code;
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ETIMEDOUT' || (error as Error).name === 'AggregateError') {
      throw unavailable(`cannot reach PostgreSQL at ${redacted(config.BUDGETS_DATABASE_URL)} (BUDGETS_DATABASE_URL): is it running?`);
    }
    throw error;
  });
  const supergraph = await startInProcessSupergraph({
    databaseUrls: databases.urls,
    logger: createLogger('budgets', 'silent'),
    // Call reports come only from a gateway not in production.
    nodeEnv: 'development',
    // Budgets measure big operations on purpose; cost limits are not what they check.
    gatewayEnv: { COST_MODE: 'measure' },
  }).catch(async (error: unknown) => {
    await databases.drop();
    throw error;
  });
  let failed = 0;
  try {
    const gateway = await supergraph.startGateway();
    console.log(`${'operation'.padEnd(32)} ${'fetches'.padStart(9)} ${'SQL'.padStart(9)}`);
    const earlier = new Map<string, unknown>();
    for (const budget of budgets) {
      const { report, errors } = await runBudgeted(gateway.url, budget, earlier);
      const result = checkBudget(budget, report, errors);
      if (values.explain && report) console.log(`${formatCallReport(report)}\n`);
      if (!result.ok) failed += 1;
      const cell = (used: number, max: number) => `${used}/${max}`.padStart(9);
      console.log(
        `${result.name.padEnd(32)} ${cell(result.fetches, result.maxSubgraphFetches)} ${cell(result.sql, result.maxSqlStatements)}  ${result.ok ? 'ok' : `OVER BUDGET: ${result.problem}`}`,
      );
    }
  } finally {
    await supergraph.stop();
    await databases.drop();
  }
  if (failed) {
    console.error(`\n${failed} operation(s) over budget.`);
    return EXIT.failed;
  }
  console.log(`\nAll ${budgets.length} operations within budget.`);
  return EXIT.ok;
}, { usage: USAGE });

/** The URL without its password, fit for a message. */
function redacted(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
