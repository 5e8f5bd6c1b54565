/**
 * `npm run build` bundles every service with this (or the packages named):
 * `node --import tsx bundle-cli.ts [<package dir>...]` writes `<package dir>/dist/main.js`,
 * which runs with plain `node` (see bundle.ts).
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SUBGRAPHS } from '@shop/db';
import { bundleService } from './bundle.ts';

const root = (path: string) => fileURLToPath(new URL(`../../../${path}`, import.meta.url));
const named = process.argv.slice(2);
const packageDirs = named.length > 0 ? named.map((dir) => resolve(dir)) : [root('gateway'), ...SUBGRAPHS.map((name) => root(`subgraphs/${name}`))];
for (const dir of packageDirs) process.stdout.write(`bundled ${await bundleService(dir)}\n`);
