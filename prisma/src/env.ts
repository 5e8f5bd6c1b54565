// Database configuration from the environment, shared by the CLIs (and usable by the stack).
// Either one DATABASE_URL (a database per subgraph is derived: shop -> shop_accounts, ...) or
// per-subgraph ACCOUNTS_DATABASE_URL etc., which override the derived ones.
import { z } from 'zod';
import { SUBGRAPHS, mapSubgraphs, type SubgraphName } from './subgraphs.ts';
import { subgraphDatabaseUrls } from './urls.ts';

const postgresUrl = z
  .string()
  .trim()
  .refine((value) => {
    try {
      return ['postgres:', 'postgresql:'].includes(new URL(value).protocol);
    } catch {
      return false;
    }
  }, 'must be a postgres:// or postgresql:// URL');

export function envVarName(name: SubgraphName): string {
  return `${name.toUpperCase()}_DATABASE_URL`;
}

const schema = z.object({
  DATABASE_URL: postgresUrl.optional(),
  ...Object.fromEntries(SUBGRAPHS.map((name) => [envVarName(name), postgresUrl.optional()])),
});

export interface DatabaseEnv {
  urls: Record<SubgraphName, string>;
  /** Where each URL came from, for log lines. */
  sources: Record<SubgraphName, string>;
}

/** Reads and validates the database URLs; throws an Error naming the bad or missing variable. */
export function loadDatabaseEnv(env: NodeJS.ProcessEnv = process.env): DatabaseEnv {
  // Treat empty variables as unset (a common shell/compose artefact).
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`Invalid database configuration: ${problems.join('; ')}`);
  }
  const values = parsed.data as Record<string, string | undefined>;
  const derived = values.DATABASE_URL ? subgraphDatabaseUrls(values.DATABASE_URL) : undefined;
  const missing = SUBGRAPHS.filter((name) => !values[envVarName(name)] && !derived);
  if (missing.length) {
    throw new Error(
      `Missing database configuration: set DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/shop) ` +
        `or ${missing.map(envVarName).join(', ')}`,
    );
  }
  return {
    urls: mapSubgraphs((name) => values[envVarName(name)] ?? derived![name]),
    sources: mapSubgraphs((name) => (values[envVarName(name)] ? envVarName(name) : 'DATABASE_URL')),
  };
}
