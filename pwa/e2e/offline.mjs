// End-to-end check of the PWA shell in real Chromium: first load, service-worker control, offline
// start, language switch, and that the worker never answers API writes.
//
//   BASE_URL=http://127.0.0.1:4173 node e2e/offline.mjs   # any running server (vite preview works)
//   node e2e/offline.mjs                                   # spawns the Rust server on a free port
//
// Without BASE_URL the server binary comes from TUNGNHA_BIN (default ../target/debug/tungnha
// relative to pwa/) and serves pwa/dist (run `npm run build` first) from a throwaway directory
// (working dir, SQLite file and data dir all in one temp dir, removed at the end).
// CHROMIUM_PATH overrides /usr/bin/chromium.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { RESULTS_DIR, assert, assertEqual, launch, run, startServer, step, trace } from './harness.mjs';

const VI = {
  name: 'Từng Nhà',
  subtitle: 'Tổ Công nghệ số cộng đồng',
  homeTitle: 'Hỗ trợ từng hộ gia đình lên môi trường số',
  online: 'Trực tuyến',
  offline: 'Ngoại tuyến',
};
const EN = {
  subtitle: 'Community Digital Technology Team',
  homeTitle: 'Helping every household go digital',
  online: 'Online',
  offline: 'Offline',
};

/** @param {import('playwright-core').Page} page @param {'online' | 'offline'} state @param {string} text */
async function expectIndicator(page, state, text) {
  const indicator = page.getByTestId('connection-status');
  await page.waitForSelector(`[data-testid="connection-status"][data-state="${state}"]`, { timeout: 10_000 });
  assertEqual((await indicator.innerText()).trim(), text, 'connection indicator');
}

/** @param {import('playwright-core').Page} page @param {{ subtitle: string, homeTitle: string }} lang */
async function expectShell(page, lang) {
  await page.getByTestId('app-name').waitFor();
  assertEqual(await page.getByTestId('app-name').innerText(), VI.name, 'app name heading');
  assertEqual(await page.getByTestId('app-subtitle').innerText(), lang.subtitle, 'subtitle');
  assertEqual(await page.getByTestId('home-title').innerText(), lang.homeTitle, 'home heading');
}

async function main() {
  const spawnedServer = !process.env.BASE_URL;
  const base = (process.env.BASE_URL ?? (await startServer())).replace(/\/$/, '');
  if (process.env.BASE_URL) console.log(`# using BASE_URL=${base}`);

  // An English browser: Vietnamese must be the default anyway.
  const { context, page } = await launch({ locale: 'en-US' });
  /** @type {string[]} */
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => trace(`console.${m.type()}: ${m.text()}`));
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame()) trace(`navigated: ${f.url()}`);
  });
  context.on('serviceworker', (w) => trace(`service worker started: ${w.url()}`));

  await step('first load renders the Vietnamese shell (browser locale en-US)', async () => {
    const res = await page.goto(`${base}/`);
    assert(res && res.ok(), `GET / answered ${res?.status()}`);
    await expectShell(page, VI);
    assertEqual(await page.title(), VI.name, 'document title');
    assertEqual(await page.evaluate(() => document.documentElement.lang), 'vi', '<html lang>');
    assertEqual(await page.locator('button[aria-pressed="true"]').getAttribute('data-testid'), 'lang-vi', 'selected language');
    assertEqual(await page.locator('link[rel="manifest"]').count(), 1, 'manifest links');
  });

  await step(`the indicator says "${VI.online}" when /healthz answers`, async () => {
    await expectIndicator(page, 'online', VI.online);
  });

  await mkdir(RESULTS_DIR, { recursive: true });
  const screenshot = join(RESULTS_DIR, 'first-screen-360x740.png');
  await page.screenshot({ path: screenshot });
  console.log(`# screenshot: ${screenshot}`);

  await step('the service worker is activated and controls the page', async () => {
    // `ready` can resolve while the worker is still 'activating' (STACK G12), so poll the controller
    // itself. The predicate must be synchronous: a Promise returned to waitForFunction is truthy.
    await page.waitForFunction(() => navigator.serviceWorker.controller?.state === 'activated', undefined, {
      timeout: 15_000,
      polling: 100,
    });
    const activeState = await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.active?.state);
    assertEqual(activeState, 'activated', 'registration.active.state');
    const scope = await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.scope);
    assertEqual(scope, `${base}/`, 'service worker scope');
  });

  await step('the web manifest and its icons are served', async () => {
    const res = await page.request.get(`${base}/manifest.webmanifest`);
    assert(res.ok(), `GET /manifest.webmanifest answered ${res.status()}`);
    const manifest = await res.json();
    assertEqual(manifest.name, VI.name, 'manifest name');
    assertEqual(manifest.short_name, VI.name, 'manifest short_name');
    assertEqual(manifest.lang, 'vi', 'manifest lang');
    assertEqual(manifest.start_url, '/', 'manifest start_url');
    assertEqual(manifest.display, 'standalone', 'manifest display');
    /** @type {Array<{src: string, sizes: string, type: string, purpose?: string}>} */
    const icons = manifest.icons;
    for (const [sizes, purpose] of [['192x192', 'any'], ['512x512', 'any'], ['512x512', 'maskable']]) {
      const icon = icons.find((i) => i.sizes === sizes && (i.purpose ?? 'any') === purpose && i.type === 'image/png');
      assert(icon, `manifest has no ${purpose} PNG icon of ${sizes}`);
      const img = await page.request.get(new URL(icon.src, `${base}/`).href);
      assert(img.ok(), `GET ${icon.src} answered ${img.status()}`);
      assert((img.headers()['content-type'] ?? '').startsWith('image/png'), `${icon.src} is served as ${img.headers()['content-type']}`);
    }
  });

  await step('API requests go to the network, never to the service worker', async () => {
    assert(await page.evaluate(() => navigator.serviceWorker.controller !== null), 'page is not controlled');
    const [postResponse, post] = await Promise.all([
      page.waitForResponse((r) => r.url() === `${base}/api/v1/nope` && r.request().method() === 'POST'),
      page.evaluate(async () => {
        const r = await fetch('/api/v1/nope', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
        return { status: r.status, body: await r.text() };
      }),
    ]);
    assert(!postResponse.fromServiceWorker(), 'POST /api/v1/nope was answered by the service worker');
    assert(post.status >= 400, `POST /api/v1/nope answered ${post.status}, expected an error from the server`);
    assert(!post.body.includes('<div id="app">'), 'POST /api/v1/nope was answered with index.html');

    const getResponse = (
      await Promise.all([
        page.waitForResponse((r) => r.url() === `${base}/api/v1/nope` && r.request().method() === 'GET'),
        page.evaluate(() => fetch('/api/v1/nope').then((r) => r.status)),
      ])
    )[0];
    assert(!getResponse.fromServiceWorker(), 'GET /api/v1/nope was answered by the service worker');
  });

  await step('offline: a reload is served by the service worker and renders the shell', async () => {
    await context.setOffline(true);
    const res = await page.reload();
    assert(res, 'reload returned no response');
    assert(res.fromServiceWorker(), 'offline reload was not served by the service worker');
    await expectShell(page, VI);
  });

  await step(`offline: the indicator says "${VI.offline}"`, async () => {
    await expectIndicator(page, 'offline', VI.offline);
  });

  await step('offline: a deep link falls back to the app shell', async () => {
    const res = await page.goto(`${base}/ho-gia-dinh/123?tab=visits`);
    assert(res?.fromServiceWorker(), 'deep link was not served by the service worker');
    await expectShell(page, VI);
  });

  await step('offline: an /api/ navigation is not answered with the shell', async () => {
    // In a separate tab: the failed navigation commits a chrome-error page that would race with the
    // next navigation of the main page.
    const tab = await context.newPage();
    try {
      let served = false;
      try {
        const res = await tab.goto(`${base}/api/v1/me`);
        served = Boolean(res?.fromServiceWorker());
      } catch {
        // net::ERR_INTERNET_DISCONNECTED: the worker let it go to the (offline) network.
      }
      assert(!served, '/api/v1/me was served by the service worker');
    } finally {
      await tab.close();
    }
  });

  await step('offline: a POST fails with a network error instead of a cached answer', async () => {
    const outcome = await page.evaluate(async () => {
      try {
        const r = await fetch('/api/v1/sync/push', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
        return `answered ${r.status}`;
      } catch (e) {
        return `rejected ${e instanceof Error ? e.name : String(e)}`;
      }
    });
    assertEqual(outcome, 'rejected TypeError', 'offline POST');
  });

  await step('switching to English changes the texts and is saved', async () => {
    await page.getByTestId('lang-en').click();
    await expectShell(page, EN);
    assertEqual(await page.evaluate(() => document.documentElement.lang), 'en', '<html lang>');
    assertEqual(await page.evaluate(() => localStorage.getItem('tungnha.language')), 'en', 'saved language');
    await expectIndicator(page, 'offline', EN.offline);
  });

  await step('English survives an offline reload', async () => {
    const res = await page.reload();
    assert(res?.fromServiceWorker(), 'offline reload was not served by the service worker');
    await expectShell(page, EN);
    assertEqual(await page.locator('button[aria-pressed="true"]').getAttribute('data-testid'), 'lang-en', 'selected language');
  });

  await step('back online: the indicator recovers and English is kept', async () => {
    await context.setOffline(false);
    await expectIndicator(page, 'online', EN.online);
    await page.reload();
    await expectShell(page, EN);
    await page.getByTestId('lang-vi').click();
    await expectShell(page, VI);
    await expectIndicator(page, 'online', VI.online);
  });

  if (spawnedServer) {
    // The contract with the Rust server (vite preview has its own caching, so only checked here).
    await step('the server sends the cache headers the update flow relies on', async () => {
      const html = await page.request.get(`${base}/`);
      const asset = await page.evaluate(() => document.querySelector('script[type="module"][src^="/assets/"]')?.getAttribute('src'));
      assert(asset, 'index.html has no /assets/ module script');
      /** @type {Array<[string, RegExp]>} */
      const expectations = [
        ['/', /no-cache/],
        ['/index.html', /no-cache/],
        ['/sw.js', /no-cache/],
        ['/manifest.webmanifest', /no-cache/],
        [asset, /immutable/],
      ];
      assert(html.ok(), `GET / answered ${html.status()}`);
      for (const [path, expected] of expectations) {
        const res = await page.request.get(`${base}${path}`);
        assert(res.ok(), `GET ${path} answered ${res.status()}`);
        const cc = res.headers()['cache-control'] ?? '';
        assert(expected.test(cc), `GET ${path}: cache-control ${JSON.stringify(cc)} does not match ${expected}`);
      }
      const sw = await page.request.get(`${base}/sw.js`);
      assert(/javascript/.test(sw.headers()['content-type'] ?? ''), `sw.js is served as ${sw.headers()['content-type']}`);
    });
  }

  await step('no uncaught errors in the page', async () => {
    assert(pageErrors.length === 0, `page errors:\n${pageErrors.join('\n')}`);
  });
}

await run(main);
