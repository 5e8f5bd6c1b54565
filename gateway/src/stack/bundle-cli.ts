/**
 * `npm run build` bundles each service with this: `node --import tsx bundle-cli.ts <package dir>...`
 * writes `<package dir>/dist/main.js`, which runs with plain `node` (see bundle.ts).
 */
import { resolve } from 'node:path';
import { bundleService } from './bundle.ts';

const packageDirs = process.argv.slice(2);
if (packageDirs.length === 0) {
  process.stderr.write('usage: bundle-cli.ts <package dir>...\n');
  process.exit(64);
}
for (const dir of packageDirs) process.stdout.write(`bundled ${await bundleService(resolve(dir))}\n`);
