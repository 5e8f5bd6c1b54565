import { composeSupergraphFile, readSupergraphConfig } from '@shop/supergraph-tools';
import { CLUSTER_ROUTING_URLS, PATHS } from './paths.ts';

/**
 * Composes supergraph.yaml with the subgraphs' in-cluster URLs into the file the base's
 * shop-supergraph ConfigMap is generated from. Publishing a new supergraph is this, then
 * `kubectl apply -k`: the ConfigMap changes, and the running gateways reload it (no rollout).
 */
export async function writeClusterSupergraph(path: string = PATHS.k8sSupergraph): Promise<string> {
  await composeSupergraphFile(await readSupergraphConfig(PATHS.supergraphYaml), path, { routingUrls: CLUSTER_ROUTING_URLS });
  return path;
}
