import {
  getNamedType,
  getNullableType,
  isListType,
  isObjectType,
  isInterfaceType,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLSchema,
  type InlineFragmentNode,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';
import { denialReason, type AuthzRequirements, type Principal } from './requirements.ts';

/** A field removed from the operation: its response path ("@" stands for every list item). */
export interface DeniedField {
  path: string[];
  coordinate: string;
  reason: string;
}

export interface FilteredOperation {
  /** The operation without the fields the caller may not see (null: nothing was left). */
  document: DocumentNode | null;
  denied: DeniedField[];
  /** Paths to set to null in the response: denied fields and fields left with no selections. */
  nullPaths: string[][];
}

/**
 * Removes from an operation every field the caller may not see, before it is planned, so no
 * subgraph is ever asked for it. Returns null when the caller may see everything (the
 * common case: the document is used as it is).
 */
export function filterOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  requirements: AuthzRequirements,
  principal: Principal,
): FilteredOperation | null {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations.length === 1 ? operations[0] : undefined;
  if (!operation) return null;
  const rootType = schema.getRootType(operation.operation);
  if (!rootType) return null;
  const fragments = new Map(
    document.definitions
      .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
      .map((f) => [f.name.value, f]),
  );

  const denied: DeniedField[] = [];
  const nullPaths: string[][] = [];

  const filterSelections = (selectionSet: SelectionSetNode, parent: GraphQLCompositeType, path: string[]): SelectionSetNode | null => {
    const kept: SelectionNode[] = [];
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const field = filterField(selection, parent, path);
        if (field) kept.push(field);
      } else {
        const fragment: { typeCondition?: string; selectionSet: SelectionSetNode } | undefined =
          selection.kind === Kind.INLINE_FRAGMENT
            ? { typeCondition: selection.typeCondition?.name.value, selectionSet: selection.selectionSet }
            : (() => {
                const definition = fragments.get(selection.name.value);
                return definition && { typeCondition: definition.typeCondition.name.value, selectionSet: definition.selectionSet };
              })();
        if (!fragment) continue;
        const type = fragment.typeCondition ? schema.getType(fragment.typeCondition) : parent;
        if (!type || !(isObjectType(type) || isInterfaceType(type) || type === parent)) continue;
        const inner = filterSelections(fragment.selectionSet, type as GraphQLCompositeType, path);
        if (!inner) continue;
        // Spreads are inlined: a fragment may be filtered differently where it is used.
        const inline: InlineFragmentNode = {
          kind: Kind.INLINE_FRAGMENT,
          typeCondition: fragment.typeCondition ? { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: fragment.typeCondition } } : undefined,
          directives: selection.directives,
          selectionSet: inner,
        };
        kept.push(inline);
      }
    }
    return kept.length === 0 ? null : { kind: Kind.SELECTION_SET, selections: kept };
  };

  const filterField = (node: FieldNode, parent: GraphQLCompositeType, path: string[]): FieldNode | null => {
    const name = node.name.value;
    const responseKey = node.alias?.value ?? name;
    if (name.startsWith('__') || !(isObjectType(parent) || isInterfaceType(parent))) return node;
    const definition = parent.getFields()[name];
    if (!definition) return node;
    const returnType = getNamedType(definition.type);
    const fieldPath = [...path, responseKey];
    for (const coordinate of [`${parent.name}.${name}`, returnType.name]) {
      const reason = denialReason(requirements, coordinate, principal);
      if (reason) {
        denied.push({ path: fieldPath, coordinate, reason });
        nullPaths.push(fieldPath);
        return null;
      }
    }
    if (!node.selectionSet) return node;
    const childPath = isListType(getNullableType(definition.type)) ? [...fieldPath, '@'] : fieldPath;
    const inner = filterSelections(node.selectionSet, returnType as GraphQLCompositeType, childPath);
    if (!inner) {
      nullPaths.push(fieldPath);
      return null;
    }
    return inner === node.selectionSet ? node : { ...node, selectionSet: inner };
  };

  const selectionSet = filterSelections(operation.selectionSet, rootType, []);
  if (denied.length === 0) return null;
  return {
    document: selectionSet ? { kind: Kind.DOCUMENT, definitions: [{ ...operation, selectionSet }] } : null,
    denied,
    nullPaths,
  };
}

/** Puts null at each removed field's place, so the response keeps the shape the client asked for. */
export function insertNulls(data: Record<string, unknown>, paths: string[][]): void {
  const visit = (value: unknown, path: string[], index: number): void => {
    if (value === null || value === undefined) return;
    const segment = path[index]!;
    if (segment === '@') {
      if (Array.isArray(value)) for (const item of value) visit(item, path, index + 1);
      return;
    }
    if (typeof value !== 'object') return;
    const record = value as Record<string, unknown>;
    if (index === path.length - 1) record[segment] = null;
    else visit(record[segment], path, index + 1);
  };
  for (const path of paths) visit(data, path, 0);
}
