// First: tracing must be set up before the service's modules load.
import '@shop/observability/register';
import { createLogger } from '@shop/observability';
import { loadConfig, runService } from '@shop/service-kit';
import { accountsEnv, startAccounts } from './index.ts';

await runService('accounts', async () => {
  const config = loadConfig(accountsEnv);
  const logger = createLogger('accounts', config.LOG_LEVEL);
  return { service: await startAccounts(config, logger), logger };
});
