import { z } from 'zod';
import { env, loadConfig } from '@shop/service-kit';

/** What the harness tells a peer gateway process. */
export const peerEnv = () =>
  loadConfig(
    z.object({
      PORT: env.port(4000),
      SUPERGRAPH_PATH: z.string().min(1),
      INBOUND_DEDUP: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
    }),
    process.env,
  );
