import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { classifyDatabaseError, formatDatabaseErrors } from '../src/database/database-errors.ts';

/** A node-postgres server error (what pg builds from an ErrorResponse). */
const serverError = (code: string, message: string, severity = 'ERROR') => Object.assign(new Error(message), { code, severity });
/** A Node socket error. */
const socketError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code, errno: -111, syscall: 'connect', address: '127.0.0.1', port: 5432 });
/** Prisma Client's error around the pg adapter's, as Prisma 7 throws it (shapes seen against a real server). */
const prismaError = (code: string, cause: Record<string, unknown>) =>
  Object.assign(new Error(`\nInvalid \`prisma.product.findMany()\` invocation:\n\nCan't reach database server at 127.0.0.1:36101`), {
    name: 'PrismaClientKnownRequestError',
    code,
    clientVersion: '7.10.0',
    meta: { modelName: 'Product', driverAdapterError: Object.assign(new Error(String(cause.kind)), { name: 'DriverAdapterError', cause }) },
  });

describe('classifyDatabaseError', () => {
  it.each([
    ['a refused connection', socketError('ECONNREFUSED'), 'DATABASE_UNAVAILABLE', 'connection_refused'],
    ['a reset connection', socketError('ECONNRESET'), 'DATABASE_UNAVAILABLE', 'connection_lost'],
    ['pg: the server went away under a query', new Error('Connection terminated unexpectedly'), 'DATABASE_UNAVAILABLE', 'connection_lost'],
    ['pg: no connection within connectionTimeoutMillis', new Error('Connection terminated due to connection timeout', { cause: new Error('Connection terminated unexpectedly') }), 'DATABASE_UNAVAILABLE', 'connect_timeout'],
    ['pg: a client that already failed', new Error('Client has encountered a connection error and is not queryable'), 'DATABASE_UNAVAILABLE', 'connection_lost'],
    ['57P01 admin_shutdown (pg_ctl stop -m fast)', serverError('57P01', 'terminating connection due to administrator command', 'FATAL'), 'DATABASE_UNAVAILABLE', 'connection_lost'],
    ['57P03 cannot_connect_now (starting up)', serverError('57P03', 'the database system is starting up', 'FATAL'), 'DATABASE_UNAVAILABLE', 'server_unavailable'],
    ['53300 too_many_connections', serverError('53300', 'sorry, too many clients already', 'FATAL'), 'DATABASE_UNAVAILABLE', 'server_unavailable'],
    ['08006 connection_failure', serverError('08006', 'connection failure'), 'DATABASE_UNAVAILABLE', 'connection_lost'],
    ['57014 statement timeout', serverError('57014', 'canceling statement due to statement timeout'), 'DATABASE_TIMEOUT', 'statement_timeout'],
    ['pg: no answer within query_timeout', new Error('Query read timeout'), 'DATABASE_TIMEOUT', 'query_timeout'],
    ['pg-pool: no free connection in time', new Error('timeout exceeded when trying to connect'), 'DATABASE_TIMEOUT', 'pool_timeout'],
    ['Prisma P1001 (adapter: DatabaseNotReachable)', prismaError('P1001', { kind: 'DatabaseNotReachable', host: '127.0.0.1', port: 36101 }), 'DATABASE_UNAVAILABLE', 'connection_refused'],
    ['Prisma P2010 around a 57P01', prismaError('P2010', { kind: 'postgres', code: '57P01', originalCode: '57P01', severity: 'FATAL', message: 'terminating connection due to administrator command' }), 'DATABASE_UNAVAILABLE', 'connection_lost'],
    ['Prisma P2010 around a 57014', prismaError('P2010', { kind: 'postgres', code: '57014', originalCode: '57014', severity: 'ERROR', message: 'canceling statement due to statement timeout' }), 'DATABASE_TIMEOUT', 'statement_timeout'],
    ['Prisma P2024 (pool timeout)', Object.assign(new Error('Timed out fetching a new connection from the connection pool.'), { code: 'P2024' }), 'DATABASE_TIMEOUT', 'pool_timeout'],
    ['Prisma P2028: no transaction within maxWait', Object.assign(new Error('Transaction API error: Unable to start a transaction in the given time.'), { code: 'P2028' }), 'DATABASE_TIMEOUT', 'transaction_timeout'],
    ['Prisma P2028: an expired transaction', Object.assign(new Error('Transaction API error: A commit cannot be executed on an expired transaction. The timeout for this transaction was 5000 ms, however 5012 ms passed since the start of the transaction.'), { code: 'P2028' }), 'DATABASE_TIMEOUT', 'transaction_timeout'],
    ['a resolver error around a refused connection', new GraphQLError('x', { originalError: socketError('ECONNREFUSED') }), 'DATABASE_UNAVAILABLE', 'connection_refused'],
  ])('%s → %s (%s)', (_name, error, code, reason) => {
    expect(classifyDatabaseError(error)).toEqual({ code, reason });
  });

  it.each([
    ['a unique violation (the application decides)', serverError('23505', 'duplicate key value violates unique constraint "Order_idempotencyKey_key"')],
    ['Prisma P2002 around it', prismaError('P2002', { kind: 'UniqueConstraintViolation', constraint: { fields: ['idempotencyKey'] } })],
    ['Prisma P2028 for a transaction it no longer knows (a bug, not the database)', Object.assign(new Error('Transaction API error: Transaction not found.'), { code: 'P2028' })],
    ['a bad argument', new GraphQLError('"first" must be between 1 and 100, got 0.', { extensions: { code: 'BAD_USER_INPUT' } })],
    ['a plain bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['a non-socket error code starting with E', Object.assign(new Error('x'), { code: 'EPERM' })],
    ['not an error at all', 'Connection terminated unexpectedly'],
    ['null', null],
  ])('%s is not a database fault', (_name, error) => {
    expect(classifyDatabaseError(error)).toBeNull();
  });

  it('ends on an error that wraps itself', () => {
    const error: Error & { cause?: unknown } = new Error('loop');
    error.cause = error;
    expect(classifyDatabaseError(error)).toBeNull();
  });
});

describe('formatDatabaseErrors', () => {
  const format = formatDatabaseErrors('products');

  it('answers a database fault with its code, reason and a message without the address, at the same path', () => {
    const error = new GraphQLError('Invalid `prisma.product.findMany()` invocation: Can\'t reach database server at 127.0.0.1:36101', {
      path: ['topProducts'],
      originalError: prismaError('P1001', { kind: 'DatabaseNotReachable', host: '127.0.0.1', port: 36101 }),
    });
    const formatted = format({ ...error.toJSON(), extensions: { code: 'INTERNAL_SERVER_ERROR', stacktrace: ['Error: at 127.0.0.1:36101'] } }, error);
    expect(formatted).toEqual({
      message: 'The products database is unavailable; retry shortly.',
      path: ['topProducts'],
      extensions: { code: 'DATABASE_UNAVAILABLE', reason: 'connection_refused' },
    });
    expect(JSON.stringify(formatted)).not.toMatch(/127\.0\.0\.1|36101/);
  });

  it('says a timeout is one', () => {
    const error = new GraphQLError('x', { path: ['product'], originalError: serverError('57014', 'canceling statement due to statement timeout') });
    expect(format(error.toJSON(), error)).toMatchObject({
      message: 'The products database did not answer in time; retry shortly.',
      extensions: { code: 'DATABASE_TIMEOUT', reason: 'statement_timeout' },
    });
  });

  it("answers a value PostgreSQL cannot store (a NUL) as the request's fault, not the database's", () => {
    for (const sqlstate of ['22021', '22P05']) {
      const error = new GraphQLError('x', { path: ['products'], originalError: serverError(sqlstate, 'invalid byte sequence for encoding "UTF8": 0x00') });
      expect(format(error.toJSON(), error)).toMatchObject({
        message: expect.stringContaining('NUL'),
        path: ['products'],
        extensions: { code: 'BAD_USER_INPUT', reason: 'unstorable_character' },
      });
      expect(classifyDatabaseError(error)).toBeNull();
    }
  });

  it("keeps the application's own code even when it wraps a socket error (not this subgraph's database)", () => {
    const refused = new TypeError('fetch failed', { cause: socketError('ECONNREFUSED') });
    const error = new GraphQLError('x', {
      path: ['placeOrder'],
      originalError: new GraphQLError('Product prices are unavailable right now; nothing was ordered.', { extensions: { code: 'PRODUCTS_UNAVAILABLE' }, originalError: refused }),
    });
    const formatted = { ...error.toJSON(), extensions: { code: 'PRODUCTS_UNAVAILABLE' } };
    expect(format(formatted, error)).toBe(formatted);
  });

  it('passes every other error as it was', () => {
    const error = new GraphQLError('"first" must be between 1 and 100, got 0.', { extensions: { code: 'BAD_USER_INPUT' } });
    const formatted = error.toJSON();
    expect(format(formatted, error)).toBe(formatted);
  });
});
