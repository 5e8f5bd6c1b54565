import { GraphQLError } from 'graphql';

/** A client mistake in arguments or input: stable code, message a person can act on. */
export function badInput(message: string, code = 'BAD_USER_INPUT', extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extensions } });
}

export function unauthenticated(message = 'You must be signed in to do this.'): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED' } });
}

export function forbidden(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'FORBIDDEN' } });
}

/** Validates a page size argument so a `first: 1000000000` cannot ask for the table. */
export function pageSize(first: number | null | undefined, fallback: number, max: number): number {
  const value = first ?? fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw badInput(`"first" must be between 1 and ${max}, got ${value}.`, 'BAD_USER_INPUT', { argument: 'first', max });
  }
  return value;
}

/**
 * A mutation's own check of the scope the supergraph requires for it: the gateway enforces
 * `@requiresScopes` first, this holds even for a request that did not come through that check.
 */
export function requireScope(identity: { scopes: readonly string[] }, scope: string): void {
  if (!identity.scopes.includes(scope)) {
    throw new GraphQLError(`This needs the scope "${scope}".`, { extensions: { code: 'UNAUTHORIZED', requiredScope: scope } });
  }
}
