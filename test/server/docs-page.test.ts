/**
 * The one web page agentdrift serves, the OpenAPI UI at /docs, rendered by a real headless Chromium (Debian's
 * chromium, driven by playwright-core; no browser is downloaded).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/adapters/http/server.ts';
import { makeContext, type TestContext } from '../helpers/context.ts';

const CHROMIUM = '/usr/bin/chromium';

let t: TestContext;
let server: RunningServer;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: scripts/test-all.sh installs Debian's chromium`);
  t = makeContext({ server: { port: 0 }, tracks: [{ name: 'web' }] });
  server = await startServer(t.ctx, { handleSignals: false });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  t?.cleanup();
});

describe('the API documentation page', () => {
  it('renders every route of the API in a real browser, with no script error', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`${server.address}/docs`);
    await page.waitForSelector('.opblock', { timeout: 20_000 });
    const paths = await page.$$eval('.opblock-summary-path', (els) => els.map((e) => e.getAttribute('data-path') ?? e.textContent ?? ''));
    for (const p of ['/metrics', '/api/tracks', '/api/tracks/{track}', '/api/tracks/{track}/runs', '/api/runs/{id}', '/api/tracks/{track}/baseline']) {
      expect(paths.map((x) => x.replace(/\u200b/g, ''))).toContain(p);
    }
    expect(await page.title()).toMatch(/swagger/i);
    expect(errors).toEqual([]);
    // Everything the page loads comes from the daemon itself.
    expect(requests.filter((u) => !u.startsWith(server.address) && !u.startsWith('data:'))).toEqual([]);
    await page.screenshot({ path: path.join(t.dir, 'docs.png') });
    expect(existsSync(path.join(t.dir, 'docs.png'))).toBe(true);
    await page.close();
  });
});
