import { HttpError } from '@shop/service-kit';
import type { Stage } from '../exchange.ts';

/**
 * The whole request, subgraph fetches included, gets one deadline: the client is answered
 * `504 REQUEST_TIMEOUT` at the deadline even if a subgraph is still working (whose late answer
 * is then dropped).
 */
export function deadline(timeoutMs: number): Stage {
  return async (_exchange, next) => {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new HttpError(504, 'REQUEST_TIMEOUT', `The request took longer than ${timeoutMs} ms.`)), timeoutMs);
    });
    const work = next();
    // Still running after the deadline: its outcome no longer reaches anyone.
    work.catch(() => {});
    try {
      return await Promise.race([work, expired]);
    } finally {
      clearTimeout(timer);
    }
  };
}
