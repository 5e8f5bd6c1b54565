import { LRUCache } from 'lru-cache';
import {
  Kind,
  parse,
  print,
  visit,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type VariableDefinitionNode,
} from 'graphql';

/** One fetch operation's part of a merged operation. */
export interface MergedPart {
  /** Put before its root fields' response names, its variables and its fragments: `_<index>_`. */
  prefix: string;
  /** Its root fields' response names, as the fetch asked for them. */
  rootKeys: string[];
}

/** Several query operations to one subgraph as one: the parts side by side, each under its prefix. */
export interface MergedOperation {
  query: string;
  operationName: string;
  document: DocumentNode;
  parts: MergedPart[];
}

/** Plans are cached, so fetch operations (and the sets of them one wave sends together) are few. */
const CACHE_SIZE = 2000;
const documents = new LRUCache<string, DocumentNode>({ max: CACHE_SIZE });
const merged = new LRUCache<string, MergedOperation | 'unmergeable'>({ max: CACHE_SIZE });

/** A fetch operation parsed once (the planner gives text only: exposeDocumentNodeInFetchNode is off). */
export function documentOf(query: string): DocumentNode {
  let document = documents.get(query);
  if (!document) {
    document = parse(query, { noLocation: true });
    documents.set(query, document);
  }
  return document;
}

export const prefixOf = (index: number) => `_${index}_`;

/** The part index of a merged response name, `_3_users` → 3; undefined for a name no part has. */
export function partIndexOf(responseName: unknown): number | undefined {
  if (typeof responseName !== 'string') return undefined;
  const match = /^_(\d+)_/.exec(responseName);
  return match ? Number(match[1]) : undefined;
}

/**
 * The operations as one query: each one's root fields aliased `_<i>_<response name>`, its
 * variables `$_<i>_<name>` and its fragments `_<i>_<name>`, so different selections never meet
 * (the same field with other arguments or sub-selections stays apart). Null when one of them
 * cannot be merged: not a query, directives on the operation, or something other than fields at
 * its root. Built once per set of operations.
 */
export function mergeOperations(queries: readonly string[], operationName: string): MergedOperation | null {
  const key = `${operationName}\u0000${queries.join('\u0000')}`;
  const cached = merged.get(key);
  if (cached) return cached === 'unmergeable' ? null : cached;
  const built = build(queries, operationName);
  merged.set(key, built ?? 'unmergeable');
  return built;
}

function build(queries: readonly string[], operationName: string): MergedOperation | null {
  const variableDefinitions: VariableDefinitionNode[] = [];
  const fields: FieldNode[] = [];
  const fragments: FragmentDefinitionNode[] = [];
  const parts: MergedPart[] = [];
  for (const [index, query] of queries.entries()) {
    const prefix = prefixOf(index);
    const document = documentOf(query);
    const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
    const operation = operations[0];
    if (operations.length !== 1 || !operation || operation.operation !== 'query' || operation.directives?.length) return null;
    if (!operation.selectionSet.selections.every((s) => s.kind === Kind.FIELD)) return null;
    const renamed = visit(document, {
      Variable: (node) => ({ ...node, name: { ...node.name, value: prefix + node.name.value } }),
      FragmentSpread: (node) => ({ ...node, name: { ...node.name, value: prefix + node.name.value } }),
      FragmentDefinition: (node) => ({ ...node, name: { ...node.name, value: prefix + node.name.value } }),
    });
    const rootKeys: string[] = [];
    for (const definition of renamed.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.push(definition);
      if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
      variableDefinitions.push(...(definition.variableDefinitions ?? []));
      for (const selection of definition.selectionSet.selections as readonly FieldNode[]) {
        const responseName = selection.alias?.value ?? selection.name.value;
        rootKeys.push(responseName);
        fields.push({ ...selection, alias: { kind: Kind.NAME, value: prefix + responseName } });
      }
    }
    parts.push({ prefix, rootKeys });
  }
  const document: DocumentNode = {
    kind: Kind.DOCUMENT,
    definitions: [
      {
        kind: Kind.OPERATION_DEFINITION,
        operation: 'query' as OperationDefinitionNode['operation'],
        name: { kind: Kind.NAME, value: operationName },
        variableDefinitions,
        directives: [],
        selectionSet: { kind: Kind.SELECTION_SET, selections: fields },
      },
      ...fragments,
    ],
  };
  return { query: print(document), operationName, document, parts };
}
