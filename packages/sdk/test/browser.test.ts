/**
 * The SDK in a real browser (headless Chromium on loopback): its built bundle, loaded as an
 * ES module by a page of the server's own origin, uses the browser's fetch and WebSocket. A
 * browser cannot set an Authorization header on a WebSocket, so this is also the test of the
 * `bearer.<token>` subprotocol end to end. Runs when Chromium is installed (`CHROMIUM_PATH`, or
 * Debian's /usr/bin/chromium; CI installs it).
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Core, createCore, ECHO_TASK_TYPE } from '@proserver/core';
import { createMemoryStorage } from '@proserver/core/memory';
import { type RunningServer, startServer } from '@proserver/http';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SDK_BUNDLE = fileURLToPath(new URL('../dist/index.js', import.meta.url));

/** A page of the server's origin that loads the SDK bundle as an ES module. */
const PAGE = `<!doctype html><title>sdk</title>
<script type="module">import * as sdk from '/browser/sdk.js'; window.sdk = sdk;</script>`;

/** What the page reports back (see the script in the test). */
interface BrowserReport {
  subscribed: number;
  events: [string, string][];
  final: { status: string; result: unknown };
  progress: number[];
}

describe.runIf(existsSync(CHROMIUM))('the SDK in headless Chromium', () => {
  let core: Core;
  let server: RunningServer;
  let browser: Browser;
  let owner: string;

  beforeAll(async () => {
    for (const name of ['http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY']) delete process.env[name];
    core = createCore({ storage: createMemoryStorage(), kv: { sweepIntervalMs: 0 } });
    owner = (await core.auth.bootstrap()).secret as string;
    server = await startServer({ core, port: 0, hostname: '127.0.0.1' });
    // Local Network Access checks off: the page is fulfilled by the test (see below), so it has
    // no address of its own and Chromium would treat it as public, blocking its WebSocket to
    // loopback; served by the server itself it would be loopback like the API.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--no-proxy-server', '--disable-features=LocalNetworkAccessChecks'],
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await core?.close();
  });

  it('reads and writes over fetch, subscribes and waits for a task over the WebSocket', async () => {
    const page = await browser.newPage();
    // The page and the bundle are served on the API's origin (so no CORS is involved); every
    // other request, /api/… and the WebSocket, goes to the real server.
    await page.route(`${server.url}/browser/**`, (route) => {
      const path = new URL(route.request().url()).pathname;
      if (path === '/browser/sdk.js') {
        return route.fulfill({ contentType: 'text/javascript', body: readFileSync(SDK_BUNDLE, 'utf8') });
      }
      return route.fulfill({ contentType: 'text/html', body: PAGE });
    });
    await page.goto(`${server.url}/browser/index.html`);
    await page.waitForFunction(() => 'sdk' in window);
    // (The page imports the bundle itself: an import() in this function would be rewritten
    // by the test runner's module transform.)
    const report = await page.evaluate(async (token): Promise<BrowserReport> => {
      const { createClient } = (window as unknown as { sdk: typeof import('@proserver/sdk') }).sdk;
      // No WebSocket option: the SDK must find the browser's own.
      const client = createClient({ baseUrl: location.origin, token });
      const events: [string, string][] = [];
      let subscribed = 0;
      const subscription = client.events.subscribe(
        ['kv:browser/*'],
        (event: { type: string; subject: string }) => {
          events.push([event.type, event.subject]);
        },
        { onSubscribed: () => subscribed++ },
      );
      const until = async (check: () => boolean) => {
        const deadline = performance.now() + 10_000;
        while (!check()) {
          if (performance.now() > deadline) throw new Error('timed out in the page');
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      };
      await until(() => subscribed === 1);
      await client.kv.upsert({ key: 'browser/a', value: 1 });
      await client.kv.delete('browser/a');
      await until(() => events.length === 2);
      subscription.close();
      const task = await client.tasks.submit({
        type: 'diagnostics.echo',
        payload: { value: 'from the browser', progressSteps: 3, delayMs: 60 },
      });
      const progress: number[] = [];
      const final = await client.tasks.wait(task.id, {
        via: 'ws',
        timeoutMs: 10_000,
        onProgress: (status: { progress?: { percent: number } | null }) => {
          if (status.progress) progress.push(status.progress.percent);
        },
      });
      const result = await client.tasks.result(task.id);
      return { subscribed, events, final: { status: final.status, result: result.result }, progress };
    }, owner);
    expect(report.subscribed).toBe(1);
    expect(report.events).toEqual([
      ['kv.set', 'browser/a'],
      ['kv.deleted', 'browser/a'],
    ]);
    expect(report.final).toEqual({ status: 'completed', result: { value: 'from the browser' } });
    expect(report.progress.length).toBeGreaterThan(0);
    expect(report.progress.at(-1)).toBe(100);
    // The task really ran on the server, submitted by the page's token.
    const runs = await core.tasks.list({ kind: 'system' }, { type: ECHO_TASK_TYPE });
    expect(runs.items.some((t) => t.status === 'completed')).toBe(true);
    await page.close();
  }, 60_000);
});
