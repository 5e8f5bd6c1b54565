// Connection-string helpers. One Postgres server hosts one database per subgraph
// (`shop` -> `shop_accounts`, `shop_products`, ...), so a single DATABASE_URL configures all
// five while each subgraph still owns a separate database.
import { mapSubgraphs, type SubgraphName } from './subgraphs.ts';

function parse(url: string): URL {
  try {
    return new URL(url);
  } catch {
    throw new Error(`Not a valid database URL: ${redact(url)}`);
  }
}

/** The database name in a postgres URL. */
export function databaseName(url: string): string {
  const u = parse(url);
  const name = decodeURIComponent(u.pathname.replace(/^\//, ''));
  // libpq defaults the database to the user name when none is given.
  return name || decodeURIComponent(u.username) || 'postgres';
}

/** The same URL (credentials, host, port, query string) pointing at another database. */
export function withDatabase(url: string, database: string): string {
  const u = parse(url);
  u.pathname = '/' + encodeURIComponent(database);
  return u.toString();
}

/**
 * `postgres://u@h:p/shop?x=y` -> `{ accounts: 'postgres://u@h:p/shop_accounts?x=y', ... }`.
 * With no database in the base URL, the prefix is `shop`.
 */
export function subgraphDatabaseUrls(baseUrl: string): Record<SubgraphName, string> {
  const u = parse(baseUrl);
  const base = decodeURIComponent(u.pathname.replace(/^\//, '')) || 'shop';
  return mapSubgraphs((name) => withDatabase(baseUrl, `${base}_${name}`));
}

/** The URL with its password masked, for log lines and error messages. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable url>';
  }
}
