import { GraphQLError } from 'graphql';

/**
 * Gives the client back the response names it asked for: the correctness stage's aliases
 * (generated, unlike any name in the document) become the client's names again, in the data
 * and in error paths, keeping the order of the fields.
 */
export function restoreResponseNames<T>(data: T, aliases: ReadonlyMap<string, string>): T {
  if (Array.isArray(data)) return data.map((item: unknown) => restoreResponseNames(item, aliases)) as T;
  if (data === null || typeof data !== 'object') return data;
  const restored: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) restored[aliases.get(key) ?? key] = restoreResponseNames(value, aliases);
  return restored as T;
}

export function restoreErrorPaths(errors: readonly GraphQLError[], aliases: ReadonlyMap<string, string>): GraphQLError[] {
  return errors.map((error) =>
    error.path?.some((segment) => typeof segment === 'string' && aliases.has(segment))
      ? new GraphQLError(error.message, {
          nodes: error.nodes,
          source: error.source,
          positions: error.positions,
          path: error.path.map((segment) => (typeof segment === 'string' ? (aliases.get(segment) ?? segment) : segment)),
          originalError: error.originalError,
          extensions: error.extensions,
        })
      : error,
  );
}
