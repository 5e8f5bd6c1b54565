import { GraphQLError, Kind, type DocumentNode, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql';

/**
 * Limits on an operation's shape, checked before validation, planning or any subgraph call.
 * Each has its own stable error code so clients can tell them apart (graphql-armor offers
 * similar validation rules, but reports them all as BAD_USER_INPUT, and Apollo Server
 * replaces any validation rule's code with GRAPHQL_VALIDATION_FAILED).
 */
export interface ShapeLimits {
  maxDepth: number;
  maxAliases: number;
  maxRootFields: number;
  maxDirectives: number;
}

function limitError(code: string, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code, http: { status: 400 } } });
}

/** Walks one operation with its fragments inlined; a fragment cycle (itself invalid) is cut off. */
function measure(
  selectionSet: SelectionSetNode,
  fragments: Map<string, FragmentDefinitionNode>,
  visiting: Set<string>,
  depth: number,
  totals: { maxDepth: number; aliases: number; directives: number },
  budget: ShapeLimits,
): void {
  totals.maxDepth = Math.max(totals.maxDepth, depth);
  // Stop early: a 10,000-alias or 500-deep document must not cost a full walk.
  if (totals.maxDepth > budget.maxDepth || totals.aliases > budget.maxAliases || totals.directives > budget.maxDirectives) return;
  for (const selection of selectionSet.selections) {
    totals.directives += selection.directives?.length ?? 0;
    if (selection.kind === Kind.FIELD) {
      if (selection.alias) totals.aliases += 1;
      if (selection.selectionSet) measure(selection.selectionSet, fragments, visiting, depth + 1, totals, budget);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      measure(selection.selectionSet, fragments, visiting, depth, totals, budget);
    } else {
      const fragment = fragments.get(selection.name.value);
      if (!fragment || visiting.has(fragment.name.value)) continue;
      visiting.add(fragment.name.value);
      measure(fragment.selectionSet, fragments, visiting, depth, totals, budget);
      visiting.delete(fragment.name.value);
    }
  }
}

function rootFieldCount(selectionSet: SelectionSetNode, fragments: Map<string, FragmentDefinitionNode>, seen: Set<string>): number {
  let count = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) count += selection.name.value === '__typename' ? 0 : 1;
    else if (selection.kind === Kind.INLINE_FRAGMENT) count += rootFieldCount(selection.selectionSet, fragments, seen);
    else {
      const fragment = fragments.get(selection.name.value);
      if (fragment && !seen.has(fragment.name.value)) count += rootFieldCount(fragment.selectionSet, fragments, new Set([...seen, fragment.name.value]));
    }
  }
  return count;
}

/**
 * Checks every operation of a parsed document against the limits; returns the first
 * violation. Run before validation: validating a 10,000-alias document is itself the attack.
 */
export function checkDocumentShape(document: DocumentNode, limits: ShapeLimits): GraphQLError | null {
  const fragments = new Map(
    document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((f) => [f.name.value, f]),
  );
  for (const operation of document.definitions) {
    if (operation.kind !== Kind.OPERATION_DEFINITION) continue;
    const totals = { maxDepth: 0, aliases: 0, directives: operation.directives?.length ?? 0 };
    measure(operation.selectionSet, fragments, new Set(), 1, totals, limits);
    const name = operation.name ? `Operation "${operation.name.value}"` : 'The operation';
    if (totals.maxDepth > limits.maxDepth) {
      return limitError('MAX_DEPTH_EXCEEDED', `${name} is nested more than ${limits.maxDepth} levels deep.`);
    }
    if (totals.aliases > limits.maxAliases) {
      return limitError('MAX_ALIASES_EXCEEDED', `${name} uses more than ${limits.maxAliases} aliases.`);
    }
    if (totals.directives > limits.maxDirectives) {
      return limitError('MAX_DIRECTIVES_EXCEEDED', `${name} uses more than ${limits.maxDirectives} directives.`);
    }
    const roots = rootFieldCount(operation.selectionSet, fragments, new Set());
    if (roots > limits.maxRootFields) {
      return limitError('MAX_ROOT_FIELDS_EXCEEDED', `${name} selects ${roots} root fields; at most ${limits.maxRootFields} are allowed.`);
    }
  }
  return null;
}
