import { Kind, parse, print, type ArgumentNode, type DirectiveNode, type FieldNode } from 'graphql';

/** A field computed by a subgraph from other fields of its type (`@requires`), and the top-level fields it requires. */
export interface Requirement {
  /** The computed field, e.g. `author`. */
  field: string;
  /** The fields of its `@requires` selection, e.g. `comments(limit: 3) { authorId }`. */
  requires: readonly FieldNode[];
}

/** Type name → its `@requires` fields, read once per supergraph load. */
export type RequiresIndex = ReadonlyMap<string, readonly Requirement[]>;

/** The `@requires` of every type in a supergraph, from its `@join__field(requires: ...)`. */
export function requiresIndex(supergraphSdl: string): RequiresIndex {
  const index = new Map<string, Requirement[]>();
  for (const definition of parse(supergraphSdl).definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION && definition.kind !== Kind.INTERFACE_TYPE_DEFINITION) continue;
    for (const field of definition.fields ?? []) {
      for (const join of field.directives?.filter((d) => d.name.value === 'join__field') ?? []) {
        const fieldSet = stringArgument(join, 'requires');
        if (fieldSet === null) continue;
        const requires = fieldsOf(fieldSet);
        const list = index.get(definition.name.value) ?? [];
        list.push({ field: field.name.value, requires });
        index.set(definition.name.value, list);
      }
    }
  }
  return index;
}

/** A field set as the fields it selects at its top level. */
function fieldsOf(fieldSet: string): FieldNode[] {
  const [operation] = parse(`{ ${fieldSet} }`).definitions;
  if (operation?.kind !== Kind.OPERATION_DEFINITION) return [];
  return operation.selectionSet.selections.filter((s): s is FieldNode => s.kind === Kind.FIELD);
}

function stringArgument(directive: DirectiveNode, name: string): string | null {
  const value = directive.arguments?.find((a) => a.name.value === name)?.value;
  return value?.kind === Kind.STRING ? value.value : null;
}

/** The arguments of a field selection, order-insensitive: two selections with the same key fetch the same values. */
export function argumentsKey(args: readonly ArgumentNode[] | undefined): string {
  return (args ?? [])
    .map((a) => `${a.name.value}:${print(a.value)}`)
    .sort()
    .join(',');
}

/**
 * Pattern 2 of issue 15: two computed fields of one type that require the same field with
 * different arguments. The planner fetches one variant and hands it to both (it keys required
 * fields by name), so selecting both together is answered wrongly.
 */
export interface RequiresConflict {
  type: string;
  fields: readonly [string, string];
  /** The required field and its two variants as written, e.g. `price(currency: "USD")`. */
  required: string;
  variants: readonly [string, string];
}

export function requiresConflicts(index: RequiresIndex): RequiresConflict[] {
  const conflicts: RequiresConflict[] = [];
  for (const [type, requirements] of index) {
    requirements.forEach((a, i) => {
      for (const b of requirements.slice(i + 1)) {
        for (const fa of a.requires) {
          const fb = b.requires.find((f) => f.name.value === fa.name.value && argumentsKey(f.arguments) !== argumentsKey(fa.arguments));
          if (fb) conflicts.push({ type, fields: [a.field, b.field], required: fa.name.value, variants: [printHead(fa), printHead(fb)] });
        }
      }
    });
  }
  return conflicts;
}

/** `price(currency: "USD")`, without the sub-selection. */
const printHead = (field: FieldNode) => print({ ...field, selectionSet: undefined });
