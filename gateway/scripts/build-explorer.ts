/**
 * `npm run build` (turbo runs this package's `build`): the explorer's page script, GraphiQL and
 * Monaco bundled into dist/explorer/<key>/, which a production gateway with EXPLORER=true serves.
 * Development gateways build the same on first use; this makes it ahead of time.
 */
import { EXPLORER_PATHS } from '../src/config.ts';
import { buildExplorer, explorerBuildKey } from '../src/edge/explorer-build.ts';

const key = await explorerBuildKey(EXPLORER_PATHS);
process.stdout.write(`built the explorer: ${await buildExplorer(EXPLORER_PATHS, key)}\n`);
