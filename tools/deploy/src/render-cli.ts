/**
 * `npm run deploy:render -- <overlay dir>`: the overlay's objects as one YAML stream, for
 * `kubectl apply -f -` where kustomize is not at hand, or to read what `apply -k` would send.
 */
import { stringify } from 'yaml';
import { runCli, usageError } from '@shop/cli-kit';
import { render } from './kustomize.ts';
import { writeClusterSupergraph } from './supergraph.ts';

await runCli('deploy:render', async (argv) => {
  if (argv.length !== 1) throw usageError('expected one overlay directory, e.g. deploy/k8s/overlays/prod');
  await writeClusterSupergraph();
  process.stdout.write(render(argv[0]!).map((object) => stringify(object)).join('---\n'));
});
