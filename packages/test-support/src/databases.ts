import { SUBGRAPHS, dropDatabase, isSeeded, prepareDatabases, seed, subgraphDatabaseUrls, withDatabase, type SubgraphName } from '@shop/db';
import { runDatabaseName } from './servers.ts';

/**
 * Creates (when missing; `createDatabases: false` for embedded PGlite, whose one database exists)
 * and migrates the five databases, and seeds them unless that was done before.
 */
export async function seededDatabases(urls: Record<SubgraphName, string>, options: { createDatabases?: boolean } = {}): Promise<void> {
  await prepareDatabases(urls, options);
  if (!(await isSeeded(urls))) await seed(urls);
}

export interface RunDatabases {
  urls: Record<SubgraphName, string>;
  drop(): Promise<void>;
}

/**
 * Five seeded databases of this run only on the server at `serverUrl`
 * (`<prefix>_<pid>_<random>_<subgraph>`), so parallel runs on one server do not meet; drop()
 * removes them. When setting them up fails they are dropped before the error is thrown.
 */
export async function createRunDatabases(serverUrl: string, prefix: string): Promise<RunDatabases> {
  const urls = subgraphDatabaseUrls(withDatabase(serverUrl, runDatabaseName(prefix)));
  const drop = async () => {
    await Promise.all(SUBGRAPHS.map((name) => dropDatabase(urls[name])));
  };
  try {
    await seededDatabases(urls);
  } catch (error) {
    await drop();
    throw error;
  }
  return { urls, drop };
}
