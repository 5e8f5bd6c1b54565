import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SubgraphName } from '@shop/db';
import type { Logger } from '@shop/observability';
import { generateStackTrust, type StackTrust } from '@shop/service-kit';
import { loadGatewayConfig, startGateway, type RunningGateway } from '@shop/gateway';
import { composeSupergraphFile, readSupergraphConfig } from '@shop/supergraph-tools';
import { startSubgraphsInProcess, type InProcessSubgraphs } from './in-process-subgraphs.ts';
import { SUPERGRAPH_YAML } from './repository.ts';

export interface InProcessSupergraphOptions {
  /** The five seeded databases (see createRunDatabases). */
  databaseUrls: Record<SubgraphName, string>;
  logger: Logger;
  /** NODE_ENV of every service (`test`, or `development` for call reports). */
  nodeEnv: string;
  /** The gateway's and orders' keys, and what each subgraph trusts; fresh ones of this run when not given. */
  trust?: StackTrust;
  /** What every gateway started on it is configured with, under each start's own settings. */
  gatewayEnv?: Record<string, string>;
  /** What every subgraph is configured with besides its own (e.g. REDIS_URL for shared nonces). */
  subgraphEnv?: Record<string, string>;
}

export interface InProcessSupergraph {
  subgraphs: InProcessSubgraphs;
  /** The keys the gateways sign with and the subgraphs trust. */
  trust: StackTrust;
  /** supergraph.yaml composed with the subgraphs' ports as routing URLs. */
  supergraphPath: string;
  /** The gateways' PERSISTED_DIR unless told otherwise; removed by stop(). */
  persistedDir: string;
  /** A gateway in this process on an ephemeral loopback port, serving the supergraph file; closed by stop(). */
  startGateway(env?: Record<string, string>): Promise<RunningGateway>;
  stop(): Promise<void>;
}

/**
 * The supergraph in this process: the five subgraphs on ephemeral loopback ports, the
 * supergraph file composed over them in a directory of this run, and gateways on demand.
 * What the tests (./stack) and `npm run budgets` run operations against.
 */
export async function startInProcessSupergraph(options: InProcessSupergraphOptions): Promise<InProcessSupergraph> {
  // Without keys given, the subgraphs answer nothing but this run's gateways.
  const trust = options.trust ?? generateStackTrust();
  const serviceEnv = { NODE_ENV: options.nodeEnv };
  const dir = await mkdtemp(join(tmpdir(), 'shop-supergraph-'));
  const gateways: RunningGateway[] = [];
  let subgraphs: InProcessSubgraphs | undefined;
  const stop = async () => {
    await Promise.all(gateways.map((gateway) => gateway.close()));
    await subgraphs?.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const started = await startSubgraphsInProcess(options.databaseUrls, { ...serviceEnv, ...options.subgraphEnv }, options.logger, (name) => trust.subgraphEnv(name));
    subgraphs = started;
    const supergraphPath = join(dir, 'supergraph.graphql');
    await composeSupergraphFile(await readSupergraphConfig(SUPERGRAPH_YAML), supergraphPath, { routingUrls: started.urls });
    const persistedDir = join(dir, 'persisted');
    return {
      subgraphs: started,
      trust,
      supergraphPath,
      persistedDir,
      async startGateway(env = {}) {
        const gateway = await startGateway(
          loadGatewayConfig({
            PORT: '0',
            HOST: '127.0.0.1',
            // Each test gateway's internal metrics listener on a free port (RunningGateway.metricsUrl).
            METRICS_PORT: '0',
            ...serviceEnv,
            ...trust.gatewayEnv,
            SUPERGRAPH_PATH: supergraphPath,
            PERSISTED_DIR: persistedDir,
            ...options.gatewayEnv,
            ...env,
          }),
          options.logger,
        );
        gateways.push(gateway);
        return gateway;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
