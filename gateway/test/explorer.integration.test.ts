import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '@shop/test-support/stack';
import { EXPLORER_CSP } from '../src/edge/explorer.ts';

let stack: TestStack;
const PRODUCTION = {
  NODE_ENV: 'production',
  AUTH_JWT_SECRET: 'production-test-secret-0123456789abcdef',
  AUTH_JWT_ISSUER: 'https://id.shop.test/',
  AUTH_JWT_AUDIENCE: 'shop-api',
};
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

beforeAll(async () => {
  stack = await startTestStack();
  // The first page load builds the explorer when its sources or packages changed (seconds, once).
  await fetch(stack.gatewayUrl, { headers: { accept: BROWSER_ACCEPT } });
});
afterAll(async () => {
  await stack?.stop();
});

const assetUrl = (gatewayUrl: string, html: string, name: string) => new URL(html.match(new RegExp(`"(/explorer/[^"]+/${name})"`))![1]!, gatewayUrl).toString();

describe('the explorer (GraphiQL on GET /graphql)', () => {
  it('answers a browser with the page, under a Content-Security-Policy that allows only the gateway itself', async () => {
    const response = await fetch(stack.gatewayUrl, { headers: { accept: BROWSER_ACCEPT } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('content-security-policy')).toBe(EXPLORER_CSP);
    expect(EXPLORER_CSP).toMatch(/default-src 'self'/);
    expect(EXPLORER_CSP).toMatch(/script-src 'self';/);
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(response.headers.get('x-request-id')).toBeTruthy();
    const html = await response.text();
    // Every file the page names is the gateway's own path: nothing from a CDN.
    for (const [, url] of html.matchAll(/(?:src|href)="([^"]+)"/g)) expect(url).toMatch(/^\/explorer\//);

    const script = await fetch(assetUrl(stack.gatewayUrl, html, 'app.js'));
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(script.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await script.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
    const styles = await fetch(assetUrl(stack.gatewayUrl, html, 'app.css'));
    expect(styles.status).toBe(200);
    expect(styles.headers.get('content-type')).toMatch(/^text\/css/);
    // Fonts and icons in the CSS are the gateway's files or inline data, never another host.
    expect(await styles.text()).not.toMatch(/url\(\s*["']?(https?:)?\/\//);
  });

  it('answers 404 for a file of another build or none, and keeps GraphQL GET and POST as they were', async () => {
    const origin = new URL(stack.gatewayUrl).origin;
    const missing = await fetch(`${origin}/explorer/0000000000000000/app.js`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]!.extensions.code).toBe('NOT_FOUND');
    expect((await fetch(`${origin}/explorer/`)).status).toBe(404);

    const get = await fetch(`${stack.gatewayUrl}?query=${encodeURIComponent('{ topProducts(first: 1) { upc } }')}`, { headers: { accept: 'application/json', 'apollo-require-preflight': 'true' } });
    expect(get.status).toBe(200);
    expect(((await get.json()) as { data: { topProducts: unknown[] } }).data.topProducts).toHaveLength(1);
    const post = await stack.query('{ topProducts(first: 1) { upc } }');
    expect(post.body.data).toMatchObject({ topProducts: [{ upc: expect.any(String) }] });
  });

  it('is off in production: a browser gets the normal GraphQL answer to a GET without a query, no page and no files', async () => {
    const production = await stack.startGateway(PRODUCTION);
    const response = await fetch(production.url, { headers: { accept: BROWSER_ACCEPT } });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).not.toMatch(/text\/html/);
    expect(await response.text()).not.toMatch(/<html/i);
    expect((await fetch(`${new URL(production.url).origin}/explorer/x/app.js`)).status).toBe(404);
  });

  it('is served in production with EXPLORER=true, from the build made before', async () => {
    const production = await stack.startGateway({ ...PRODUCTION, EXPLORER: 'true' });
    const response = await fetch(production.url, { headers: { accept: BROWSER_ACCEPT } });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect((await fetch(assetUrl(production.url, html, 'app.js'))).status).toBe(200);
  });

  it('is off outside production with EXPLORER=false', async () => {
    const gateway = await stack.startGateway({ EXPLORER: 'false' });
    const response = await fetch(gateway.url, { headers: { accept: BROWSER_ACCEPT } });
    expect(response.headers.get('content-type')).not.toMatch(/text\/html/);
  });
});
