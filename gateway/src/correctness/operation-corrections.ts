import { createHash } from 'node:crypto';
import {
  GraphQLError,
  Kind,
  TypeInfo,
  isAbstractType,
  isObjectType,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type FieldNode,
  type GraphQLCompositeType,
  type GraphQLObjectType,
  type GraphQLSchema,
  type InlineFragmentNode,
} from 'graphql';
import { argumentsKey, type RequiresConflict, type RequiresIndex } from './requires-index.ts';

/** What the correctness stage does with one operation; worked out once per document and cached. */
export type Correction =
  /** Nothing the planner gets wrong: the document goes to Apollo as it is. */
  | { kind: 'unchanged' }
  /** Client fields renamed out of the planner's way; `aliases` maps each new response name back to the client's. */
  | { kind: 'rewritten'; document: DocumentNode; aliases: ReadonlyMap<string, string> }
  /** The planner would answer wrongly without saying so: refused with these errors instead (`data: null`). */
  | { kind: 'refused'; errors: GraphQLError[] };

export interface SupergraphFacts {
  /** The API schema the operations were validated against. */
  schema: GraphQLSchema;
  requires: RequiresIndex;
  conflicts: readonly RequiresConflict[];
}

export const QUERY_PLANNING_FAILED = 'QUERY_PLANNING_FAILED';

/**
 * Corrects an operation for the federation patterns @apollo/gateway's planner answers wrongly
 * (issue 15):
 *
 * - pattern 1: a client field with the same response name as a field some `@requires` of its
 *   type selects, with other arguments, is merged into the required one by the planner (it keys
 *   fields by response name): the client's is given an alias of its own, removed again from the
 *   answer;
 * - pattern 2: two selected fields whose `@requires` need one field with different arguments
 *   are refused, naming both (the planner would hand one variant to both);
 * - pattern 4: a field of an abstract type with no implementation in the supergraph is refused
 *   (the planner drops that branch and answers null with no error).
 */
export function correctOperation(facts: SupergraphFacts, fullDocument: DocumentNode, operationName?: string | null): Correction {
  // Only what runs, with its fragments inlined: another operation of the document, or a fragment it does not spread,
  // must not get this one refused, and a field met through a fragment is seen where the planner merges it.
  const document = executedOperation(fullDocument, operationName);
  const typeInfo = new TypeInfo(facts.schema);
  const aliases = new Map<string, string>();
  const usedNames = responseNamesIn(document);
  const selected = new Map<string, Set<string>>();
  const errors: GraphQLError[] = [];
  // Per enclosing field: the required fields the planner merges with its sub-selection (a @requires field set's
  // nested selections), so a collision two levels down is found too.
  const nestedRequired: Array<readonly FieldNode[]> = [];

  const rewritten = visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field: {
        enter(node) {
          const parent = typeInfo.getParentType();
          const inScope = nestedRequired.at(-1) ?? [];
          if (!parent || node.name.value.startsWith('__')) {
            nestedRequired.push([]);
            return undefined;
          }
          const candidates = objectTypesOf(facts.schema, parent);
          if (candidates.length === 0 && isAbstractType(parent)) {
            errors.push(
              planningError(
                `Cannot plan ${parent.name}.${node.name.value}: ${parent.name} has no implementation in the supergraph, so no subgraph can answer it (the planner would drop it or leave it to a subgraph that cannot resolve it, answering null).`,
                { reason: 'no-implementation', coordinate: `${parent.name}.${node.name.value}` },
              ),
            );
            nestedRequired.push([]);
            return undefined;
          }
          for (const type of candidates) {
            const names = selected.get(type.name) ?? new Set<string>();
            names.add(node.name.value);
            selected.set(type.name, names);
          }
          const required = [...inScope, ...requiredFieldsOf(facts.requires, parent, candidates)].filter(
            (r) => (r.alias ?? r.name).value === (node.alias ?? node.name).value,
          );
          const merged = required.filter((r) => r.name.value === node.name.value && argumentsKey(r.arguments) === argumentsKey(node.arguments));
          if (merged.length === required.length) {
            nestedRequired.push(merged.flatMap((r) => r.selectionSet?.selections.filter((s): s is FieldNode => s.kind === Kind.FIELD) ?? []));
            return undefined;
          }
          // Merged by response name with a required field of other arguments: the client's gets a name of its own.
          nestedRequired.push([]);
          const alias = aliasFor(node, usedNames);
          aliases.set(alias, (node.alias ?? node.name).value);
          return { ...node, alias: { kind: Kind.NAME, value: alias } } satisfies FieldNode;
        },
        leave() {
          nestedRequired.pop();
        },
      },
    }),
  );

  for (const conflict of facts.conflicts) {
    const names = selected.get(conflict.type);
    if (!names?.has(conflict.fields[0]) || !names.has(conflict.fields[1])) continue;
    const [a, b] = conflict.fields.map((f) => `${conflict.type}.${f}`);
    errors.push(
      planningError(
        `Cannot plan ${a} and ${b} together: they require ${conflict.type}.${conflict.required} with different arguments (${conflict.variants[0]} and ${conflict.variants[1]}), and the planner would fetch one of them for both. Ask for them in separate operations.`,
        { reason: 'requires-argument-conflict', fields: [a, b] },
      ),
    );
  }
  if (errors.length > 0) return { kind: 'refused', errors };
  return aliases.size > 0 ? { kind: 'rewritten', document: rewritten, aliases } : { kind: 'unchanged' };
}

/** The operation that runs, its fragment spreads replaced by inline fragments (what they mean). */
function executedOperation(document: DocumentNode, operationName: string | null | undefined): DocumentNode {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations.length === 1 ? operations[0] : undefined;
  if (!operation) return document;
  const fragments = new Map(document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]));
  const inlined = visit(operation, {
    // visit() goes on into the node returned, so spreads within fragments are inlined too (validation ruled out cycles).
    FragmentSpread(spread): InlineFragmentNode | undefined {
      const fragment = fragments.get(spread.name.value);
      if (!fragment) return undefined;
      return { kind: Kind.INLINE_FRAGMENT, typeCondition: fragment.typeCondition, directives: spread.directives ?? [], selectionSet: fragment.selectionSet };
    },
  });
  return { kind: Kind.DOCUMENT, definitions: [inlined] };
}

/** The top-level fields of every @requires of the types a selection on `parent` can meet (an interface's own too: @interfaceObject). */
function requiredFieldsOf(index: RequiresIndex, parent: GraphQLCompositeType, types: readonly GraphQLObjectType[]): FieldNode[] {
  const names = new Set([parent.name, ...types.map((t) => t.name)]);
  return [...names].flatMap((name) => index.get(name)?.flatMap((r) => r.requires) ?? []);
}

/** The object types a selection on `parent` can meet at run time. */
function objectTypesOf(schema: GraphQLSchema, parent: GraphQLCompositeType): readonly GraphQLObjectType[] {
  if (isObjectType(parent)) return [parent];
  return isAbstractType(parent) ? schema.getPossibleTypes(parent) : [];
}

/**
 * One alias per field, arguments and response name, so the same field spread from two fragments gets the same
 * alias and the two still merge. Unlike any name in the document.
 */
function aliasFor(field: FieldNode, used: Set<string>): string {
  const digest = createHash('sha256').update(`${(field.alias ?? field.name).value}:${field.name.value}(${argumentsKey(field.arguments)})`).digest('hex');
  let length = 8;
  let alias = `${field.name.value}_args_${digest.slice(0, length)}`;
  while (used.has(alias)) alias = `${field.name.value}_args_${digest.slice(0, ++length)}`;
  return alias;
}

function responseNamesIn(document: DocumentNode): Set<string> {
  const names = new Set<string>();
  visit(document, {
    Field(node) {
      names.add(node.name.value);
      if (node.alias) names.add(node.alias.value);
    },
  });
  return names;
}

function planningError(message: string, extensions: Record<string, unknown>): GraphQLError {
  return new GraphQLError(message, { extensions: { code: QUERY_PLANNING_FAILED, ...extensions } });
}


