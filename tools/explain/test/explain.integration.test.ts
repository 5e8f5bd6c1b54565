import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BENCHMARK_QUERY_FILE } from '@shop/test-support';
import { startTestStack, type TestStack } from '@shop/test-support/stack';
import { checkBudget, readBudgets, runBudgeted } from '../src/budgets-file.ts';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

describe('npm run explain', () => {
  it('prints the call report: the plan, a waterfall line per call, and the totals', async () => {
    const repo = fileURLToPath(new URL('../../../', import.meta.url));
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'tools/explain/src/explain.ts', BENCHMARK_QUERY_FILE, '--url', stack.gatewayUrl],
      { cwd: repo },
    );
    expect(stdout).toContain('Operation: TestQuery');
    expect(stdout).toContain('QueryPlan {');
    const totals = /Totals: (\d+) subgraph fetches, (\d+) DataLoader batches, (\d+) SQL statements/.exec(stdout)!;
    const lines = stdout.split('\n');
    expect(lines.filter((l) => /\sfetch \w+/.test(l))).toHaveLength(Number(totals[1]));
    expect(lines.filter((l) => /\sbatch \w+:/.test(l))).toHaveLength(Number(totals[2]));
    expect(lines.filter((l) => /\ssql \w+:/.test(l))).toHaveLength(Number(totals[3]));
    // The plan in waves, and which of its fetches went out together (SUBGRAPH_BATCHING).
    expect(stdout).toContain('Waves (');
    expect(Number(totals[1])).toBe(6);
    expect(stdout).toContain("the query plan's 16 fetches went out batched in those 6");
    expect(lines.filter((l) => /\sfetch inventory \(7 plan fetches merged, \d+ representations\)/.test(l))).toHaveLength(1);
  });
});

describe('operation budgets', () => {
  it('holds every budgeted operation within its budget, and flags one that costs more', async () => {
    const budgets = await readBudgets(fileURLToPath(new URL('../budgets/operations.json', import.meta.url)));
    const earlier = new Map<string, unknown>();
    for (const budget of budgets) {
      const { report, errors } = await runBudgeted(stack.gatewayUrl, budget, earlier);
      expect(checkBudget(budget, report, errors), budget.name).toMatchObject({ ok: true });
      // A budget one below what the operation costs is a regression.
      const tighter = { ...budget, maxSqlStatements: report!.totals!.sqlStatements - 1 };
      expect(checkBudget(tighter, report, errors)).toMatchObject({ ok: false, problem: expect.stringMatching(/SQL statements >/) });
    }
  });
});
