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

/** One gateway serving the case's supergraph. */
export interface ConformanceGateway {
  url: string;
  query(query: string, variables?: Record<string, unknown>): Promise<GraphQLAnswer>;
}

export interface ConformanceSupergraph extends ConformanceGateway {
  supergraphSdl: string;
  /** The gateways started with `otherGatewayEnvs`, in that order, on the same subgraphs and supergraph. */
  others: ConformanceGateway[];
  /** Requests each subgraph has received so far (GraphQL routes only): the gateways' subgraph fetches. */
  subgraphRequests(): Record<string, number>;
  /** Stops one subgraph's server, the others and the gateways still running: a partial outage. */
  closeSubgraph(name: string): Promise<void>;
  close(): Promise<void>;
}

export interface ConformanceOptions {
  /** Env values every gateway gets over the defaults. */
  gatewayEnv?: Record<string, string>;
  /**
   * Env values for further gateways on the same subgraphs and supergraph (each over the defaults
   * the first gateway gets), so one case can compare gateways configured differently.
   */
  otherGatewayEnvs?: ReadonlyArray<Record<string, string>>;
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
export async function startConformanceSupergraph(subgraphs: readonly CaseSubgraph[], options: ConformanceOptions = {}): Promise<ConformanceSupergraph> {
  const dir = await mkdtemp(join(tmpdir(), 'shop-conformance-'));
  const running: RunningSubgraph[] = [];
  const closed = new Set<RunningSubgraph>();
  const gateways: RunningGateway[] = [];
  const closeSubgraph = async (subgraph: RunningSubgraph) => {
    if (closed.has(subgraph)) return;
    closed.add(subgraph);
    await subgraph.close();
  };
  const close = async () => {
    await Promise.all(gateways.map((g) => g.close()));
    await Promise.all(running.map(closeSubgraph));
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
    const env = {
      PORT: '0',
      HOST: '127.0.0.1',
      METRICS_PORT: '0',
      NODE_ENV: 'test',
      ...generateStackTrust().gatewayEnv,
      SUPERGRAPH_PATH: supergraphPath,
      ...options.gatewayEnv,
    };
    for (const extra of [{}, ...(options.otherGatewayEnvs ?? [])]) {
      // Each gateway its own persisted-operation directory: they never share state but the subgraphs.
      gateways.push(await startGateway(loadGatewayConfig({ ...env, PERSISTED_DIR: join(dir, `persisted-${gateways.length}`), ...extra }), logger));
    }
    const [first, ...others] = gateways.map(
      (gateway): ConformanceGateway => ({
        url: gateway.url,
        async query(query, variables) {
          const response = await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
          return (await response.json()) as GraphQLAnswer;
        },
      }),
    );
    return {
      ...first!,
      supergraphSdl,
      others,
      subgraphRequests: () => Object.fromEntries(subgraphs.map((s, i) => [s.name, running[i]!.server.requests.count])),
      async closeSubgraph(name) {
        const index = subgraphs.findIndex((s) => s.name === name);
        if (index < 0) throw new Error(`no subgraph ${name}`);
        await closeSubgraph(running[index]!);
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
