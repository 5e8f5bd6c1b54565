import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SUBGRAPHS, dropDatabase, prepareDatabases, seed, subgraphDatabaseUrls } from '@shop/db';
import { createLogger } from '@shop/observability';
import { loadGatewayConfig, startGateway } from '@shop/gateway';
import { composeSupergraph, readSupergraphConfig } from '@shop/supergraph-tools';
import { startSubgraphsInProcess } from './in-process-subgraphs.ts';

const SUPERGRAPH_YAML = fileURLToPath(new URL('../../../supergraph.yaml', import.meta.url));

export interface InProcessStack {
  gatewayUrl: string;
  stop(): Promise<void>;
}

/**
 * The whole supergraph in this process on ephemeral loopback ports, on freshly created and
 * seeded databases (`<server>/<prefix>_<subgraph>`) that stop() drops again. For tools that
 * must measure operations on known data without a running stack (npm run budgets).
 */
export async function startInProcessStack(serverUrl: string): Promise<InProcessStack> {
  const base = new URL(serverUrl);
  base.pathname = `/shop_budgets_${process.pid}_${Date.now().toString(36)}`;
  const urls = subgraphDatabaseUrls(base.toString());
  const dropAll = () => Promise.all(SUBGRAPHS.map((name) => dropDatabase(urls[name])));
  const logger = createLogger('budgets', 'silent');
  const stoppers: Array<() => Promise<void>> = [];
  let dir: string | undefined;
  const stop = async () => {
    for (const close of stoppers.reverse()) await close();
    if (dir) await rm(dir, { recursive: true, force: true });
    await dropAll();
  };
  try {
    await prepareDatabases(urls);
    await seed(urls);
    // A secret of this run only: the subgraphs answer nothing but this gateway.
    const INTERNAL_SIGNING_SECRET = randomBytes(32).toString('hex');
    const subgraphs = await startSubgraphsInProcess(urls, { NODE_ENV: 'development', INTERNAL_SIGNING_SECRET }, logger);
    for (const name of SUBGRAPHS) stoppers.push(() => subgraphs[name].close());
    const routingUrls = Object.fromEntries(SUBGRAPHS.map((name) => [name, subgraphs[name].url]));
    const composed = await composeSupergraph(await readSupergraphConfig(SUPERGRAPH_YAML), { routingUrls });
    if (!composed.ok) throw new Error(`composition failed: ${JSON.stringify(composed.errors)}`);
    dir = await mkdtemp(join(tmpdir(), 'shop-budgets-'));
    const supergraphPath = join(dir, 'supergraph.graphql');
    await writeFile(supergraphPath, composed.supergraphSdl);
    const gateway = await startGateway(
      loadGatewayConfig({
        PORT: '0',
        HOST: '127.0.0.1',
        NODE_ENV: 'development',
        SUPERGRAPH_PATH: supergraphPath,
        INTERNAL_SIGNING_SECRET,
        PERSISTED_DIR: join(dir, 'persisted'),
        // Budgets measure big operations on purpose; cost limits are not what they check.
        COST_MODE: 'measure',
      }),
      logger,
    );
    stoppers.push(() => gateway.close());
    return { gatewayUrl: gateway.url, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
