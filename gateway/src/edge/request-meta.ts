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

/** The caller's address; X-Forwarded-For only when a trusted proxy sets it (else anyone could pick their IP). */
export function clientIpOf(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = req.headers['x-forwarded-for'];
    const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
    if (first) return first;
  }
  return req.socket.remoteAddress ?? 'unknown';
}
