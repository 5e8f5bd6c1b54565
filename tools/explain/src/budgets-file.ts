import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { badData, EXIT, parseJson } from '@shop/cli-kit';
import type { CallReport } from '@shop/observability';

/**
 * A budgets file: per operation, the most subgraph fetches and SQL statements it may cost on the
 * seeded data. Keyed by operation name so it can later be attached to persisted-query manifests;
 * the operation's document is a file (relative to the budgets file) or inline.
 */
export const budgetsFile = z.object({
  operations: z
    .array(
      z
        .object({
          name: z.string().min(1),
          file: z.string().min(1).optional(),
          body: z.string().min(1).optional(),
          variables: z.record(z.string(), z.unknown()).optional(),
          maxSubgraphFetches: z.number().int().min(0),
          maxSqlStatements: z.number().int().min(0),
        })
        .refine((op) => Boolean(op.file) !== Boolean(op.body), { message: 'give exactly one of "file" or "body"' }),
    )
    .min(1),
});
export type Budget = z.infer<typeof budgetsFile>['operations'][number] & { document: string };

export async function readBudgets(path: string): Promise<Budget[]> {
  const parsed = budgetsFile.safeParse(parseJson(await readFile(path, 'utf8'), path, EXIT.dataErr));
  if (!parsed.success) {
    throw badData(`${path}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return Promise.all(
    parsed.data.operations.map(async (op) => ({
      ...op,
      document: op.body ?? (await readFile(resolve(dirname(path), op.file!), 'utf8')),
    })),
  );
}

export interface BudgetResult {
  name: string;
  fetches: number;
  sql: number;
  maxSubgraphFetches: number;
  maxSqlStatements: number;
  ok: boolean;
  problem?: string;
}

/** Compares what one run of an operation cost with its budget. */
export function checkBudget(budget: Budget, report: CallReport | null, errors: Array<{ message: string }>): BudgetResult {
  const base = { name: budget.name, maxSubgraphFetches: budget.maxSubgraphFetches, maxSqlStatements: budget.maxSqlStatements };
  if (errors.length > 0 || !report?.totals) {
    return { ...base, fetches: NaN, sql: NaN, ok: false, problem: errors[0]?.message ?? 'no call report (is the gateway in production mode?)' };
  }
  const fetches = report.totals.subgraphFetches;
  const sql = report.totals.sqlStatements;
  const over = [
    fetches > budget.maxSubgraphFetches ? `${fetches} subgraph fetches > ${budget.maxSubgraphFetches}` : null,
    sql > budget.maxSqlStatements ? `${sql} SQL statements > ${budget.maxSqlStatements}` : null,
  ].filter(Boolean);
  return { ...base, fetches, sql, ok: over.length === 0, ...(over.length ? { problem: over.join(', ') } : {}) };
}
