import { mintToken } from '@shop/cli';

/** Every scope the shop's `@requiresScopes` ask for. */
export const ALL_SCOPES = 'orders:read orders:write reviews:write';

/**
 * A token of user `userId` that a gateway on the development secret accepts (the test stack's,
 * the bench's): every scope, valid for 5 minutes unless told otherwise.
 */
export async function tokenFor(
  userId: number,
  options: { expiresIn?: string; secret?: string; scope?: string; clientId?: string } = {},
): Promise<string> {
  return mintToken({
    ...(options.clientId ? { clientId: options.clientId } : {}),
    subject: String(userId),
    scope: options.scope ?? ALL_SCOPES,
    expiresIn: options.expiresIn ?? '5m',
    // Imported only here, so that tests which never mint a token (the database package's) do not
    // load the gateway's configuration and the service kit with these helpers.
    secret: options.secret ?? (await import('@shop/gateway/config')).DEVELOPMENT_JWT_SECRET,
  });
}
