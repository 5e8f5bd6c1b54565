// First: tracing must be set up before the service's modules load.
import '@shop/observability/register';
import { orders } from './index.ts';

await orders.main();
