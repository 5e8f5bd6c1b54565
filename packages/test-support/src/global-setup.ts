import type { TestProject } from 'vitest/node';
import type { SubgraphName } from '@shop/db';
import { createRunDatabases } from './databases.ts';
import { TEST_DATABASE_URL } from './servers.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrls: Record<SubgraphName, string>;
  }
}

/** One seeded set of five databases per test run, shared by every test file, dropped at the end. */
export default async function setup(project: TestProject) {
  const databases = await createRunDatabases(TEST_DATABASE_URL, 'shop_it');
  project.provide('databaseUrls', databases.urls);
  return databases.drop;
}
