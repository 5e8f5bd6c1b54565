import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  Kind,
  parse,
  TypeInfo,
  typeFromAST,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type GraphQLSchema,
} from 'graphql';

/** What a document uses of a schema, by schema coordinate (`Product.name`, `Query.products.category`, `Category.BOOKS`). */
export interface SchemaUse {
  /** Fields, arguments and enum values. */
  coordinates: Set<string>;
  /** Input object types the document sends (as variables or literals): a change to any of their fields concerns it. */
  inputTypes: Set<string>;
  /** Fields, arguments and enum values it uses that the schema deprecates, with the reason. */
  deprecated: Map<string, string>;
}

export function parseDocument(source: string): DocumentNode | null {
  try {
    return parse(source);
  } catch {
    return null;
  }
}

/** Walks `document` with the schema's types; parts of it the schema does not know are skipped. */
export function schemaUse(schema: GraphQLSchema, document: DocumentNode): SchemaUse {
  const use: SchemaUse = { coordinates: new Set(), inputTypes: new Set(), deprecated: new Map() };
  const typeInfo = new TypeInfo(schema);
  const addInput = (type: ReturnType<TypeInfo['getInputType']>) => {
    const named = type && getNamedType(type);
    if (named && isInputObjectType(named)) use.inputTypes.add(named.name);
  };
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field() {
        const parent = typeInfo.getParentType();
        const field = typeInfo.getFieldDef();
        if (!parent || !field) return;
        const coordinate = `${parent.name}.${field.name}`;
        use.coordinates.add(coordinate);
        use.coordinates.add(getNamedType(field.type).name);
        if (field.deprecationReason) use.deprecated.set(coordinate, field.deprecationReason);
      },
      Argument() {
        const parent = typeInfo.getParentType();
        const field = typeInfo.getFieldDef();
        const argument = typeInfo.getArgument();
        if (!parent || !field || !argument) return;
        const coordinate = `${parent.name}.${field.name}.${argument.name}`;
        use.coordinates.add(coordinate);
        addInput(argument.type);
        if (argument.deprecationReason) use.deprecated.set(coordinate, argument.deprecationReason);
      },
      ObjectField() {
        addInput(typeInfo.getParentInputType());
      },
      EnumValue(node) {
        const type = typeInfo.getInputType();
        const named = type && getNamedType(type);
        if (!named || !isEnumType(named)) return;
        const coordinate = `${named.name}.${node.value}`;
        use.coordinates.add(coordinate);
        const value = named.getValue(node.value);
        if (value?.deprecationReason) use.deprecated.set(coordinate, value.deprecationReason);
      },
      VariableDefinition(node) {
        if (node.type.kind === Kind.NAMED_TYPE || node.type.kind === Kind.LIST_TYPE || node.type.kind === Kind.NON_NULL_TYPE) {
          const type = typeFromAST(schema, node.type as Parameters<typeof typeFromAST>[1]);
          if (type) {
            const named = getNamedType(type);
            use.coordinates.add(named.name);
            if (isInputObjectType(named)) use.inputTypes.add(named.name);
          }
        }
      },
    }),
  );
  return use;
}

/**
 * Whether a change at `path` (graphql-inspector's: `Type`, `Type.field`, `Type.field.argument`,
 * `Enum.VALUE`) concerns a document with this use: it uses that coordinate or something under it,
 * or it sends the input type the change is in.
 */
export function concerns(use: SchemaUse, path: string): boolean {
  if (use.coordinates.has(path)) return true;
  for (const coordinate of use.coordinates) if (coordinate.startsWith(`${path}.`)) return true;
  const type = path.split('.')[0]!;
  return use.inputTypes.has(type);
}
