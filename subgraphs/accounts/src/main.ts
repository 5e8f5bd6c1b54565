// First: tracing must be set up before the service's modules load.
import '@shop/observability/register';
import { accounts } from './index.ts';

await accounts.main();
