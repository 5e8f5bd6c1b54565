import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenFor } from '@shop/test-support';
import { startTestStack, type TestStack } from '@shop/test-support/stack';

/**
 * The explorer in a real browser: Debian's headless Chromium (`.ci/run` installs it) loads
 * GraphiQL from the test gateway, runs a query and shows the data, with every request to a host
 * other than loopback aborted (the network cut), and each request checked to go to the gateway.
 */
let stack: TestStack;
let browser: Browser;

beforeAll(async () => {
  stack = await startTestStack();
  // The first page load builds the explorer when its sources or packages changed (seconds, once).
  await fetch(stack.gatewayUrl, { headers: { accept: 'text/html' } });
  const executablePath = execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
  browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'] });
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

describe('the explorer in headless Chromium', () => {
  it('loads from the gateway alone, runs a query, shows its data and the call report', async () => {
    const origin = new URL(stack.gatewayUrl).origin;
    const [product] = (await stack.query<{ topProducts: Array<{ name: string }> }>('{ topProducts(first: 2) { name } }')).body.data!.topProducts;
    const context = await browser.newContext();
    const requested: string[] = [];
    const aborted: string[] = [];
    const pageErrors: string[] = [];
    // The network is cut but for loopback: a request elsewhere fails, as it would on an offline machine.
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if ((url.protocol === 'http:' || url.protocol === 'https:') && !LOOPBACK.has(url.hostname)) {
        aborted.push(url.toString());
        return route.abort('internetdisconnected');
      }
      return route.continue();
    });
    context.on('request', (request) => requested.push(request.url()));
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    // Content-Security-Policy violations and failed loads show up as console errors.
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });

    await page.goto(stack.gatewayUrl, { waitUntil: 'load' });
    const queryEditor = page.locator('.graphiql-query-editor .monaco-editor').first();
    await queryEditor.waitFor({ state: 'visible', timeout: 20_000 });
    // The schema arrived: the docs explorer lists the root types once introspection has answered.
    await page.getByRole('button', { name: /show documentation explorer/i }).click();
    await expect.poll(() => page.locator('.graphiql-doc-explorer').textContent(), { timeout: 20_000 }).toMatch(/Query/);

    // Replace the editor's text with the query and run it (Ctrl-Enter, as a person would).
    await queryEditor.click();
    await page.keyboard.press('ControlOrMeta+KeyA');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText('{ topProducts(first: 2) { name } }');
    await page.keyboard.press('ControlOrMeta+Enter');
    // Monaco draws spaces as no-break spaces and wraps long lines: compare words.
    const resultText = async () => ((await page.locator('.graphiql-response').textContent()) ?? '').replace(/\s+/g, ' ');
    await expect.poll(resultText, { timeout: 20_000 }).toContain(product!.name);
    const text = await resultText();
    expect(text).toContain('topProducts');
    // The headers editor asks for the call report by default: it is in the response and in its panel.
    expect(text).toContain('callReport');
    await page.getByRole('button', { name: /call report/i }).click();
    await expect.poll(() => page.locator('[data-testid="call-report"]').textContent(), { timeout: 10_000 }).toMatch(/products/);

    // The headers editor carries a bearer token: the signed-in user's own fields answer.
    const token = await tokenFor(7, { scope: 'orders:read' });
    const me = (await stack.query<{ me: { username: string } }>('{ me { username } }', {}, { token })).body.data!.me;
    await page.getByText('Headers', { exact: true }).click();
    await page.locator('.graphiql-editor-tool .monaco-editor').last().click();
    await page.keyboard.press('ControlOrMeta+KeyA');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(JSON.stringify({ authorization: `Bearer ${token}`, 'x-call-report': '1' }));
    await queryEditor.click();
    await page.keyboard.press('ControlOrMeta+KeyA');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText('{ me { username } }');
    await page.keyboard.press('ControlOrMeta+Enter');
    await expect.poll(resultText, { timeout: 20_000 }).toContain(me.username);

    const screenshot = join(mkdtempSync(join(tmpdir(), 'explorer-')), 'explorer.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    // The screenshot's path, for a person to look at what the test saw.
    // eslint-disable-next-line no-console
    console.log(`explorer screenshot: ${screenshot}`);

    expect(pageErrors).toEqual([]);
    expect(aborted).toEqual([]);
    expect(requested.length).toBeGreaterThan(3);
    const elsewhere = requested.filter((url) => !url.startsWith('data:') && !url.startsWith('blob:') && new URL(url).origin !== origin);
    expect(elsewhere).toEqual([]);
    await context.close();
  });
});
