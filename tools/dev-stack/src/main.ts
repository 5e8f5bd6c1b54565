/**
 * `npm start`: the whole supergraph on one machine. With DATABASE_URL unset it runs on an
 * embedded PostgreSQL (PGlite) whose data is kept in .data/; with it set, on that server
 * (one database per subgraph). Migrations and the seed run on first start.
 */
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { SUBGRAPHS, isSeeded, prepareDatabases, seed, subgraphDatabaseUrls, type SubgraphName } from '@shop/db';
import { startEmbeddedPostgres } from '@shop/db/embedded';
import { createLogger } from '@shop/observability';
import { env, generateStackTrust, loadConfig, runService } from '@shop/service-kit';
import { composeSupergraphFile, readSupergraphConfig } from '@shop/supergraph-tools';
import { gatewayNodeFlags } from './heap.ts';
import { bundleService } from './bundle.ts';
import { Supervisor } from './supervisor.ts';

const root = (path: string) => fileURLToPath(new URL(`../../../${path}`, import.meta.url));

const stackEnv = z.object({
  DATABASE_URL: env.postgresUrl().optional(),
  EMBEDDED_DATA_DIR: z.string().min(1).default(root('.data/pglite')),
  /** First of five consecutive ports of the embedded PostgreSQL instances; 0 picks free ones. */
  EMBEDDED_BASE_PORT: env.port(54320),
  /** The subgraphs to run and where they listen (their routing URLs). */
  SUPERGRAPH_CONFIG: z.string().min(1).default(root('supergraph.yaml')),
  /** Where the composed supergraph is written for the gateway. */
  SUPERGRAPH_PATH: z.string().min(1).default(root('gateway/supergraph.graphql')),
  PORT: env.port(4000),
  /** The gateway's internal metrics listener (on 127.0.0.1), which Prometheus scrapes; `off`: none. The gateway validates it. */
  METRICS_PORT: z.string().default('9464'),
  LOG_LEVEL: env.logLevel(),
  /**
   * Every service's NODE_ENV. The services default to production when it is unset; `npm start` is
   * the developer's command, so it asks for development (the built-in token secret, introspection,
   * stack traces) unless told otherwise.
   */
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
});

await runService('stack', async () => {
  const startedAt = performance.now();
  const config = loadConfig(stackEnv);
  const logger = createLogger('stack', config.LOG_LEVEL);
  // Fresh key pairs per start (the gateway's, trusted by every subgraph; orders', trusted by
  // products): nothing to configure, and no key of a development stack outlives it.
  const trust = generateStackTrust();

  let stopDatabase = async () => {};
  const supervisor = new Supervisor(logger);
  const close = async () => {
    await supervisor.stop();
    await stopDatabase();
  };
  try {
    await startStack();
  } catch (error) {
    // Leave nothing behind: a half-started stack would hold the ports of the next attempt.
    await close();
    throw error;
  }
  logger.info(
    {
      url: `http://localhost:${config.PORT}/graphql`,
      metrics: config.METRICS_PORT === 'off' ? null : `http://127.0.0.1:${config.METRICS_PORT}/metrics`,
      coldStartMs: Math.round(performance.now() - startedAt),
    },
    'supergraph ready',
  );
  return { logger, service: { close } };

  async function startStack() {
    // Bundled while the database starts: each service then runs as plain JavaScript.
    const bundles = Promise.all([
      bundleService(root('gateway')),
      ...SUBGRAPHS.map((name) => bundleService(root(`subgraphs/${name}`))),
    ]);
    // Awaited later; until then a failure must not count as unhandled and kill the launcher.
    bundles.catch(() => {});
    try {
      await startServices(bundles);
    } catch (error) {
      // The exit that follows would kill esbuild's service process mid-build, and its stack dump would bury this error.
      await bundles.catch(() => {});
      throw error;
    }
  }

  async function startServices(bundles: Promise<[string, ...string[]]>) {
    let databaseUrls: Record<SubgraphName, string>;
    if (config.DATABASE_URL) {
      databaseUrls = subgraphDatabaseUrls(config.DATABASE_URL);
    } else {
      await mkdir(config.EMBEDDED_DATA_DIR, { recursive: true });
      logger.info({ dataDir: config.EMBEDDED_DATA_DIR }, 'DATABASE_URL not set: starting embedded PostgreSQL');
      const embedded = await startEmbeddedPostgres({ dataDir: config.EMBEDDED_DATA_DIR, basePort: config.EMBEDDED_BASE_PORT });
      databaseUrls = embedded.urls;
      stopDatabase = embedded.stop;
    }
    // PGlite's one database per instance already exists; a real server gets one per subgraph.
    await prepareDatabases(databaseUrls, { createDatabases: Boolean(config.DATABASE_URL) });
    if (!(await isSeeded(databaseUrls))) {
      logger.info('first start: seeding the databases');
      await seed(databaseUrls);
    }

    const supergraphConfig = await readSupergraphConfig(config.SUPERGRAPH_CONFIG);
    const supergraphPath = config.SUPERGRAPH_PATH;
    await composeSupergraphFile(supergraphConfig, supergraphPath);

    const routing = new Map(supergraphConfig.subgraphs.map((s) => [s.name, new URL(s.routingUrl)]));
    const [gatewayEntry, ...subgraphEntries] = await bundles;
    await Promise.all(
      SUBGRAPHS.map((name, i) => {
        const url = routing.get(name);
        if (!url) throw new Error(`supergraph.yaml has no subgraph "${name}"`);
        return supervisor.start({
          name,
          entry: subgraphEntries[i]!,
          healthUrl: `${url.origin}/health`,
          env: {
            HOST: url.hostname,
            PORT: url.port,
            DATABASE_URL: databaseUrls[name],
            PRODUCTS_SUBGRAPH_URL: routing.get('products')?.href ?? '',
            INVENTORY_SUBGRAPH_URL: routing.get('inventory')?.href ?? '',
            ...trust.subgraphEnv(name),
            NODE_ENV: config.NODE_ENV,
            LOG_LEVEL: config.LOG_LEVEL,
          },
        });
      }),
    );
    await supervisor.start({
      name: 'gateway',
      entry: gatewayEntry,
      nodeFlags: gatewayNodeFlags(process.env),
      healthUrl: `http://127.0.0.1:${config.PORT}/ready`,
      env: { PORT: String(config.PORT), METRICS_PORT: config.METRICS_PORT, SUPERGRAPH_PATH: supergraphPath, ...trust.gatewayEnv, NODE_ENV: config.NODE_ENV, LOG_LEVEL: config.LOG_LEVEL },
    });
  }
});
