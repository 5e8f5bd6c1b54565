import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@shop/observability';
import { startServiceServer, type ServiceServer } from '../src/http/service-server.ts';
import { readJsonBody } from '../src/http/read-body.ts';
import { HttpError, sendHttpError, sendJson } from '../src/http/errors.ts';
import type { RequestHandler } from '../src/http/graphql-handler.ts';

const logger = createLogger('test', 'silent');
let server: ServiceServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('startServiceServer', () => {
  it('answers liveness and readiness probes', async () => {
    let ready = false;
    server = await startServiceServer({ host: '127.0.0.1', port: 0, logger, routes: {}, isReady: () => ready });
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    expect((await fetch(`${server.url}/ready`)).status).toBe(503);
    ready = true;
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
    const missing = await fetch(`${server.url}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ errors: [{ message: 'No route for /nope.', extensions: { code: 'NOT_FOUND' } }] });
  });

  it('serves everything under a `<prefix>/*` route, its own routes first, and nothing beside the prefix', async () => {
    const answer = (name: string): RequestHandler => async (_req, res) => sendJson(res, 200, { name });
    server = await startServiceServer({ host: '127.0.0.1', port: 0, logger, routes: { '/files/*': answer('files'), '/files/own': answer('own'), '/graphql': answer('graphql') } });
    const nameAt = async (path: string) => {
      const response = await fetch(`${server!.url}${path}`);
      return response.status === 200 ? ((await response.json()) as { name: string }).name : response.status;
    };
    expect(await nameAt('/files/abc/app.js?v=1')).toBe('files');
    expect(await nameAt('/files/x')).toBe('files');
    expect(await nameAt('/files/own')).toBe('own');
    expect(await nameAt('/graphql')).toBe('graphql');
    expect(await nameAt('/graphql/x')).toBe(404);
    expect(await nameAt('/filesx/a')).toBe(404);
    expect(await nameAt('/files')).toBe(404);
  });

  it('answers /ready 503 with the reason the service gives while it cannot serve, /health 200 throughout', async () => {
    let reason: string | null = 'database unavailable: connection_refused';
    server = await startServiceServer({ host: '127.0.0.1', port: 0, logger, routes: {}, notReadyReason: () => reason });
    const ready = async () => {
      const response = await fetch(`${server!.url}/ready`);
      return { status: response.status, body: await response.json() };
    };
    expect(await ready()).toEqual({ status: 503, body: { status: 'not ready', reason: 'database unavailable: connection_refused' } });
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    reason = null;
    expect(await ready()).toEqual({ status: 200, body: { status: 'ready' } });
  });

  it('lets in-flight requests finish on close, then stops accepting connections', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let arrived!: () => void;
    const inFlight = new Promise<void>((resolve) => (arrived = resolve));
    server = await startServiceServer({
      host: '127.0.0.1',
      port: 0,
      logger,
      // Longer than the test timeout: the close must end when the request does, not at this timeout.
      drainTimeoutMs: 120_000,
      routes: {
        '/slow': async (_req, res) => {
          arrived();
          await gate;
          sendJson(res, 200, { done: true });
        },
      },
    });
    const url = server.url;
    const pending = fetch(`${url}/slow`).then(async (r) => ({ status: r.status, body: await r.json() }));
    await inFlight;
    const closing = server.close();
    server = undefined;
    release();
    expect(await pending).toEqual({ status: 200, body: { done: true } });
    await closing;
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });

  it('drains in steps: readiness 503 while still serving with connection: close, then the listener closes and in-flight requests finish', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let arrived!: () => void;
    const inFlight = new Promise<void>((resolve) => (arrived = resolve));
    server = await startServiceServer({
      host: '127.0.0.1',
      port: 0,
      logger,
      drainTimeoutMs: 120_000,
      routes: {
        '/fast': async (_req, res) => sendJson(res, 200, { ok: true }),
        '/slow': async (_req, res) => {
          arrived();
          await gate;
          sendJson(res, 200, { done: true });
        },
      },
    });
    const running = server;
    const url = running.url;
    // A keep-alive socket left idle before draining begins.
    const before = await fetch(`${url}/fast`);
    expect(before.headers.get('connection')).toBe('keep-alive');
    await before.arrayBuffer();

    running.startDraining();
    const ready = await fetch(`${url}/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'draining' });
    // Still served while load balancers notice, each answer moving its client to a fresh connection.
    const during = await fetch(`${url}/fast`);
    expect(during.status).toBe(200);
    expect(during.headers.get('connection')).toBe('close');
    await during.arrayBuffer();

    const pending = fetch(`${url}/slow`).then(async (r) => ({ status: r.status, body: await r.json() }));
    await inFlight;
    const closing = running.close();
    server = undefined;
    release();
    expect(await pending).toEqual({ status: 200, body: { done: true } });
    expect(await closing).toEqual({ inFlight: 1, cut: 0 });
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });

  it('cuts off the requests still in flight at the drain timeout, and says how many', async () => {
    let arrived!: () => void;
    const inFlight = new Promise<void>((resolve) => (arrived = resolve));
    server = await startServiceServer({
      host: '127.0.0.1',
      port: 0,
      logger,
      drainTimeoutMs: 1,
      routes: {
        '/never': async () => {
          arrived();
          await new Promise(() => {});
        },
      },
    });
    const pending = fetch(`${server.url}/never`).then(
      () => 'answered',
      () => 'cut',
    );
    await inFlight;
    const closing = server.close();
    server = undefined;
    expect(await closing).toEqual({ inFlight: 1, cut: 1 });
    expect(await pending).toBe('cut');
  });

  it('turns an exception in a handler into a 500 and keeps serving', async () => {
    server = await startServiceServer({
      host: '127.0.0.1',
      port: 0,
      logger,
      routes: {
        '/boom': async () => {
          throw new Error('boom');
        },
      },
    });
    const response = await fetch(`${server.url}/boom`);
    expect(response.status).toBe(500);
    expect(((await response.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]!.extensions.code).toBe(
      'INTERNAL_SERVER_ERROR',
    );
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });

  it('refuses a body over the limit and malformed JSON with stable codes', async () => {
    server = await startServiceServer({
      host: '127.0.0.1',
      port: 0,
      logger,
      routes: {
        '/echo': async (req, res) => {
          try {
            sendJson(res, 200, { body: await readJsonBody(req, 1024) });
          } catch (error) {
            if (error instanceof HttpError) return sendHttpError(res, error);
            throw error;
          }
        },
      },
    });
    const post = (body: string) => fetch(`${server!.url}/echo`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    expect(await (await post('{"a":1}')).json()).toEqual({ body: { a: 1 } });
    const tooLarge = await post(JSON.stringify({ a: 'x'.repeat(2048) }));
    expect(tooLarge.status).toBe(413);
    const malformed = await post('{"a":');
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]!.extensions.code).toBe('BAD_REQUEST');
  });
});
