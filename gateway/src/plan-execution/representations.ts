import type { QueryPlanSelectionNode } from '@apollo/query-planner';
import { createRequire } from 'node:module';
import type { GraphQLSchema } from 'graphql';
import { responseObject } from '../result-shaping/response-object.ts';
import { deepMerge } from './merge.ts';

const require = createRequire(import.meta.url);
const apollosRewrites = require('@apollo/gateway/dist/dataRewrites.js') as {
  isObjectOfType: (schema: GraphQLSchema, object: Data, typeCondition: string) => boolean;
};

type Data = Record<string, unknown>;
const hasOwn = (value: object, key: string) => Object.prototype.hasOwnProperty.call(value, key);

/**
 * Whether an object of `__typename` falls under `typeCondition`, as Apollo's `isObjectOfType`
 * answers it (no `__typename`: no), remembered per supergraph schema: a plan asks the same few
 * questions for every entity.
 */
const typeAnswers = new WeakMap<GraphQLSchema, Map<string, Map<string, boolean>>>();

export function isObjectOfType(schema: GraphQLSchema, object: Data, typeCondition: string): boolean {
  const typename = object.__typename;
  if (!typename || typeof typename !== 'string') return false;
  if (typename === typeCondition) return true;
  let byTypename = typeAnswers.get(schema);
  if (!byTypename) {
    byTypename = new Map();
    typeAnswers.set(schema, byTypename);
  }
  let answers = byTypename.get(typename);
  if (!answers) {
    answers = new Map();
    byTypename.set(typename, answers);
  }
  let answer = answers.get(typeCondition);
  if (answer === undefined) {
    answer = apollosRewrites.isObjectOfType(schema, { __typename: typename }, typeCondition);
    answers.set(typeCondition, answer);
  }
  return answer;
}

/**
 * Apollo's `executeSelectionSet`: the representation of an entity that a fetch's `requires`
 * selects (its key and required fields), or null when a field it needs is missing. A fragment
 * whose type does not match, or which misses a field, adds nothing.
 */
export function representationOf(schema: GraphQLSchema, source: unknown, selections: readonly QueryPlanSelectionNode[]): Data | null {
  if (source === null) return null;
  const object = source as Data;
  const result = responseObject();
  for (const selection of selections) {
    if (selection.kind === 'Field') {
      const responseName = selection.alias ?? selection.name;
      if (!hasOwn(object, responseName)) return null;
      const value = object[responseName];
      if (value === undefined) return null;
      const sub = selection.selections;
      if (Array.isArray(value)) {
        result[responseName] = sub ? value.map((element: unknown) => representationOf(schema, element, sub)) : value.slice();
      } else if (sub) {
        result[responseName] = representationOf(schema, value, sub);
      } else {
        result[responseName] = value;
      }
    } else {
      if (!selection.typeCondition || !source) continue;
      if (isObjectOfType(schema, object, selection.typeCondition)) deepMerge(result, representationOf(schema, object, selection.selections));
    }
  }
  return result;
}
