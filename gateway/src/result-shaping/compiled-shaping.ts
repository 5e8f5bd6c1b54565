import { createRequire } from 'node:module';
import type { Operation, Schema } from '@apollo/federation-internals';
import type { GraphQLError } from 'graphql';
import { responseObject } from './response-object.ts';

const require = createRequire(import.meta.url);
// Resolved once: the package re-exports through getters, which were 4% of the gateway's CPU when
// called per value (by the bench's profile).
const internals = require('@apollo/federation-internals') as typeof import('@apollo/federation-internals');
const { isCompositeType, isObjectType, isSubtype, isValidLeafValue, ERRORS, typenameFieldName, Variable } = internals;

// Apollo's own assertion (its messages and error class), typed so TypeScript narrows after it.
const assert: (condition: unknown, message: string | (() => string)) => asserts condition = internals.assert;

/* eslint-disable @typescript-eslint/no-explicit-any -- federation-internals' type and directive classes are generic over their parents; these nodes hold them as they come */
type AnyType = any;
type AnyCondition = boolean | InstanceType<typeof Variable> | undefined;

/** A @skip/@include of a selection, as Apollo's result shaping reads it (the first of each). */
interface Skip {
  skip: AnyCondition;
  include: AnyCondition;
}

type CompiledSelection =
  | {
      kind: 'field';
      skip: Skip | null;
      responseName: string;
      isTypename: boolean;
      type: AnyType;
      sub: CompiledSelection[] | null;
    }
  | {
      kind: 'fragment';
      skip: Skip | null;
      typeCondition: AnyType | undefined;
      /** isSubtype(typeCondition, type) per runtime type name, as asked. */
      applies: Map<string, boolean>;
      sub: CompiledSelection[];
    };

/** An operation's result shaping worked out once: what Apollo's computeResponse reads of the operation on every value. */
export interface CompiledShaping {
  schema: Schema;
  root: CompiledSelection[];
  rootType: AnyType;
  defaultedVariables: Record<string, unknown>;
  hasConditions: boolean;
}

/** Null when the operation asks for introspection (`__schema`, `__type`): Apollo's shaping answers those. */
export function compileShaping(operation: Operation): CompiledShaping | null {
  const schema = operation.schema();
  let hasConditions = false;
  let introspection = false;
  const skipDirective = schema.skipDirective();
  const includeDirective = schema.includeDirective();
  const skipOf = (element: any): Skip | null => {
    const skip = element.appliedDirectivesOf(skipDirective)[0]?.arguments().if as AnyCondition;
    const include = element.appliedDirectivesOf(includeDirective)[0]?.arguments().if as AnyCondition;
    if (skip === undefined && include === undefined) return null;
    hasConditions = true;
    return { skip, include };
  };
  const compile = (selectionSet: any): CompiledSelection[] =>
    (selectionSet.selections() as any[]).map((selection): CompiledSelection => {
      if (selection.kind === 'FieldSelection') {
        const field = selection.element;
        if (field.definition.isSchemaIntrospectionField()) introspection = true;
        return {
          kind: 'field',
          skip: skipOf(field),
          responseName: field.responseName(),
          isTypename: field.name === typenameFieldName,
          type: field.definition.type,
          sub: selection.selectionSet ? compile(selection.selectionSet) : null,
        };
      }
      return { kind: 'fragment', skip: skipOf(selection.element), typeCondition: selection.element.typeCondition, applies: new Map(), sub: compile(selection.selectionSet) };
    });
  const root = compile(operation.selectionSet);
  if (introspection) return null;
  return {
    schema,
    root,
    rootType: schema.schemaDefinition.rootType(operation.rootKind),
    defaultedVariables: operation.collectDefaultedVariableValues(),
    hasConditions,
  };
}

interface Run {
  schema: Schema;
  variables: Record<string, unknown>;
  errors: GraphQLError[];
  types: Map<string, AnyType | undefined>;
}

const NULL_BUBBLE_UP = 1;
const OK = 0;

/**
 * Apollo's computeResponse (resultShaping.js of @apollo/gateway 2.14.4) over a compiled
 * operation: the same walk, the same output (objects without inherited properties, fields in selection
 * order, a null bubbled up to the nearest nullable field with the same errors at the same paths),
 * without looking the operation's directives, types and names up again at every value.
 * RESULT_SHAPING=verify runs Apollo's beside it and fails on any difference.
 */
export function shapeResponse(compiled: CompiledShaping, variables: Record<string, unknown> | undefined, input: unknown): { data: unknown; errors: GraphQLError[] } {
  if (!input) return { data: input, errors: [] };
  const run: Run = {
    schema: compiled.schema,
    variables: compiled.hasConditions ? { __proto__: null, ...compiled.defaultedVariables, ...variables } : {},
    errors: [],
    types: typeCache(compiled.schema),
  };
  const data = responseObject();
  const result = applySelectionSet(run, input as Record<string, unknown>, compiled.root, data, [], compiled.rootType);
  return { data: result === NULL_BUBBLE_UP ? null : data, errors: run.errors };
}

const typeCaches = new WeakMap<Schema, Map<string, AnyType | undefined>>();
function typeCache(schema: Schema): Map<string, AnyType | undefined> {
  let types = typeCaches.get(schema);
  if (!types) {
    types = new Map();
    typeCaches.set(schema, types);
  }
  return types;
}
function typeNamed(run: Run, name: string): AnyType | undefined {
  if (run.types.has(name)) return run.types.get(name);
  const type = run.schema.type(name);
  run.types.set(name, type);
  return type;
}

function skipped(skip: Skip | null, run: Run): boolean {
  if (!skip) return false;
  return Boolean((skip.skip !== undefined && ifValue(skip.skip, run)) || (skip.include !== undefined && !ifValue(skip.include, run)));
}
function ifValue(condition: AnyCondition, run: Run): boolean {
  if (condition instanceof Variable) {
    const value = run.variables[condition.name];
    assert(value !== undefined && typeof value === 'boolean', () => `Unexpected value ${String(value)} for variable ${String(condition)}`);
    return value;
  }
  return condition as boolean;
}

function applySelectionSet(
  run: Run,
  input: Record<string, unknown>,
  selections: CompiledSelection[],
  output: Record<string, unknown>,
  path: Array<string | number>,
  parentType: AnyType,
): number {
  for (const selection of selections) {
    if (selection.skip && skipped(selection.skip, run)) continue;
    if (selection.kind === 'field') {
      const { responseName } = selection;
      const outputValue = output[responseName];
      let inputValue: unknown = Object.prototype.hasOwnProperty.call(input, responseName) ? (input[responseName] ?? null) : null;
      if (selection.isTypename) {
        if (outputValue === undefined) {
          if (inputValue === null && responseName !== typenameFieldName) inputValue = input[typenameFieldName] ?? null;
          const type = inputValue !== null && typeof inputValue === 'string' ? (typeNamed(run, inputValue) ?? parentType) : parentType;
          if (!isObjectType(type)) return NULL_BUBBLE_UP;
          output[responseName] = type.name;
        }
        continue;
      }
      path.push(responseName);
      const updated = updateOutputValue(run, outputValue, selection.type, inputValue, selection.sub, path, parentType);
      output[responseName] = updated;
      path.pop();
      if (invalid) return NULL_BUBBLE_UP;
    } else {
      const typename = input[typenameFieldName];
      assert(!typename || typeof typename === 'string', () => `Got unexpected value for __typename: ${String(typename)}`);
      if (conditionApplies(run, selection, typename as string | undefined, parentType)) {
        const result = applySelectionSet(run, input, selection.sub, output, path, selection.typeCondition ?? parentType);
        if (result === NULL_BUBBLE_UP) return NULL_BUBBLE_UP;
      }
    }
  }
  return OK;
}

function conditionApplies(run: Run, fragment: Extract<CompiledSelection, { kind: 'fragment' }>, typename: string | undefined, parentType: AnyType): boolean {
  const { typeCondition } = fragment;
  if (!typeCondition) return true;
  if (typename) {
    let applies = fragment.applies.get(typename);
    if (applies === undefined) {
      const type = typeNamed(run, typename);
      applies = !!type && isSubtype(typeCondition, type);
      fragment.applies.set(typename, applies);
    }
    return applies;
  }
  return isSubtype(typeCondition, parentType);
}

function describeLast(path: Array<string | number>, currentType: AnyType, parentType: AnyType): string {
  const element = path[path.length - 1];
  assert(element !== undefined, 'Should not have been called on an empty path');
  return typeof element === 'string' ? `field ${String(parentType)}.${element}` : `array element of type ${String(currentType)} at index ${element}`;
}

// What the last updateOutputValue call found besides its value (Apollo returns them in an object per value).
let invalid = false;
let hasErrors = false;

function updateOutputValue(
  run: Run,
  outputValue: unknown,
  type: AnyType,
  inputValue: unknown,
  sub: CompiledSelection[] | null,
  path: Array<string | number>,
  parentType: AnyType,
): unknown {
  assert(inputValue !== undefined, 'Should not pass undefined for `inputValue` to this method');
  if (outputValue === null || (outputValue !== undefined && !sub)) {
    invalid = false;
    hasErrors = false;
    return outputValue;
  }
  switch (type.kind) {
    case 'NonNullType': {
      const updated = updateOutputValue(run, outputValue, type.ofType, inputValue, sub, path, parentType);
      if (updated === null) {
        if (!hasErrors) {
          run.errors.push(ERRORS.INVALID_GRAPHQL.err(`Cannot return null for non-nullable ${describeLast(path, type.ofType, parentType)}.`, { path: Array.from(path) }));
        }
        invalid = true;
        hasErrors = true;
        return updated;
      }
      invalid = false;
      hasErrors = false;
      return updated;
    }
  }
  if (inputValue === null) {
    invalid = false;
    hasErrors = false;
    return null;
  }
  if (type.kind === 'ListType') {
    assert(Array.isArray(inputValue), () => `Invalid non-list value ${String(inputValue)} returned by subgraph for list type ${String(type)}`);
    assert(outputValue === undefined || Array.isArray(outputValue), () => `Invalid non-list value ${String(outputValue)} returned by subgraph for list type ${String(type)}`);
    const outputList = outputValue === undefined ? new Array<unknown>(inputValue.length).fill(undefined) : (outputValue as unknown[]);
    assert(inputValue.length === outputList.length, () => `[${String(inputValue)}].length (${inputValue.length}) !== [${String(outputList)}].length (${outputList.length})`);
    let shouldNullify = false;
    let listHasErrors = false;
    const updated = new Array<unknown>(outputList.length);
    for (let index = 0; index < outputList.length; index++) {
      path.push(index);
      updated[index] = updateOutputValue(run, outputList[index], type.ofType, inputValue[index], sub, path, parentType);
      path.pop();
      shouldNullify ||= invalid;
      listHasErrors ||= hasErrors;
    }
    invalid = false;
    hasErrors = listHasErrors;
    return shouldNullify ? null : updated;
  }
  if (isCompositeType(type)) {
    assert(sub, () => `Invalid empty selection set for composite type ${String(type)}`);
    assert(typeof inputValue === 'object', () => `Invalid non-object value ${String(inputValue)} returned by subgraph for composite type ${String(type)}`);
    assert(outputValue === undefined || typeof outputValue === 'object', () => `Invalid non-object value ${String(inputValue)} returned by subgraph for composite type ${String(type)}`);
    const value = inputValue as Record<string, unknown>;
    const inputTypename = value[typenameFieldName];
    assert(inputTypename === undefined || typeof inputTypename === 'string', () => `Invalid non-string value ${String(inputTypename)} for __typename at ${String(path)}`);
    let objectType = type;
    if (inputTypename) {
      const typenameType = typeNamed(run, inputTypename);
      if (!typenameType || !isCompositeType(typenameType)) {
        run.errors.push(ERRORS.INVALID_GRAPHQL.err(`Invalid __typename found for object at ${describeLast(path, type, parentType)}.`, { path: Array.from(path) }));
        invalid = false;
        hasErrors = true;
        return null;
      }
      objectType = typenameType;
    }
    const outputObject = outputValue === undefined ? responseObject() : (outputValue as Record<string, unknown>);
    const result = applySelectionSet(run, value, sub, outputObject, path, objectType);
    invalid = false;
    hasErrors = result === NULL_BUBBLE_UP;
    return hasErrors ? null : outputObject;
  }
  assert(outputValue === undefined, () => `Excepted output to be undefined but got ${String(type)} for type ${String(type)}`);
  const valid = isValidLeafValue(run.schema, inputValue, type);
  if (!valid) {
    run.errors.push(ERRORS.INVALID_GRAPHQL.err(`Invalid value found for ${describeLast(path, type, parentType)}.`, { path: Array.from(path) }));
  }
  invalid = false;
  hasErrors = !valid;
  return valid ? inputValue : null;
}
