import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import type { GraphQLFormattedError } from 'graphql';
import { mergeOperations, partIndexOf, prefixOf } from './merged-operation.ts';

/** A query fetch of a plan, as the data source gets it from @apollo/gateway's executor. */
export interface PlanFetch {
  query: string;
  operationName: string | undefined;
  variables: Record<string, unknown>;
}

/** The request that goes out for one or more plan fetches. */
export interface OutgoingRequest extends PlanFetch {
  /** How many plan fetches it carries. */
  fetches: number;
  /** The entity representations it sends, after deduplication. */
  representations: number;
}

/**
 * Sends one request and returns the subgraph's answer; a request that failed as a whole (no
 * answer, a 5xx) throws, and `failed` gives each fetch it carried its own answer for that.
 */
export interface BatchTransport<F extends PlanFetch> {
  /** `carried`: every plan fetch the request carries, `first` among them. */
  send(request: OutgoingRequest, first: F, carried: readonly F[]): Promise<GatewayGraphQLResponse>;
  failed(error: unknown, fetch: F): GatewayGraphQLResponse;
}

/** One group: fetches with the same operation and variables (but representations), sent as one selection. */
interface Group<F> {
  query: string;
  variables: Record<string, unknown>;
  members: Array<{ fetch: F; resolve: (r: GatewayGraphQLResponse) => void; reject: (e: unknown) => void; positions: number[] | null }>;
  /** The representations sent for the group, each once; null for a root fetch. */
  representations: unknown[] | null;
}

/**
 * Per request and subgraph, the fetches @apollo/gateway starts in the same turn of the event loop
 * (one wave of the scheduled plan: wave-schedule.ts) leave as one HTTP request:
 * - fetches with the same operation and variables become one selection, an entity fetch's
 *   representations concatenated and each distinct representation sent once, the answers
 *   handed back to every position that asked for it;
 * - different operations go side by side under prefixed aliases, variables and fragments
 *   (merged-operation.ts), and each gets back its own fields and the errors at its paths.
 * A fetch alone still has its duplicate representations removed. Errors without a path concern
 * the whole request, so each fetch gets them, as it would have alone; a request that failed
 * as a whole fails every fetch it carried (`transport.failed`), counted once as a failed request.
 */
export function requestBatcher<F extends PlanFetch>(transport: BatchTransport<F>) {
  const pending = new Map<object, Array<Group<F>['members'][number]>>();

  /** The fetches grouped: the same operation and variables (but representations) in one group, representations deduplicated. */
  const groupsOf = (queue: Array<Group<F>['members'][number]>): Array<Group<F>> => {
    const groups = new Map<string, Group<F>>();
    for (const member of queue) {
      const { representations, ...variables } = member.fetch.variables;
      const key = `${member.fetch.query}\u0000${JSON.stringify(variables)}`;
      let group = groups.get(key);
      if (!group) {
        group = { query: member.fetch.query, variables, members: [], representations: Array.isArray(representations) ? [] : null };
        groups.set(key, group);
      }
      group.members.push(member);
    }
    for (const group of groups.values()) deduplicate(group);
    return [...groups.values()];
  };
  // Async: whatever throws while grouping is a rejection the caller (setImmediate below) hands to the fetches.
  const flush = async (queue: Array<Group<F>['members'][number]>) => send(groupsOf(queue));

  const send = async (groups: Array<Group<F>>) => {
    const first = groups[0]!.members[0]!.fetch;
    const fetches = groups.reduce((n, g) => n + g.members.length, 0);
    const representations = groups.reduce((n, g) => n + (g.representations?.length ?? 0), 0);
    const merged = groups.length > 1 ? mergeOperations(groups.map((g) => g.query), `${first.operationName ?? 'Fetch'}__batch`) : null;
    if (groups.length > 1 && !merged) {
      // An operation the merge cannot take (see mergeOperations): one request per group instead.
      await Promise.all(groups.map((group) => send([group])));
      return;
    }
    let response: GatewayGraphQLResponse;
    try {
      response = await transport.send(
        merged
          ? {
              query: merged.query,
              operationName: merged.operationName,
              variables: Object.fromEntries(groups.flatMap((g, i) => Object.entries(groupVariables(g)).map(([name, value]) => [prefixOf(i) + name, value]))),
              fetches,
              representations,
            }
          : { query: groups[0]!.query, operationName: first.operationName, variables: groupVariables(groups[0]!), fetches, representations },
        first,
        groups.flatMap((g) => g.members.map((m) => m.fetch)),
      );
    } catch (error) {
      for (const group of groups) for (const member of group.members) settle(member, () => transport.failed(error, member.fetch));
      return;
    }
    // Data null with errors at fields: a non-null root field of a part failed, or a whole
    // `_entities` call did (one representation its subgraph cannot resolve fails them all), and
    // the fetches sharing the request lost data they would have had alone. Those go again
    // (queries, safe to repeat): the parts without errors together, the fetches of parts with
    // errors each on its own, but for a lone failing part of one fetch (or of identical root
    // fetches): the cause, answered from this response (its data null, as alone). A request
    // refused as a whole (pathless errors, no data) is not repeated against a subgraph that may
    // be overloaded.
    let resend: Array<Array<Group<F>>> = [];
    let answered: ReadonlySet<number> | null = null;
    const fieldErrors = (response.errors ?? []).filter((e) => e.path?.length);
    if (response.data === null && fieldErrors.length > 0 && fetches > 1) {
      const failing = merged
        ? new Set(fieldErrors.map((e) => partIndexOf(e.path![0])).filter((i): i is number => i !== undefined && i < groups.length))
        : new Set([0]);
      if (failing.size > 0) {
        const rest = groups.filter((_, i) => !failing.has(i));
        const failingGroups = groups.filter((_, i) => failing.has(i));
        // Root fetches of one group asked the very same thing: alone, each would get this answer.
        const alike = (g: Group<F>) => g.members.length === 1 || g.representations === null;
        const cause = failingGroups.length === 1 && alike(failingGroups[0]!);
        resend = [
          ...(rest.length ? [rest] : []),
          ...(cause ? [] : failingGroups.flatMap((g) => (alike(g) ? [[g]] : g.members.map((member) => groupsOf([member]))))),
        ];
        answered = cause ? failing : new Set();
      }
    }
    const only = groups.length === 1 && groups[0]!.members.length === 1 ? groups[0]!.members[0]! : null;
    if (only && (!only.positions || only.positions.length === groups[0]!.representations!.length)) {
      // One fetch, every representation distinct: the answer is its own as it came.
      only.resolve(response);
      return;
    }
    const all = response.errors ?? [];
    const pathless = merged ? all.filter((e) => partIndexOf(e.path?.[0]) === undefined) : all.filter((e) => !e.path?.length);
    groups.forEach((group, index) => {
      if (answered && !answered.has(index)) return;
      const part = merged?.parts[index];
      const data = response.data
        ? part
          ? Object.fromEntries(part.rootKeys.filter((k) => part.prefix + k in response.data!).map((k) => [k, response.data![part.prefix + k]]))
          : response.data
        : response.data;
      const errors = merged
        ? (response.errors ?? [])
            .filter((e) => partIndexOf(e.path?.[0]) === index)
            .map((e) => ({ ...e, path: [(e.path![0] as string).slice(part!.prefix.length), ...e.path!.slice(1)] }))
        : all.filter((e) => e.path?.length);
      // The first to get an entity (or a root fetch's data) gets it as it came, the others a copy.
      const given = new Set<number>();
      group.members.forEach((member, i) => settle(member, () => answerFor(member.positions, data, [...pathless, ...errors], i > 0, given)));
    });
    await Promise.all(resend.map((again) => send(again)));
  };

  return {
    /** The fetch's answer, once the request carrying it (sent on the next turn of the event loop) is answered. */
    fetch(requestKey: object, fetch: F): Promise<GatewayGraphQLResponse> {
      let queue = pending.get(requestKey);
      if (!queue) {
        const started: Array<Group<F>['members'][number]> = [];
        queue = started;
        pending.set(requestKey, started);
        setImmediate(() => {
          pending.delete(requestKey);
          // Whatever goes wrong here is the fetches' error (Apollo reports it), never an unhandled
          // rejection in the gateway: a fetch already answered keeps its answer.
          flush(started).catch((error: unknown) => {
            for (const member of started) member.reject(error);
          });
        });
      }
      const members = queue;
      return new Promise((resolve, reject) => members.push({ fetch, resolve, reject, positions: null }));
    },
  };
}

function settle<F>(member: Group<F>['members'][number], answer: () => GatewayGraphQLResponse): void {
  try {
    member.resolve(answer());
  } catch (error) {
    member.reject(error);
  }
}

/** Each distinct representation once; `positions` maps each member's representations to them. */
function deduplicate<F extends PlanFetch>(group: Group<F>): void {
  if (!group.representations) return;
  const sent = group.representations;
  // Most representations are a typename and one scalar key (`{__typename, upc}`): found by typename,
  // key name and value without building a string per entity; the others by representationKey.
  const simple = new Map<string, Map<string, Map<unknown, number>>>();
  const others = new Map<string, number>();
  for (const member of group.members) {
    const own = member.fetch.variables.representations as unknown[];
    const positions = new Array<number>(own.length);
    for (let i = 0; i < own.length; i++) {
      const representation = own[i];
      let byValue: Map<unknown, number> | undefined;
      let value: unknown;
      if (representation !== null && typeof representation === 'object') {
        const fields = representation as Record<string, unknown>;
        // The shape `{__typename, <one key>}`, read without an array of its keys per entity.
        let count = 0;
        let keyName: string | undefined;
        for (const name in fields) {
          if (count === 0 && name !== '__typename') break;
          if (count === 1) keyName = name;
          if (++count > 2) break;
        }
        const typename = fields.__typename;
        value = keyName === undefined ? undefined : fields[keyName];
        if (count === 2 && keyName !== undefined && typeof typename === 'string' && (typeof value === 'string' || typeof value === 'number')) {
          let byKey = simple.get(typename);
          if (!byKey) simple.set(typename, (byKey = new Map()));
          byValue = byKey.get(keyName);
          if (!byValue) byKey.set(keyName, (byValue = new Map()));
        }
      }
      let at: number | undefined;
      if (byValue) {
        at = byValue.get(value);
        if (at === undefined) {
          at = sent.push(representation) - 1;
          byValue.set(value, at);
        }
      } else {
        const key = representationKey(representation);
        at = others.get(key);
        if (at === undefined) {
          at = sent.push(representation) - 1;
          others.set(key, at);
        }
      }
      positions[i] = at;
    }
    member.positions = positions;
  }
}

/**
 * The identity of a representation. Most are a typename and a key of scalars (`{__typename, upc}`),
 * keyed by their values without serialising them (this runs for every entity of every fetch); the
 * rest by their JSON. Apollo builds the representations of one fetch with the same field order.
 */
function representationKey(representation: unknown): string {
  if (representation === null || typeof representation !== 'object') return JSON.stringify(representation);
  let key = '';
  for (const name in representation) {
    const value = (representation as Record<string, unknown>)[name];
    // A NUL inside a value could make two representations read alike: those go by their JSON.
    if (typeof value === 'string' && !value.includes('\u0000')) key += `${name}\u0000s${value}\u0000`;
    else if (typeof value === 'number' || typeof value === 'boolean') key += `${name}\u0000${String(value)}\u0000`;
    else return JSON.stringify(representation);
  }
  return key;
}

const groupVariables = <F>(group: Group<F>): Record<string, unknown> =>
  group.representations ? { ...group.variables, representations: group.representations } : group.variables;

/**
 * One fetch's answer out of its group's: an entity fetch gets `_entities` in its own order (an
 * entity asked for twice is a copy the second time: @apollo/gateway merges into what it gets),
 * its errors at its own indexes; a root fetch shared by several gets a copy of the data.
 */
function answerFor(
  positions: number[] | null,
  data: Record<string, unknown> | null | undefined,
  errors: readonly GraphQLFormattedError[],
  notFirst: boolean,
  given: Set<number>,
): GatewayGraphQLResponse {
  if (!positions) {
    const own = notFirst && data ? (copy(data) as Record<string, unknown>) : data;
    return { data: own, ...(errors.length ? { errors } : {}) };
  }
  const entities = data?._entities;
  let own: Record<string, unknown> | null | undefined = data;
  if (Array.isArray(entities)) {
    own = {
      ...data,
      _entities: positions.map((at) => {
        const entity: unknown = entities[at];
        if (given.has(at)) return flat(entity) ? entity : copy(entity);
        given.add(at);
        return entity;
      }),
    };
  }
  const ownErrors: GraphQLFormattedError[] = [];
  for (const error of errors) {
    const at = error.path?.[0] === '_entities' ? error.path[1] : undefined;
    if (typeof at !== 'number') {
      ownErrors.push(error);
      continue;
    }
    positions.forEach((position, index) => {
      if (position === at) ownErrors.push({ ...error, path: ['_entities', index, ...error.path!.slice(2)] });
    });
  }
  return { data: own, ...(ownErrors.length ? { errors: ownErrors } : {}) };
}

/**
 * An entity of scalars only can be handed to several positions as it is: @apollo/gateway copies
 * its values into each position's object (deepMerge) and only the nested objects it hands on
 * would be shared; its rewrites of the entity itself (a __typename set, a key renamed) come out
 * the same when applied again.
 */
function flat(entity: unknown): boolean {
  if (entity === null || typeof entity !== 'object') return true;
  for (const key in entity) {
    const value = (entity as Record<string, unknown>)[key];
    if (value !== null && typeof value === 'object') return false;
  }
  return true;
}

/** A deep copy of JSON data (what a subgraph answers). */
function copy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copy);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) out[key] = copy((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}
