import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeServices } from '@apollo/composition';
import { createLogger } from '@shop/observability';
import { generateStackTrust, startSubgraphServer, type ResolverMap, type RunningSubgraph } from '@shop/service-kit';
import { loadGatewayConfig, startGateway, type RunningGateway } from '@shop/gateway';
import { parse } from 'graphql';

/** One small subgraph of a conformance case: a few lines of SDL and their resolvers. */
export interface CaseSubgraph {
  name: string;
  sdl: string;
  resolvers: ResolverMap<object>;
}

export interface GraphQLAnswer {
  data?: Record<string, unknown> | null;
  errors?: Array<{ message: string; path?: Array<string | number>; extensions?: Record<string, unknown> }>;
}

export interface ConformanceSupergraph {
  supergraphSdl: string;
  query(query: string, variables?: Record<string, unknown>): Promise<GraphQLAnswer>;
  close(): Promise<void>;
}

/** Federation v2 header every case subgraph starts with, importing every directive the cases use. */
export const FEDERATION_LINK = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@external", "@requires", "@provides", "@shareable", "@override", "@inaccessible", "@interfaceObject"])`;

const logger = createLogger('conformance', 'warn');

/** Composes subgraphs with Apollo's composition; a case whose SDL does not compose fails here, with composition's reasons. */
export function compose(subgraphs: ReadonlyArray<{ name: string; sdl: string; url?: string }>): string {
  const result = composeServices(subgraphs.map((s) => ({ name: s.name, url: s.url ?? `http://127.0.0.1:1/${s.name}`, typeDefs: parse(s.sdl) })));
  if (result.errors) throw new Error(`composition failed:\n${result.errors.map((e) => e.message).join('\n')}`);
  return result.supergraphSdl;
}

/**
 * The case's subgraphs on loopback ports (unsigned: they trust whoever calls, as the bench's
 * reference subgraphs do), composed, and served through the real gateway over HTTP.
 */
export async function startConformanceSupergraph(subgraphs: readonly CaseSubgraph[]): Promise<ConformanceSupergraph> {
  const dir = await mkdtemp(join(tmpdir(), 'shop-conformance-'));
  const running: RunningSubgraph[] = [];
  let gateway: RunningGateway | undefined;
  const close = async () => {
    await gateway?.close();
    await Promise.all(running.map((r) => r.close()));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const subgraph of subgraphs) {
      running.push(
        await startSubgraphServer(
          { name: subgraph.name, typeDefs: parse(subgraph.sdl), resolvers: subgraph.resolvers, createContext: () => ({}) },
          { host: '127.0.0.1', port: 0, logger, production: false, maxBodyBytes: 1024 * 1024, signature: null },
        ),
      );
    }
    const supergraphSdl = compose(subgraphs.map((s, i) => ({ name: s.name, sdl: s.sdl, url: running[i]!.url })));
    const supergraphPath = join(dir, 'supergraph.graphql');
    await writeFile(supergraphPath, supergraphSdl);
    gateway = await startGateway(
      loadGatewayConfig({
        PORT: '0',
        HOST: '127.0.0.1',
        METRICS_PORT: '0',
        NODE_ENV: 'test',
        ...generateStackTrust().gatewayEnv,
        SUPERGRAPH_PATH: supergraphPath,
        PERSISTED_DIR: join(dir, 'persisted'),
      }),
      logger,
    );
    const url = gateway.url;
    return {
      supergraphSdl,
      async query(query, variables) {
        const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
        return (await response.json()) as GraphQLAnswer;
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
