// First: tracing must be set up before the service's modules load.
import '@shop/observability/register';
import { reviews } from './index.ts';

await reviews.main();
