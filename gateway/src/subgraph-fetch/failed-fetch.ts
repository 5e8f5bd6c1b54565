import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { Kind, parse, type DocumentNode, type FragmentDefinitionNode, type GraphQLFormattedError, type OperationDefinitionNode, type SelectionSetNode } from 'graphql';
import type { SubgraphFault } from './faults.ts';

/**
 * The answer of a subgraph fetch that failed, as if the subgraph had answered with an error at
 * each field the fetch selects and no data. @apollo/gateway maps such errors onto the client's
 * operation (executeQueryPlan's makeLazyErrorPathGenerator): `['field']` of a root fetch lands
 * relative to the fetch's path, `['_entities', i, 'field']` of an entity fetch on the i-th
 * entity. So the failed fields are null with an error each, and the rest of the answer stays;
 * a thrown error would instead be reported without a path.
 */
export function failedFetchResponse(
  fault: SubgraphFault,
  fetch: { document?: DocumentNode | undefined; query?: string | undefined; variables?: Record<string, unknown> | undefined },
): GatewayGraphQLResponse {
  const error = (path?: Array<string | number>): GraphQLFormattedError => ({
    message: fault.message,
    ...(path ? { path } : {}),
    extensions: { code: fault.code, reason: fault.reason, serviceName: fault.subgraph },
  });
  const document = fetch.document ?? (fetch.query ? parse(fetch.query) : undefined);
  const operation = document?.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (!document || !operation) return { errors: [error()] };
  const fragments = new Map(
    document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]),
  );

  const entities = operation.selectionSet.selections.find((s) => s.kind === Kind.FIELD && s.name.value === '_entities');
  const errors: GraphQLFormattedError[] = [];
  if (entities?.kind === Kind.FIELD && entities.selectionSet) {
    const representations = Array.isArray(fetch.variables?.representations) ? (fetch.variables.representations as unknown[]) : [];
    const namesByType = new Map<string, string[]>();
    representations.forEach((representation, index) => {
      const typename = (representation as { __typename?: unknown } | null)?.__typename;
      const type = typeof typename === 'string' ? typename : '';
      let names = namesByType.get(type);
      if (!names) {
        names = responseNames(entities.selectionSet!, type, fragments);
        // A type condition naming an interface, not the entity's own type: every field may be the entity's.
        if (names.length === 0) names = responseNames(entities.selectionSet!, undefined, fragments);
        namesByType.set(type, names);
      }
      for (const name of names) errors.push(error(['_entities', index, name]));
    });
  } else {
    for (const name of responseNames(operation.selectionSet, undefined, fragments)) errors.push(error([name]));
  }
  return { errors: errors.length > 0 ? errors : [error()] };
}

/**
 * The response names (aliases or field names) a selection set gives an object of `typename`
 * (undefined: any type), through inline fragments and fragment spreads; `__typename` is left
 * out, since the gateway knows it without the subgraph.
 */
function responseNames(selectionSet: SelectionSetNode, typename: string | undefined, fragments: ReadonlyMap<string, FragmentDefinitionNode>): string[] {
  const names = new Set<string>();
  const visit = (set: SelectionSetNode, seen: Set<string>) => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.alias?.value ?? selection.name.value;
        if (name !== '__typename') names.add(name);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        if (applies(selection.typeCondition?.name.value, typename)) visit(selection.selectionSet, seen);
      } else {
        const fragment = fragments.get(selection.name.value);
        if (fragment && !seen.has(fragment.name.value) && applies(fragment.typeCondition.name.value, typename)) {
          visit(fragment.selectionSet, new Set([...seen, fragment.name.value]));
        }
      }
    }
  };
  visit(selectionSet, new Set());
  return [...names];
}

function applies(typeCondition: string | undefined, typename: string | undefined): boolean {
  return typeCondition === undefined || typename === undefined || typeCondition === typename;
}
