import type { IncomingMessage } from 'node:http';

/**
 * The header the gateway uses to tell a subgraph who the verified caller is.
 * Subgraphs listen on loopback only; the signed form of this header is the
 * gateway-edge issue's work.
 */
export const USER_ID_HEADER = 'x-shop-user-id';

export interface Identity {
  /** accounts.User.id of the signed-in caller, or null for anonymous. */
  userId: number | null;
}

export function identityFromRequest(req: IncomingMessage): Identity {
  const raw = req.headers[USER_ID_HEADER];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (!value || !/^[1-9]\d{0,9}$/.test(value)) return { userId: null };
  const userId = Number(value);
  return { userId: Number.isSafeInteger(userId) ? userId : null };
}
