import type { TestProject } from 'vitest/node';
import { SUBGRAPHS, dropDatabase, prepareDatabases, seed, subgraphDatabaseUrls } from '@shop/db';
import { TEST_DATABASE_URL } from './servers.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrls: Record<string, string>;
  }
}

/**
 * One seeded set of five databases per test run, with a unique name so parallel runs on
 * one server do not meet, dropped at the end.
 */
export default async function setup(project: TestProject) {
  const base = new URL(TEST_DATABASE_URL);
  base.pathname = `/shop_it_${process.pid}_${Date.now().toString(36)}`;
  const urls = subgraphDatabaseUrls(base.toString());
  await prepareDatabases(urls);
  await seed(urls);
  project.provide('databaseUrls', urls);

  return async () => {
    for (const name of SUBGRAPHS) await dropDatabase(urls[name]);
  };
}
