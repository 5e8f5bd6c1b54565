import { Kind, parse, valueFromASTUntyped, type ConstDirectiveNode, type DocumentNode } from 'graphql';

/**
 * What the supergraph says each type and field needs, from the Federation directives
 * `@authenticated` and `@requiresScopes(scopes: [[...]])` (an OR of ANDs), as Apollo Router
 * reads them. Keys are schema coordinates: `Type` or `Type.field`.
 */
export interface AuthzRequirements {
  authenticated: Set<string>;
  scopes: Map<string, string[][]>;
  /** False when the supergraph uses neither directive: every request skips the check. */
  any: boolean;
}

export function requirementsFromSupergraph(supergraphSdl: string | DocumentNode): AuthzRequirements {
  const document = typeof supergraphSdl === 'string' ? parse(supergraphSdl) : supergraphSdl;
  const authenticated = new Set<string>();
  const scopes = new Map<string, string[][]>();

  const read = (coordinate: string, directives: readonly ConstDirectiveNode[] | undefined) => {
    for (const directive of directives ?? []) {
      if (directive.name.value === 'authenticated') authenticated.add(coordinate);
      if (directive.name.value === 'requiresScopes') {
        const argument = directive.arguments?.find((a) => a.name.value === 'scopes');
        const value = argument ? (valueFromASTUntyped(argument.value) as unknown) : [];
        const alternatives = Array.isArray(value)
          ? value.filter(Array.isArray).map((all) => (all as unknown[]).map(String))
          : [];
        // Several subgraphs may require scopes on one field: all their requirements apply.
        const existing = scopes.get(coordinate);
        scopes.set(coordinate, existing ? combine(existing, alternatives) : alternatives);
      }
    }
  };

  for (const definition of document.definitions) {
    if (
      definition.kind === Kind.OBJECT_TYPE_DEFINITION ||
      definition.kind === Kind.INTERFACE_TYPE_DEFINITION ||
      definition.kind === Kind.OBJECT_TYPE_EXTENSION ||
      definition.kind === Kind.INTERFACE_TYPE_EXTENSION
    ) {
      read(definition.name.value, definition.directives);
      for (const field of definition.fields ?? []) read(`${definition.name.value}.${field.name.value}`, field.directives);
    } else if (
      definition.kind === Kind.SCALAR_TYPE_DEFINITION ||
      definition.kind === Kind.ENUM_TYPE_DEFINITION ||
      definition.kind === Kind.UNION_TYPE_DEFINITION
    ) {
      read(definition.name.value, definition.directives);
    }
  }
  return { authenticated, scopes, any: authenticated.size > 0 || scopes.size > 0 };
}

/** (A or B) and (C or D) = AC or AD or BC or BD. */
function combine(left: string[][], right: string[][]): string[][] {
  return left.flatMap((l) => right.map((r) => [...new Set([...l, ...r])]));
}

export interface Principal {
  authenticated: boolean;
  scopes: ReadonlySet<string>;
}

/** Null when allowed, else why not (for the error message). */
export function denialReason(requirements: AuthzRequirements, coordinate: string, principal: Principal): string | null {
  if (requirements.authenticated.has(coordinate) && !principal.authenticated) return 'requires a signed-in caller';
  const alternatives = requirements.scopes.get(coordinate);
  if (alternatives && !alternatives.some((all) => all.every((scope) => principal.scopes.has(scope)))) {
    return `requires the scopes ${alternatives.map((all) => all.join(' and ')).join(', or ')}`;
  }
  return null;
}

const ENFORCED_SECURITY_FEATURES = /(@link\(url: "https:\/\/specs\.apollo\.dev\/(?:authenticated|requiresScopes)\/v0\.1"), for: SECURITY\)/g;

/**
 * @apollo/gateway refuses a supergraph that links a SECURITY feature it does not implement,
 * rightly: serving it would ignore the directives. This gateway enforces `@authenticated` and
 * `@requiresScopes` itself, so it declares exactly those two as handled; any other SECURITY
 * feature is still refused.
 */
export function declareEnforcedSecurityFeatures(supergraphSdl: string): string {
  return supergraphSdl.replace(ENFORCED_SECURITY_FEATURES, '$1)');
}
