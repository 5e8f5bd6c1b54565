import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * The request id is the W3C trace id when the caller sent a `traceparent`, so the client's
 * trace, the gateway's logs and error responses share one id; otherwise a fresh one.
 */
export function requestIdOf(req: IncomingMessage): string {
  const traceparent = req.headers.traceparent;
  const match = typeof traceparent === 'string' ? /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/.exec(traceparent) : null;
  if (match && match[1] !== '0'.repeat(32)) return match[1]!;
  return randomBytes(16).toString('hex');
}

/**
 * The caller's address. Behind `proxyHops` proxies, each appends the address it received the
 * request from to X-Forwarded-For, so the client's address is the entry that many from the right,
 * counting the connection's own address as the last one. Entries further left are whatever the
 * client wrote, and are never used: a client cannot choose its address by sending the header.
 */
export function clientIpOf(req: IncomingMessage, proxyHops: number): string {
  const socketAddress = req.socket.remoteAddress ?? 'unknown';
  if (proxyHops === 0) return socketAddress;
  const forwarded = req.headers['x-forwarded-for'];
  const listed = (Array.isArray(forwarded) ? forwarded.join(',') : (forwarded ?? ''))
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  const chain = [...listed, socketAddress];
  // Fewer entries than proxies: the request skipped a proxy; the furthest address known is the best there is.
  return chain[chain.length - 1 - proxyHops] ?? chain[0]!;
}
