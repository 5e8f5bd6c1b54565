// First: tracing must be set up before the service's modules load.
import '@shop/observability/register';
import { inventory } from './index.ts';

await inventory.main();
