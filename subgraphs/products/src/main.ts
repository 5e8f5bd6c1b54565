// First: tracing must be set up before the service's modules load.
import '@shop/observability/register';
import { products } from './index.ts';

await products.main();
