import { HeaderMap } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { HttpError, parseJsonBody, readBody as readBodyText } from '@shop/service-kit';
import type { OperationRequest, Stage } from '../exchange.ts';
import { nestedDeeperThan } from './json-depth.ts';

export interface BodyLimits {
  maxBodyBytes: number;
  /** Levels of objects and lists in an operation's variables and extensions (`{"a":1}` is one). */
  maxVariablesDepth: number;
}

/**
 * Reads the request into the shape Apollo executes (`exchange.request`) and lists its operations
 * (`exchange.operations`): a POST's JSON body (one operation or a batch), within the size limit
 * and only as JSON; a GET's query-string parameters. Variables and extensions nested deeper than
 * the limit are refused here, before any later stage or Apollo walks them recursively (keying,
 * costing, coercing: JSON.stringify of 100,000 levels overflows the stack).
 */
export function readBody({ maxBodyBytes, maxVariablesDepth }: BodyLimits): Stage {
  return async (exchange, next) => {
    const { req } = exchange;
    const method = (req.method ?? 'GET').toUpperCase();
    const url = req.url ?? '/';
    const queryStart = url.indexOf('?');
    const search = queryStart === -1 ? '' : url.slice(queryStart);
    let body: unknown;
    if (method === 'POST') {
      if (!/^application\/(graphql-response\+)?json\b/i.test(req.headers['content-type'] ?? '')) {
        req.resume();
        throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'POST requests must have the content type application/json.');
      }
      body = parseJsonBody(await readBodyText(req, maxBodyBytes));
      // An operation is one level ({"variables": ...}), a batch one more ([...]).
      if (nestedDeeperThan(body, maxVariablesDepth + (Array.isArray(body) ? 2 : 1))) throw tooDeep(maxVariablesDepth);
    } else if (nestedDeeperThan(jsonParameter(search, 'variables'), maxVariablesDepth)) {
      throw tooDeep(maxVariablesDepth);
    }
    const headers = new HeaderMap();
    for (const [key, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
    }
    exchange.request = { method, headers, search, body };
    exchange.operations = method === 'GET' ? [operationFromSearch(search, maxVariablesDepth)] : operationsOf(body);
    return next();
  };
}

function tooDeep(maxVariablesDepth: number): GraphQLError {
  return new GraphQLError(`Variables and extensions may nest objects and lists at most ${maxVariablesDepth} levels deep.`, {
    extensions: { code: 'MAX_VARIABLES_DEPTH_EXCEEDED', http: { status: 400 } },
  });
}

/** A GET parameter's JSON value, for the depth check; text that is not JSON is Apollo's to refuse. */
function jsonParameter(search: string, name: string): unknown {
  const text = new URLSearchParams(search).get(name);
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The operations of a POST body; anything that is not one is left for Apollo to refuse. */
function operationsOf(body: unknown): OperationRequest[] {
  const items = Array.isArray(body) ? body : [body];
  return items.filter((item): item is OperationRequest => typeof item === 'object' && item !== null && !Array.isArray(item));
}

/** GET requests carry the same fields in the query string; extensions are JSON there. */
function operationFromSearch(search: string, maxVariablesDepth: number): OperationRequest {
  const params = new URLSearchParams(search);
  const operation: OperationRequest = {};
  const query = params.get('query');
  if (query !== null) operation.query = query;
  const operationName = params.get('operationName');
  if (operationName !== null) operation.operationName = operationName;
  const extensions = params.get('extensions');
  if (extensions !== null) {
    try {
      operation.extensions = JSON.parse(extensions) as OperationRequest['extensions'];
    } catch {
      throw new GraphQLError('The "extensions" query parameter is not valid JSON.', { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });
    }
    if (nestedDeeperThan(operation.extensions, maxVariablesDepth)) throw tooDeep(maxVariablesDepth);
  }
  return operation;
}

/** A GET's query string with an operation's (possibly rewritten) document fields written back. */
export function searchWith(operation: OperationRequest, search: string): string {
  const params = new URLSearchParams(search);
  if (typeof operation.query === 'string') params.set('query', operation.query);
  if (typeof operation.operationName === 'string') params.set('operationName', operation.operationName);
  if (operation.extensions && Object.keys(operation.extensions).length > 0) params.set('extensions', JSON.stringify(operation.extensions));
  else params.delete('extensions');
  const text = params.toString();
  return text ? `?${text}` : '';
}
