/**
 * `npm run budgets [-- budgets.json ...]`: runs every budgeted operation on a freshly seeded
 * in-process stack and fails when one costs more subgraph fetches or SQL statements than its
 * budget. Needs only a PostgreSQL server (BUDGETS_DATABASE_URL, default the local one); it creates
 * and drops its own databases.
 */
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { createLogger } from '@shop/observability';
import { env, loadConfig } from '@shop/service-kit';
import { LOCAL_POSTGRES_URL } from '@shop/test-support';
import { createRunDatabases, startInProcessSupergraph } from '@shop/test-support/harness';
import { checkBudget, readBudgets } from './budgets-file.ts';
import { runWithCallReport } from './call-report-client.ts';

const config = loadConfig(z.object({ BUDGETS_DATABASE_URL: env.postgresUrl().default(LOCAL_POSTGRES_URL) }));
const files = process.argv.slice(2);
const budgetFiles = files.length ? files : [fileURLToPath(new URL('../budgets/operations.json', import.meta.url))];
const budgets = (await Promise.all(budgetFiles.map(readBudgets))).flat();

const databases = await createRunDatabases(config.BUDGETS_DATABASE_URL, 'shop_budgets');
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
  for (const budget of budgets) {
    const { report, errors } = await runWithCallReport(gateway.url, { document: budget.document, variables: budget.variables });
    const result = checkBudget(budget, report, errors);
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
  process.exit(1);
}
console.log(`\nAll ${budgets.length} operations within budget.`);
