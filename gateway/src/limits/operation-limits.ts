import { GraphQLError, parse, type DocumentNode } from 'graphql';
import { established, type Stage } from '../exchange.ts';
import { checkDocumentShape, type ShapeLimits } from './document-shape.ts';

export interface OperationLimits extends ShapeLimits {
  maxTokens: number;
}

const CACHE_SIZE = 1000;

/**
 * The size and shape limits of an operation, checked before Apollo parses, validates or plans
 * it: the number of operations in a batch, then each document's tokens, depth, aliases, root
 * fields and directives.
 */
export function operationLimits(limits: OperationLimits & { maxBatchSize: number }): Stage {
  const guard = createOperationGuard(limits);
  return async (exchange, next) => {
    const { body } = established(exchange, 'request');
    if (Array.isArray(body) && body.length > limits.maxBatchSize) {
      throw new GraphQLError(`A batch may hold at most ${limits.maxBatchSize} operations; this one has ${body.length}.`, {
        extensions: { code: 'BATCH_TOO_LARGE', http: { status: 400 } },
      });
    }
    for (const operation of established(exchange, 'operations')) if (typeof operation.query === 'string') guard(operation.query);
    return next();
  };
}

/**
 * Parses a document with a token limit and checks its shape, remembering the verdict per
 * document text: clients send the same few documents over and over, so the hot path is one
 * map lookup.
 */
export function createOperationGuard(limits: OperationLimits) {
  const verdicts = new Map<string, GraphQLError | null>();
  return (query: string): void => {
    let verdict = verdicts.get(query);
    if (verdict === undefined) {
      let document: DocumentNode | null = null;
      try {
        document = parse(query, { maxTokens: limits.maxTokens });
      } catch (error) {
        // graphql-js 16 says "more that N tokens"; accept the corrected spelling too.
        const tooLong = error instanceof GraphQLError && /more tha[nt] \d+ tokens/.test(error.message);
        // Other syntax errors are left to the GraphQL pipeline, which reports them with their location.
        verdict = tooLong
          ? new GraphQLError(`The document has more than ${limits.maxTokens} tokens.`, {
              extensions: { code: 'MAX_TOKENS_EXCEEDED', http: { status: 400 } },
            })
          : null;
      }
      if (document) verdict = checkDocumentShape(document, limits);
      if (verdicts.size >= CACHE_SIZE) verdicts.delete(verdicts.keys().next().value!);
      verdicts.set(query, verdict ?? null);
    }
    if (verdict) throw verdict;
  };
}
