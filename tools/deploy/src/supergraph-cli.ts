/**
 * `npm run deploy:supergraph`: composes supergraph.yaml with the subgraphs' in-cluster URLs into
 * deploy/k8s/base/supergraph.graphql, which the shop-supergraph ConfigMap is generated from
 * (`kubectl apply -k deploy/k8s/overlays/<env>` then publishes it; the gateways hot-reload it).
 */
import { runCli, usageError } from '@shop/cli-kit';
import { writeClusterSupergraph } from './supergraph.ts';

await runCli('deploy:supergraph', async (argv) => {
  if (argv.length > 0) throw usageError(`unexpected arguments: ${argv.join(' ')}`);
  process.stdout.write(`composed ${await writeClusterSupergraph()}\n`);
});
