import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { badData, EXIT, parseJson } from '@shop/cli-kit';
import type { CallReport } from '@shop/observability';
import { tokenFor } from '@shop/test-support';
import { runWithCallReport, type ReportedResponse } from './call-report-client.ts';

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
          /** Run as this signed-in user with these scopes (a development token); absent: anonymous. */
          caller: z.object({ userId: z.number().int().min(1), scope: z.string().min(1) }).optional(),
          maxSubgraphFetches: z.number().int().min(0),
          maxSqlStatements: z.number().int().min(0),
        })
        .refine((op) => Boolean(op.file) !== Boolean(op.body), { message: 'give exactly one of "file" or "body"' }),
    )
    .min(1),
});
export type Budget = z.infer<typeof budgetsFile>['operations'][number] & { document: string };

/** A variable written `${Operation.path.to.value}` takes that value from an earlier operation's data (e.g. the id of the order PlaceOrder placed). */
const REFERENCE = /^\$\{(\w+)\.([\w.]+)\}$/;

/** The budget's variables with references to earlier operations' data (by operation name) resolved. */
export function resolveVariables(budget: Budget, earlier: ReadonlyMap<string, unknown>): Record<string, unknown> | undefined {
  if (!budget.variables) return undefined;
  return Object.fromEntries(
    Object.entries(budget.variables).map(([name, value]) => {
      const reference = typeof value === 'string' ? REFERENCE.exec(value) : null;
      if (!reference) return [name, value];
      const [, operation, path] = reference;
      if (!earlier.has(operation!)) throw badData(`${budget.name}: variable ${name} refers to ${operation}, which has not run before it`);
      const resolved = path!.split('.').reduce<unknown>((at, key) => (at && typeof at === 'object' ? (at as Record<string, unknown>)[key] : undefined), earlier.get(operation!));
      if (resolved === undefined) throw badData(`${budget.name}: variable ${name}: ${operation}'s data has no ${path}`);
      return [name, resolved];
    }),
  );
}

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

/**
 * Runs a budgeted operation as its caller (a development token) with its variables resolved, and
 * remembers its data for the operations after it.
 */
export async function runBudgeted(gatewayUrl: string, budget: Budget, earlier: Map<string, unknown>): Promise<ReportedResponse> {
  const headers: Record<string, string> = budget.caller ? { authorization: `Bearer ${await tokenFor(budget.caller.userId, { scope: budget.caller.scope })}` } : {};
  const answer = await runWithCallReport(gatewayUrl, { document: budget.document, variables: resolveVariables(budget, earlier) }, headers);
  earlier.set(budget.name, answer.data);
  return answer;
}
