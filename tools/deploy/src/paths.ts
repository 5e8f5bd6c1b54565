import { fileURLToPath } from 'node:url';

/** The repository's files the deployment tools read and write. */
const root = (path: string) => fileURLToPath(new URL(`../../../${path}`, import.meta.url));

export const PATHS = {
  dockerfile: root('Dockerfile'),
  dockerignore: root('.dockerignore'),
  compose: root('deploy/compose.yaml'),
  k8sBase: root('deploy/k8s/base'),
  overlays: { dev: root('deploy/k8s/overlays/dev'), prod: root('deploy/k8s/overlays/prod') },
  /** Where the base's configMapGenerator finds the supergraph (gitignored; deploy:supergraph writes it). */
  k8sSupergraph: root('deploy/k8s/base/supergraph.graphql'),
  supergraphYaml: root('supergraph.yaml'),
} as const;

/** Each subgraph's address inside the cluster: its Service's name and port. */
export const CLUSTER_ROUTING_URLS: Record<string, string> = {
  accounts: 'http://accounts:4001/graphql',
  products: 'http://products:4002/graphql',
  inventory: 'http://inventory:4003/graphql',
  reviews: 'http://reviews:4004/graphql',
  orders: 'http://orders:4005/graphql',
};
