import {
  getNamedType,
  getNullableType,
  getVariableValues,
  isCompositeType,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  parse,
  valueFromASTUntyped,
  type ConstDirectiveNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';

/** `@cost(weight:)` and `@listSize(...)` from the supergraph (Federation demand control). */
export interface CostDirectives {
  weights: Map<string, number>;
  listSizes: Map<string, ListSize>;
}

interface ListSize {
  assumedSize?: number | undefined;
  slicingArguments?: string[] | undefined;
  /** For connections: the list fields of the result the size applies to (e.g. `edges`). */
  sizedFields?: string[] | undefined;
}

export function costDirectivesFromSupergraph(supergraphSdl: string | DocumentNode): CostDirectives {
  const document = typeof supergraphSdl === 'string' ? parse(supergraphSdl) : supergraphSdl;
  const weights = new Map<string, number>();
  const listSizes = new Map<string, ListSize>();
  const read = (coordinate: string, directives: readonly ConstDirectiveNode[] | undefined) => {
    for (const directive of directives ?? []) {
      const args = Object.fromEntries((directive.arguments ?? []).map((a) => [a.name.value, valueFromASTUntyped(a.value)]));
      if (directive.name.value === 'cost' && args.weight !== undefined) weights.set(coordinate, Number(args.weight));
      if (directive.name.value === 'listSize') {
        listSizes.set(coordinate, {
          assumedSize: typeof args.assumedSize === 'number' ? args.assumedSize : undefined,
          slicingArguments: Array.isArray(args.slicingArguments) ? args.slicingArguments.map(String) : undefined,
          sizedFields: Array.isArray(args.sizedFields) ? args.sizedFields.map(String) : undefined,
        });
      }
    }
  };
  for (const definition of document.definitions) {
    if ('name' in definition && definition.name && 'directives' in definition) {
      read(definition.name.value, definition.directives as readonly ConstDirectiveNode[] | undefined);
      if ('fields' in definition) {
        for (const field of definition.fields ?? []) read(`${definition.name.value}.${field.name.value}`, field.directives);
      }
    }
  }
  return { weights, listSizes };
}

/**
 * The variable values the operation will run with: the request's, coerced, with the operation's
 * own defaults for those it leaves out. Values that do not coerce are returned as sent: the
 * gateway refuses such a request before planning it, so nothing it asks for is ever fetched.
 */
export function operationVariables(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode | undefined,
  variables: Record<string, unknown>,
): Record<string, unknown> {
  if (!operation?.variableDefinitions?.length) return variables;
  const result = getVariableValues(schema, operation.variableDefinitions, variables, { maxErrors: 1 });
  return result.coerced ?? variables;
}

/** Mutations cost more than reads: they write and usually cannot be retried freely. */
const MUTATION_BASE_COST = 10;
/** The largest value of GraphQL's Int (32-bit signed). */
const GRAPHQL_MAX_INT = 2 ** 31 - 1;

/**
 * The static cost of an operation, before it runs: objects cost 1, scalars 0 (unless @cost
 * says otherwise), and a list multiplies its items' cost by its size, taken from the slicing
 * argument (`first`), else @listSize's assumed size, else a default.
 *
 * `variables` must be the coerced values (the operation's defaults applied, see
 * `operationVariables`): a variable the request leaves out still sizes its list.
 */
export function estimateCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown>,
  directives: CostDirectives,
  defaultListSize: number,
): number {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations[0];
  if (!operation) return 0;
  const root = schema.getRootType(operation.operation);
  if (!root) return 0;
  const fragments = new Map(
    document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]),
  );

  // As in execution: an argument bound to a variable that has no value (not sent, no default in
  // the operation) is unset, so the field's own default applies.
  const argumentValue = (field: GraphQLField<unknown, unknown>, name: string, args: ReadonlyMap<string, ValueNode>): unknown => {
    const given = args.get(name);
    const unset = !given || (given.kind === Kind.VARIABLE && !Object.hasOwn(variables, given.name.value));
    return unset ? field.args.find((a) => a.name === name)?.defaultValue : valueFromASTUntyped(given, variables);
  };

  const listSize = (field: GraphQLField<unknown, unknown>, coordinate: string, args: ReadonlyMap<string, ValueNode>): number => {
    const sizing = directives.listSizes.get(coordinate);
    for (const name of sizing?.slicingArguments ?? []) {
      const value = argumentValue(field, name, args);
      // Only what GraphQL's Int can hold: anything else (1e308, 2.5) is refused when the variables
      // are coerced, after this estimate, and must not size a list meanwhile.
      if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= GRAPHQL_MAX_INT) return value;
    }
    return sizing?.assumedSize ?? defaultListSize;
  };

  // Fragment cycles are invalid GraphQL; the guard keeps a malicious one from recursing forever.
  const selectionCost = (
    selectionSet: SelectionSetNode,
    parent: GraphQLCompositeType,
    fragmentsSeen: ReadonlySet<string>,
    sizedChildren?: ReadonlyMap<string, number>,
  ): number => {
    let total = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        if (selection.name.value.startsWith('__') || !(isObjectType(parent) || isInterfaceType(parent))) continue;
        const field = parent.getFields()[selection.name.value];
        if (!field) continue;
        const coordinate = `${parent.name}.${field.name}`;
        const named = getNamedType(field.type);
        const own = directives.weights.get(coordinate) ?? directives.weights.get(named.name) ?? (isCompositeType(named) ? 1 : 0);
        const args = new Map((selection.arguments ?? []).map((a) => [a.name.value, a.value]));
        const sizedFields = directives.listSizes.get(coordinate)?.sizedFields;
        // A connection's size applies to its list fields (edges), not to the connection itself.
        const childSizes = sizedFields ? new Map(sizedFields.map((name) => [name, listSize(field, coordinate, args)])) : undefined;
        const children =
          selection.selectionSet && isCompositeType(named) ? selectionCost(selection.selectionSet, named, fragmentsSeen, childSizes) : 0;
        const size = isListType(getNullableType(field.type))
          ? (sizedChildren?.get(field.name) ?? (sizedFields ? 1 : listSize(field, coordinate, args)))
          : 1;
        total += size * (own + children);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        if (type && isCompositeType(type)) total += selectionCost(selection.selectionSet, type, fragmentsSeen, sizedChildren);
      } else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (!fragment || fragmentsSeen.has(name)) continue;
        const type = schema.getType(fragment.typeCondition.name.value);
        if (type && isCompositeType(type)) total += selectionCost(fragment.selectionSet, type, new Set([...fragmentsSeen, name]), sizedChildren);
      }
    }
    return total;
  };

  const base = operation.operation === 'mutation' ? MUTATION_BASE_COST * operation.selectionSet.selections.length : 0;
  // Deeply nested large lists can exceed a double: a cost is a finite number (metrics refuse Infinity).
  return Math.min(base + selectionCost(operation.selectionSet, root, new Set()), Number.MAX_SAFE_INTEGER);
}
