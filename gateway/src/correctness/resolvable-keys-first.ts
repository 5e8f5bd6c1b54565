import { Kind, parse, type DirectiveNode } from 'graphql';

/**
 * Pattern 3 of issue 15: when @apollo/gateway's planner re-enters a subgraph to resolve a
 * `@requires` field, it takes that subgraph's FIRST key of the type (`getLocallySatisfiableKey`
 * in @apollo/query-graphs), without looking at `resolvable`. A subgraph whose first key is
 * `resolvable: false` is then asked for entities by a key it cannot look up, and answers null.
 *
 * The order of a type's keys carries no meaning in federation, so we reorder them instead of
 * patching the planner: per subgraph, the supergraph's `@join__type` applications with a
 * resolvable key come before the `resolvable: false` ones. The planner extracts each
 * subgraph's keys in that order and picks a resolvable one. A supergraph with no such type is
 * returned as is, byte for byte (the shop's plans cannot change).
 */
export function resolvableKeysFirst(supergraphSdl: string): string {
  const edits: Array<{ start: number; end: number; text: string }> = [];
  for (const definition of parse(supergraphSdl).definitions) {
    if (!('directives' in definition) || !definition.directives) continue;
    const joins = definition.directives.filter((d) => d.name.value === 'join__type');
    for (const graph of new Set(joins.map(graphOf))) {
      const ofGraph = joins.filter((d) => graphOf(d) === graph);
      const reordered = [...ofGraph.filter((d) => !notResolvable(d)), ...ofGraph.filter(notResolvable)];
      reordered.forEach((directive, i) => {
        const slot = ofGraph[i]!;
        if (directive !== slot) edits.push({ start: slot.loc!.start, end: slot.loc!.end, text: supergraphSdl.slice(directive.loc!.start, directive.loc!.end) });
      });
    }
  }
  if (edits.length === 0) return supergraphSdl;
  let sdl = supergraphSdl;
  for (const edit of edits.sort((a, b) => b.start - a.start)) sdl = sdl.slice(0, edit.start) + edit.text + sdl.slice(edit.end);
  return sdl;
}

function graphOf(directive: DirectiveNode): string {
  const graph = directive.arguments?.find((a) => a.name.value === 'graph')?.value;
  return graph?.kind === Kind.ENUM ? graph.value : '';
}

function notResolvable(directive: DirectiveNode): boolean {
  const resolvable = directive.arguments?.find((a) => a.name.value === 'resolvable')?.value;
  return resolvable?.kind === Kind.BOOLEAN && !resolvable.value;
}
