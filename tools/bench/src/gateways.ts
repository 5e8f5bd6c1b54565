import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleEntry, bundleService, gatewayNodeFlags } from '@shop/dev-stack';

export interface GatewaySpec {
  id: string;
  label: string;
  /** TypeScript entry file; bundled (`bundledEntry`) and run as its own process. */
  entry: string;
  env: Record<string, string>;
  /** Node flags the gateway is started with (ours: as npm start starts it). */
  nodeFlags?: string[];
  /** Verifies our bearer tokens and forwards the caller to the subgraphs. */
  identity: boolean;
  /** The baseline every ratio is computed against. */
  baseline?: boolean;
}

const entry = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));
/** Our deployable gateway package, as npm start bundles and runs it. */
const OURS_PACKAGE = dirname(createRequire(import.meta.url).resolve('@shop/gateway/package.json'));
const OURS = join(OURS_PACKAGE, 'src', 'main.ts');
const OURS_FLAGS = gatewayNodeFlags(process.env);

/** Ours with its defaults, then with each optional speed feature switched on (or a default off). */
export const GATEWAYS: GatewaySpec[] = [
  { id: 'apollo', label: 'plain @apollo/gateway', entry: entry('./peers/apollo-gateway.ts'), env: {}, identity: false, baseline: true },
  { id: 'hive', label: '@graphql-hive/gateway', entry: entry('./peers/hive-gateway.ts'), env: { INBOUND_DEDUP: 'false' }, identity: false },
  { id: 'hive-dedup', label: '@graphql-hive/gateway, inbound dedup', entry: entry('./peers/hive-gateway.ts'), env: { INBOUND_DEDUP: 'true' }, identity: false },
  { id: 'ours', label: 'ours (defaults)', entry: OURS, nodeFlags: OURS_FLAGS, env: {}, identity: true },
  // As a deployment starts it, `node gateway/dist/main.js` with no flags: the entry applies them itself (on Node 20 through a supervising parent, counted in the process tree).
  { id: 'ours-plain-node', label: 'ours, plain node (entry applies its flags)', entry: OURS, env: {}, identity: true },
  // What the documented deployment ran before the entry applied its flags: no heap cap.
  { id: 'ours-uncapped', label: 'ours, no heap cap (GATEWAY_HEAP_MB=0)', entry: OURS, env: { GATEWAY_HEAP_MB: '0' }, identity: true },
  { id: 'ours-nodedup', label: 'ours, inbound dedup off', entry: OURS, nodeFlags: OURS_FLAGS, env: { INBOUND_DEDUP: 'false' }, identity: true },
  // Before query plans were scheduled in waves and batched per subgraph (issue 13), same switches otherwise.
  {
    id: 'ours-nodedup-nobatching',
    label: 'ours, inbound dedup off, batching off',
    entry: OURS,
    nodeFlags: OURS_FLAGS,
    env: { INBOUND_DEDUP: 'false', SUBGRAPH_BATCHING: 'false' },
    identity: true,
  },
  // With Apollo's own plan executor (executeQueryPlan), everything else as now.
  {
    id: 'ours-nodedup-apollo-execution',
    label: 'ours, inbound dedup off, Apollo plan execution',
    entry: OURS,
    nodeFlags: OURS_FLAGS,
    env: { INBOUND_DEDUP: 'false', PLAN_EXECUTION: 'apollo' },
    identity: true,
  },
  // And with Apollo's own result shaping and executor too: the request path as it was before issue 13.
  {
    id: 'ours-nodedup-before',
    label: 'ours, inbound dedup off, batching off, Apollo result shaping and execution',
    entry: OURS,
    nodeFlags: OURS_FLAGS,
    env: { INBOUND_DEDUP: 'false', SUBGRAPH_BATCHING: 'false', RESULT_SHAPING: 'apollo', PLAN_EXECUTION: 'apollo' },
    identity: true,
  },
  {
    id: 'ours-nodedup-all',
    label: 'ours, inbound and subgraph dedup off',
    entry: OURS,
    nodeFlags: OURS_FLAGS,
    env: { INBOUND_DEDUP: 'false', SUBGRAPH_DEDUP: 'false' },
    identity: true,
  },
  { id: 'ours-cache-memory', label: 'ours, response cache (memory)', entry: OURS, nodeFlags: OURS_FLAGS, env: { RESPONSE_CACHE: 'memory' }, identity: true },
  { id: 'ours-cache-redis', label: 'ours, response cache (Redis)', entry: OURS, nodeFlags: OURS_FLAGS, env: { RESPONSE_CACHE: 'redis' }, identity: true },
  { id: 'ours-compression', label: 'ours, compression (br/gzip)', entry: OURS, nodeFlags: OURS_FLAGS, env: { COMPRESSION: 'true' }, identity: true },
  { id: 'ours-workers', label: 'ours, 2 workers', entry: OURS, nodeFlags: OURS_FLAGS, env: { WORKERS: '2' }, identity: true },
];

const bundles = new Map<string, Promise<string>>();

/**
 * Every gateway runs bundled, as plain JavaScript: ours as `npm start` runs it (`gateway/dist/main.js`),
 * the peers the same way, so none of them carries tsx's loader thread in its RSS.
 */
export function bundledEntry(spec: GatewaySpec): Promise<string> {
  let bundle = bundles.get(spec.entry);
  if (!bundle) {
    bundle =
      spec.entry === OURS
        ? bundleService(OURS_PACKAGE)
        : bundleEntry(spec.entry, fileURLToPath(new URL(`../dist/${basename(spec.entry, '.ts')}.js`, import.meta.url)));
    bundles.set(spec.entry, bundle);
  }
  return bundle;
}
