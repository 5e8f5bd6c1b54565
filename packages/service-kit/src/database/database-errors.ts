import type { GraphQLFormattedError } from 'graphql';

/**
 * What a failed database call means for the caller, whatever layer it surfaced from: node-postgres
 * (socket errors, its own Error messages, the server's SQLSTATE), Prisma's pg adapter
 * (DriverAdapterError with a `kind`) or Prisma Client (P1001, P2010 with the adapter's error in
 * `meta.driverAdapterError`). Only faults of the database as a service are classified: a unique
 * violation or a bad argument is the application's business and stays as it is.
 */
export type DatabaseFaultCode = 'DATABASE_UNAVAILABLE' | 'DATABASE_TIMEOUT';

export type DatabaseFaultReason =
  /** Nothing accepts connections there (server stopped, wrong host). */
  | 'connection_refused'
  /** An open connection was closed under a query: server shut down or restarted, network cut. */
  | 'connection_lost'
  /** No connection could be set up within DATABASE_CONNECT_TIMEOUT_MS (a hung or unreachable server). */
  | 'connect_timeout'
  /** The server answers but refuses sessions: starting up, shutting down, out of connection slots. */
  | 'server_unavailable'
  /** The server cancelled a statement that ran past DATABASE_STATEMENT_TIMEOUT_MS. */
  | 'statement_timeout'
  /** The server did not answer a statement at all in time (it did not even cancel it): hung. */
  | 'query_timeout'
  /** Every pooled connection stayed busy for DATABASE_CONNECT_TIMEOUT_MS: the pool is saturated. */
  | 'pool_timeout'
  /** A Prisma transaction did not start within its maxWait, or outlived its timeout (P2028). */
  | 'transaction_timeout';

export interface DatabaseFault {
  code: DatabaseFaultCode;
  reason: DatabaseFaultReason;
}

const unavailable = (reason: DatabaseFaultReason): DatabaseFault => ({ code: 'DATABASE_UNAVAILABLE', reason });
const timedOut = (reason: DatabaseFaultReason): DatabaseFault => ({ code: 'DATABASE_TIMEOUT', reason });

/** Node's socket error codes (error.code with a syscall). */
const SOCKET_CODES: Record<string, DatabaseFault> = {
  ECONNREFUSED: unavailable('connection_refused'),
  ENOTFOUND: unavailable('connection_refused'),
  EAI_AGAIN: unavailable('connection_refused'),
  EHOSTUNREACH: unavailable('connection_refused'),
  ENETUNREACH: unavailable('connection_refused'),
  ECONNRESET: unavailable('connection_lost'),
  EPIPE: unavailable('connection_lost'),
  ETIMEDOUT: unavailable('connect_timeout'),
};

/** PostgreSQL's SQLSTATE codes of a server that is going or gone (class 08 is matched as a class). */
const SQLSTATES: Record<string, DatabaseFault> = {
  '57P01': unavailable('connection_lost'), // admin_shutdown: pg_ctl stop -m fast, pg_terminate_backend
  '57P02': unavailable('connection_lost'), // crash_shutdown
  '57P03': unavailable('server_unavailable'), // cannot_connect_now: starting up or shutting down
  '57P05': unavailable('connection_lost'), // idle_session_timeout
  '53300': unavailable('server_unavailable'), // too_many_connections
  '57014': timedOut('statement_timeout'), // query_canceled (statement_timeout)
};

/** Prisma Client's error codes for the same faults. */
const PRISMA_CODES: Record<string, DatabaseFault> = {
  P1001: unavailable('connection_refused'), // can't reach database server
  P1002: unavailable('connect_timeout'), // reached but timed out
  P1017: unavailable('connection_lost'), // server has closed the connection
  P1008: timedOut('query_timeout'), // operations timed out
  P2024: timedOut('pool_timeout'), // timed out fetching a new connection from the pool
};

/** The `kind` of @prisma/adapter-pg's DriverAdapterError. */
const ADAPTER_KINDS: Record<string, DatabaseFault> = {
  DatabaseNotReachable: unavailable('connection_refused'),
  ConnectionClosed: unavailable('connection_lost'),
  SocketTimeout: unavailable('connect_timeout'),
  TooManyConnections: unavailable('server_unavailable'),
};

/** node-postgres' own errors, which carry only a message (the adapter passes them on unchanged). */
const DRIVER_MESSAGES: Array<[RegExp, DatabaseFault]> = [
  [/^Connection terminated due to connection timeout/, unavailable('connect_timeout')],
  [/^Connection terminated/, unavailable('connection_lost')],
  [/^Client has encountered a connection error and is not queryable/, unavailable('connection_lost')],
  [/^Client was closed and is not queryable/, unavailable('connection_lost')],
  [/^timeout exceeded when trying to connect/, timedOut('pool_timeout')],
  [/^Query read timeout/, timedOut('query_timeout')],
  // Prisma's P2028 ("Transaction API error: ...") also covers its own misuse, so only these two are the database's.
  [/Unable to start a transaction in the given time/, timedOut('transaction_timeout')],
  [/cannot be executed on an expired transaction/, timedOut('transaction_timeout')],
];

function classifyOne(value: object): DatabaseFault | null {
  const { code, kind, message, syscall } = value as { code?: unknown; kind?: unknown; message?: unknown; syscall?: unknown };
  if (typeof kind === 'string' && ADAPTER_KINDS[kind]) return ADAPTER_KINDS[kind];
  if (typeof code === 'string') {
    if (typeof syscall === 'string' || code.startsWith('E')) {
      const socket = SOCKET_CODES[code];
      if (socket) return socket;
    }
    if (/^P\d{4}$/.test(code) && PRISMA_CODES[code]) return PRISMA_CODES[code];
    if (/^[0-9A-Z]{5}$/.test(code)) {
      if (SQLSTATES[code]) return SQLSTATES[code];
      // connection_exception: the connection failed or was lost.
      if (code.startsWith('08')) return unavailable('connection_lost');
    }
  }
  if (typeof message === 'string') {
    for (const [pattern, fault] of DRIVER_MESSAGES) if (pattern.test(message)) return fault;
  }
  return null;
}

/** The errors an error wraps: GraphQL's originalError, `cause`, the adapter's error in Prisma's `meta`, AggregateError's errors. */
function wrapped(value: object): unknown[] {
  const record = value as {
    originalError?: unknown;
    cause?: unknown;
    meta?: { driverAdapterError?: unknown } | null;
    errors?: unknown;
    originalCode?: unknown;
  };
  const inner: unknown[] = [record.originalError, record.cause, record.meta?.driverAdapterError];
  if (Array.isArray(record.errors)) inner.push(...(record.errors as unknown[]));
  // The adapter keeps the server's SQLSTATE as originalCode beside its own kind.
  if (typeof record.originalCode === 'string') inner.push({ code: record.originalCode });
  return inner;
}

/**
 * The database fault behind `error`, or null when it is not one. Walks what the error wraps,
 * outermost first, so the most specific layer that knows wins.
 */
export function classifyDatabaseError(error: unknown): DatabaseFault | null {
  return firstInChain(error, classifyOne);
}

/** The first non-null `pick` of `error` and what it wraps, outermost first. */
function firstInChain<T>(error: unknown, pick: (value: object) => T | null): T | null {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length > 0 && seen.size < 32) {
    const value = queue.shift();
    if (value === null || typeof value !== 'object' || seen.has(value)) continue;
    seen.add(value);
    const found = pick(value);
    if (found !== null) return found;
    queue.push(...wrapped(value));
  }
  return null;
}

/**
 * SQLSTATEs of a value the client sent that PostgreSQL cannot store or compare: a NUL character
 * (`\u0000`, which text cannot hold) or one outside the database's encoding. The request is at
 * fault, not the database: BAD_USER_INPUT, and the database stays up.
 */
const UNSTORABLE_INPUT = new Set(['22021', '22P05']);

function isUnstorableInput(error: unknown): boolean {
  return (
    firstInChain(error, (value) => {
      const code = (value as { code?: unknown }).code;
      return typeof code === 'string' && UNSTORABLE_INPUT.has(code) ? true : null;
    }) ?? false
  );
}

/** What the client is told: no address, no driver message; what happened and that a retry may work. */
export function databaseFaultMessage(service: string, fault: DatabaseFault): string {
  return fault.code === 'DATABASE_TIMEOUT'
    ? `The ${service} database did not answer in time; retry shortly.`
    : `The ${service} database is unavailable; retry shortly.`;
}

/**
 * Apollo Server's formatError for a subgraph: an error whose cause is a database fault becomes
 * DATABASE_UNAVAILABLE or DATABASE_TIMEOUT at its path, with its reason; its stack trace and the
 * driver's message (which name the server's address) are dropped. Every other error, and every error
 * already coded by the application, passes as it is.
 */
export function formatDatabaseErrors(service: string): (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError {
  return (formatted, error) => {
    // An error the application coded itself keeps its code, even when what it wraps was a socket error
    // (orders' PRODUCTS_UNAVAILABLE around a refused call to products is not orders' database).
    const code = formatted.extensions?.code;
    if (code !== undefined && code !== 'INTERNAL_SERVER_ERROR') return formatted;
    if (isUnstorableInput(error)) {
      return {
        message: 'A value in the request contains a character that cannot be stored or searched (such as a NUL, \\u0000): remove it.',
        ...(formatted.locations ? { locations: formatted.locations } : {}),
        ...(formatted.path ? { path: formatted.path } : {}),
        extensions: { code: 'BAD_USER_INPUT', reason: 'unstorable_character' },
      };
    }
    const fault = classifyDatabaseError(error);
    if (!fault) return formatted;
    return {
      message: databaseFaultMessage(service, fault),
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: fault.code, reason: fault.reason },
    };
  };
}
