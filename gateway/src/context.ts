import type { IncomingHttpHeaders } from 'node:http';
import type { Caller } from './auth.ts';

export interface GatewayContext {
  caller: Caller;
  requestHeaders: IncomingHttpHeaders;
}
