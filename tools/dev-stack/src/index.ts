export { bundleEntry, bundleService } from './bundle.ts';
export { gatewayNodeFlags, heapEnv } from './heap.ts';
