/**
 * `npm run budgets [-- budgets.json ...]`: runs every budgeted operation on a freshly seeded
 * in-process stack and fails when one costs more subgraph fetches or SQL statements than its
 * budget. Needs only a PostgreSQL server (BUDGETS_DATABASE_URL, default the local one); it creates
 * and drops its own databases.
 */
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { env, loadConfig } from '@shop/service-kit';
import { checkBudget, readBudgets } from './budgets-file.ts';
import { runWithCallReport } from './call-report-client.ts';
import { startInProcessStack } from '@shop/test-support';

const config = loadConfig(
  z.object({ BUDGETS_DATABASE_URL: env.postgresUrl().default('postgres://postgres@127.0.0.1:5432/postgres') }),
);
const files = process.argv.slice(2);
const budgetFiles = files.length ? files : [fileURLToPath(new URL('../budgets/operations.json', import.meta.url))];
const budgets = (await Promise.all(budgetFiles.map(readBudgets))).flat();

const stack = await startInProcessStack(config.BUDGETS_DATABASE_URL);
let failed = 0;
try {
  console.log(`${'operation'.padEnd(32)} ${'fetches'.padStart(9)} ${'SQL'.padStart(9)}`);
  for (const budget of budgets) {
    const { report, errors } = await runWithCallReport(stack.gatewayUrl, { document: budget.document, variables: budget.variables });
    const result = checkBudget(budget, report, errors);
    if (!result.ok) failed += 1;
    const cell = (used: number, max: number) => `${used}/${max}`.padStart(9);
    console.log(
      `${result.name.padEnd(32)} ${cell(result.fetches, result.maxSubgraphFetches)} ${cell(result.sql, result.maxSqlStatements)}  ${result.ok ? 'ok' : `OVER BUDGET: ${result.problem}`}`,
    );
  }
} finally {
  await stack.stop();
}
if (failed) {
  console.error(`\n${failed} operation(s) over budget.`);
  process.exit(1);
}
console.log(`\nAll ${budgets.length} operations within budget.`);
