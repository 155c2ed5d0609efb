// The app's own service-worker registration: the first install says the app works offline; a new
// version deployed later waits, announced by "Cập nhật", and takes over (one reload) only when the
// user taps it. The server serves a copy of the built app that the test then changes.
//
//   TUNGNHA_BIN=../target/debug/tungnha node e2e/update.mjs
import { appendFile, cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIST_DIR, assert, assertEqual, cleanups, launch, run, startServer, step } from './harness.mjs';

async function main() {
  const app = await mkdtemp(join(tmpdir(), 'tungnha-e2e-app-'));
  cleanups.push(() => rm(app, { recursive: true, force: true }));
  await cp(DIST_DIR, app, { recursive: true });
  const base = await startServer({ env: { TUNGNHA_PWA_DIR: app } });
  const { page } = await launch();

  await step('the first visit installs the worker and says the app now works offline', async () => {
    await page.goto(`${base}/`);
    await page.getByTestId('offline-ready').waitFor();
    await page.waitForFunction(() => navigator.serviceWorker.controller != null);
    const scripts = await page.evaluate(() =>
      performance
        .getEntriesByType('resource')
        .map((e) => e.name)
        .filter((n) => n.endsWith('.js')),
    );
    assert(!scripts.some((s) => /workbox-window/.test(s)), `no workbox-window on the first screen: ${scripts.join(', ')}`);
  });

  await step('a new version waits for "Cập nhật" and takes over only when tapped', async () => {
    await page.evaluate(() => ((/** @type {any} */ (window)).before = true));
    await appendFile(join(app, 'sw.js'), `\n// a later version ${Date.now()}\n`);
    await page.evaluate(async () => {
      const registration = await navigator.serviceWorker.getRegistration();
      await registration?.update();
    });
    const banner = page.getByTestId('update-banner');
    await banner.waitFor();
    assert((await banner.innerText()).includes('Cập nhật'), `the banner: ${await banner.innerText()}`);
    assertEqual(await page.evaluate(() => (/** @type {any} */ (window)).before === true), true, 'no reload before the tap');
    const waiting = await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.waiting != null);
    assertEqual(waiting, true, 'the new version waits');
    await Promise.all([page.waitForEvent('load'), banner.getByRole('button', { name: 'Cập nhật' }).click()]);
    await page.waitForFunction(() => navigator.serviceWorker.controller != null);
    assertEqual(await page.evaluate(() => (/** @type {any} */ (window)).before), undefined, 'the page reloaded once');
    const state = await page.evaluate(async () => {
      const r = await navigator.serviceWorker.getRegistration();
      return { waiting: r?.waiting != null, active: r?.active?.state };
    });
    assertEqual(state.waiting, false, 'nothing waits any more');
    assertEqual(state.active, 'activated', 'the new version is active');
    assertEqual(await page.getByTestId('update-banner').count(), 0, 'the banner is gone');
  });
}

await run(main);
