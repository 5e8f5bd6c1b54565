import { CriticalityLevel, diff, type Change } from '@graphql-inspector/core';
import { validate, type GraphQLSchema } from 'graphql';
import { apiSchemaFromSupergraph } from '@shop/gateway/persisted';
import type { ClientOperation } from './client-operations.ts';
import { concerns, parseDocument, schemaUse, type SchemaUse } from './usage.ts';

export type Level = 'breaking' | 'dangerous' | 'safe';

export interface ClassifiedChange {
  level: Level;
  message: string;
  /** Schema coordinate the change is at, when it has one. */
  path: string | null;
  reason: string | null;
  /**
   * Breaking changes: the client operations that use what changed (they fail the check).
   * Dangerous ones (an enum value added, a default changed): those that use the type or field, for information.
   */
  usedBy: ClientOperation[];
}

export interface BrokenOperation {
  operation: ClientOperation;
  /** Why it no longer validates against the new schema (empty when it validates but uses a breaking change). */
  errors: string[];
}

export interface DeprecatedUse {
  coordinate: string;
  reason: string;
  usedBy: ClientOperation[];
}

export interface CheckResult {
  changes: ClassifiedChange[];
  /** Operations valid against the base schema that a breaking change concerns or that no longer validate. */
  broken: BrokenOperation[];
  deprecated: DeprecatedUse[];
  /** Operations that were already invalid against the base schema (not this change's doing). */
  alreadyInvalid: number;
}

const LEVELS: Record<CriticalityLevel, Level> = {
  [CriticalityLevel.Breaking]: 'breaking',
  [CriticalityLevel.Dangerous]: 'dangerous',
  [CriticalityLevel.NonBreaking]: 'safe',
};

/**
 * Compares the API schemas (what clients see, without federation's machinery) of two supergraphs,
 * classifies every change with graphql-inspector's criticality, and names the client operations
 * each breaking change breaks: those that use what changed, and any that no longer validate.
 */
export async function checkSchemaChange(baseSupergraph: string, newSupergraph: string, operations: readonly ClientOperation[]): Promise<CheckResult> {
  const before = apiSchemaFromSupergraph(baseSupergraph);
  const after = apiSchemaFromSupergraph(newSupergraph);
  const changes: Change[] = await diff(before, after);

  const uses = new Map<ClientOperation, SchemaUse>();
  const broken = new Map<ClientOperation, string[]>();
  let alreadyInvalid = 0;
  for (const operation of operations) {
    const document = parseDocument(operation.document);
    if (!document || validate(before, document).length > 0) {
      alreadyInvalid += 1;
      continue;
    }
    uses.set(operation, schemaUse(before, document));
    const errors = validate(after, document).map((e) => e.message);
    if (errors.length > 0) broken.set(operation, errors);
  }

  const classified = changes.map((change): ClassifiedChange => {
    const level = LEVELS[change.criticality.level];
    const path = change.path ?? null;
    const affects = (use: SchemaUse) =>
      path !== null && (level === 'breaking' ? concerns(use, path) : level === 'dangerous' && (concerns(use, path) || use.coordinates.has(path.split('.')[0]!)));
    const usedBy = [...uses].filter(([, use]) => affects(use)).map(([operation]) => operation);
    if (level === 'breaking') for (const operation of usedBy) if (!broken.has(operation)) broken.set(operation, []);
    return { level, message: change.message, path, reason: change.criticality.reason ?? null, usedBy };
  });

  return {
    changes: classified,
    broken: [...broken].map(([operation, errors]) => ({ operation, errors })),
    deprecated: deprecatedUses(after, operations),
    alreadyInvalid,
  };
}

/** `@deprecated` fields, arguments and enum values of the new schema that operations still use. */
function deprecatedUses(schema: GraphQLSchema, operations: readonly ClientOperation[]): DeprecatedUse[] {
  const found = new Map<string, DeprecatedUse>();
  for (const operation of operations) {
    const document = parseDocument(operation.document);
    if (!document) continue;
    for (const [coordinate, reason] of schemaUse(schema, document).deprecated) {
      const entry = found.get(coordinate) ?? found.set(coordinate, { coordinate, reason, usedBy: [] }).get(coordinate)!;
      entry.usedBy.push(operation);
    }
  }
  return [...found.values()].sort((a, b) => a.coordinate.localeCompare(b.coordinate));
}
