export { bundleEntry, bundleService } from './bundle.ts';
export { gatewayNodeFlags } from './heap.ts';
export { Supervisor, type ServiceSpec } from './supervisor.ts';
