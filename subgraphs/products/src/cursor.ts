import { badInput } from '@shop/service-kit';

/** Cursors are opaque to clients: base64url of the last upc of a page. */
export function encodeCursor(upc: string): string {
  return Buffer.from(`product:${upc}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): string {
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!decoded.startsWith('product:') || decoded.length === 'product:'.length || decoded.length > 80) {
    throw badInput('"after" is not a cursor returned by this API.', 'BAD_CURSOR', { argument: 'after' });
  }
  return decoded.slice('product:'.length);
}
