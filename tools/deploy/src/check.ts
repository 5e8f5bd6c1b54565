/**
 * `npm run deploy:check`: the Dockerfile and the compose file against their rules, and both
 * Kubernetes overlays rendered (after composing the supergraph their ConfigMap carries), each
 * object validated against the Kubernetes schemas and the rules, and the overlays compared.
 * Exits 1 with one line per problem; CI runs it after lint.
 */
import { readFileSync } from 'node:fs';
import { EXIT, runCli, usageError } from '@shop/cli-kit';
import { checkCompose } from './compose-rules.ts';
import { checkDockerfile } from './dockerfile-rules.ts';
import { checkObjects, compareShapes } from './k8s-rules.ts';
import { render } from './kustomize.ts';
import { PATHS } from './paths.ts';
import { writeClusterSupergraph } from './supergraph.ts';

await runCli('deploy:check', async (argv) => {
  if (argv.length > 0) throw usageError(`unexpected arguments: ${argv.join(' ')}`);
  const problems: string[] = [];
  problems.push(...checkDockerfile(readFileSync(PATHS.dockerfile, 'utf8'), readFileSync(PATHS.dockerignore, 'utf8')));
  problems.push(...checkCompose(readFileSync(PATHS.compose, 'utf8')));
  await writeClusterSupergraph();
  const rendered = Object.entries(PATHS.overlays).map(([name, dir]) => ({ name, objects: render(dir) }));
  for (const { name, objects } of rendered) {
    problems.push(...checkObjects(objects).map((p) => `${name}: ${p}`));
    process.stdout.write(`${name}: ${objects.length} objects rendered\n`);
  }
  problems.push(...compareShapes(rendered[0]!, rendered[1]!));
  for (const problem of problems) process.stderr.write(`${problem}\n`);
  process.stdout.write(problems.length === 0 ? 'Dockerfile, compose file and overlays dev, prod: every rule holds\n' : `${problems.length} problem(s)\n`);
  return problems.length === 0 ? EXIT.ok : EXIT.failed;
});
