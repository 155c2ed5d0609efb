// End-to-end test of the field app in real Chromium against the real server with the demo commune:
// a volunteer signs in, works offline, reloads offline, comes back online through a server that
// fails the first uploads, and the server holds every record exactly once; a second phone sees
// them after a pull; an access token that expires offline and a refused record block nothing.
//
//   node e2e/field.mjs        # spawns ../target/debug/tungnha (TUNGNHA_BIN) on a seeded SQLite file
import { createServer, request as httpRequest } from 'node:http';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DEMO_PASSWORD, RESULTS_DIR, apiSession, assert, assertEqual, launch, run, signInWithPin, sleep, startServer, step, trace } from './harness.mjs';

const VOLUNTEER = 'tinhnguyen.phuloc';
const LEADER = 'truongthon.phuloc';
const PIN = '2468';
/** Short access tokens, so one expires while the phone is offline. */
const TOKEN_TTL_SECS = 20;

/**
 * A proxy in front of the server that can answer 500 to the next N uploads, as a server in
 * trouble would. Everything else is passed through unchanged.
 * @param {string} backend
 */
async function faultProxy(backend) {
  const target = new URL(backend);
  const state = { failPushes: 0, failedPushes: 0, pushes: 0, refreshes: 0 };
  const server = createServer((req, res) => {
    if (req.method === 'POST' && req.url?.startsWith('/api/v1/auth/refresh')) state.refreshes++;
    if (req.method === 'POST' && req.url?.startsWith('/api/v1/sync/push')) {
      state.pushes++;
      if (state.failPushes > 0) {
        state.failPushes--;
        state.failedPushes++;
        req.resume();
        res.writeHead(500, { 'content-type': 'application/problem+json' });
        res.end(JSON.stringify({ type: 'about:blank', title: 'Internal Server Error', status: 500, code: 'internal' }));
        return;
      }
    }
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', () => r(undefined)));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { base: `http://127.0.0.1:${port}`, state, close: () => new Promise((r) => server.close(() => r(undefined))) };
}

/** Every item of a paginated list. @param {(path: string) => Promise<Response>} call @param {string} path */
async function all(call, path) {
  const items = [];
  let cursor = '';
  for (;;) {
    const sep = path.includes('?') ? '&' : '?';
    const res = await call(`${path}${sep}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    assert(res.ok, `GET ${path}: ${res.status}`);
    const page = await res.json();
    items.push(...page.items);
    if (!page.next_cursor) return items;
    cursor = page.next_cursor;
  }
}

/** @param {string} s */
const plain = (s) => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[đĐ]/g, 'd').toLowerCase();

/** @param {import('playwright-core').Page} page @param {string} base */
async function signIn(page, base) {
  await signInWithPin(page, base, VOLUNTEER, PIN);
  await waitSynced(page);
}

/** The sync panel says everything is sent and a sync has finished. @param {import('playwright-core').Page} page */
async function waitSynced(page, timeout = 30_000) {
  await page.waitForSelector('[data-testid="sync-panel"][data-phase="idle"] [data-testid="pending-count"][data-count="0"]', { timeout });
  await page.waitForFunction(() => !document.querySelector('[data-testid="last-sync"]')?.textContent?.includes('Chưa đồng bộ'), undefined, { timeout });
}

/**
 * Every visible control of the screen is at least 44 px tall; a checkbox or radio counts its label.
 * @param {import('playwright-core').Page} page @param {string} screen
 */
async function tapTargets(page, screen) {
  const small = await page.evaluate(() =>
    [...document.querySelectorAll('main button, main a, main input, main select, main textarea')]
      .map((c) => {
        const target = c instanceof HTMLInputElement && (c.type === 'checkbox' || c.type === 'radio') ? (c.closest('label') ?? c) : c;
        const r = target.getBoundingClientRect();
        return { html: c.outerHTML.slice(0, 70), h: r.height, w: r.width };
      })
      .filter((c) => c.w > 0 && c.h > 0 && c.h < 43.5),
  );
  assertEqual(small.length, 0, `controls under 44 px on ${screen}: ${small.map((c) => `${Math.round(c.h)} px ${c.html}`).join(' | ')}`);
}

/** @param {import('playwright-core').Page} page */
async function pending(page) {
  await page.goto(page.url().replace(/#.*$/, '#/'));
  return Number(await page.getByTestId('pending-count').getAttribute('data-count'));
}

/**
 * Ticks VNeID on the open visit form, first showing every service when the household has done it.
 * @param {import('playwright-core').Page} page
 */
async function tickVneid(page) {
  await page.getByTestId('visit-save').waitFor();
  if ((await page.getByTestId('visit-service-vneid_level2').count()) === 0) await page.getByTestId('visit-show-all').click();
  await page.getByTestId('visit-service-vneid_level2').check();
}

/**
 * Logs a visit from the household page: one service done, a note that identifies it.
 * @param {import('playwright-core').Page} page @param {string} householdId @param {string} note
 */
async function logVisit(page, householdId, note) {
  await page.evaluate((/** @type {string} */ id) => (location.hash = `#/households/${encodeURIComponent(id)}`), householdId);
  await page.getByTestId('log-visit').click();
  await tickVneid(page);
  await page.getByTestId('visit-resident').first().check();
  await page.getByTestId('visit-notes').fill(note);
  await page.getByTestId('visit-save').click();
  await page.getByTestId('saved').waitFor();
}

async function main() {
  const backend = await startServer({ seed: true, env: { TUNGNHA_ACCESS_TOKEN_TTL_SECS: String(TOKEN_TTL_SECS) } });
  const proxy = await faultProxy(backend);
  const base = proxy.base;
  const admin = await apiSession(backend, 'quantri');
  const { context, page } = await launch();
  /** @type {string[]} */
  const pageErrors = [];
  page.on('pageerror', (/** @type {Error} */ e) => pageErrors.push(e.message));
  page.on('console', (/** @type {import('playwright-core').ConsoleMessage} */ m) => trace(`console.${m.type()}: ${m.text()}`));
  const volunteerId = (await apiSession(backend, VOLUNTEER)).user.id;
  /** @type {string[]} */
  let households = [];

  await step('sign in online, choose a PIN, and the village is pulled onto the phone', async () => {
    await signIn(page, base);
    await page.waitForFunction(() => navigator.serviceWorker.controller?.state === 'activated');
    await page.goto(`${base}/#/households`);
    await page.getByTestId('household-row').first().waitFor();
    const count = await page.getByTestId('household-count').innerText();
    assert(/^\d+ hộ$/.test(count.replaceAll('.', '')), `household count "${count}"`);
    // The "ready offline" notice of the first install is up, and no control lies under it.
    await page.getByTestId('offline-ready').waitFor();
    const covered = await page.evaluate(() => {
      const notice = document.querySelector('[data-testid="offline-ready"]')?.getBoundingClientRect();
      if (!notice) return ['no notice'];
      return [...document.querySelectorAll('button, a, input, select, textarea')]
        .filter((c) => !c.closest('[data-testid="offline-ready"]'))
        .filter((c) => {
          const r = c.getBoundingClientRect();
          return r.width > 0 && r.height > 0 && r.left < notice.right && r.right > notice.left && r.top < notice.bottom && r.bottom > notice.top;
        })
        .map((c) => c.outerHTML.slice(0, 80));
    });
    assertEqual(covered.length, 0, `controls under the notice: ${covered.join(' | ')}`);
    households = await page
      .getByTestId('household-row')
      .evaluateAll((/** @type {Element[]} */ rows) => rows.slice(0, 6).map((a) => decodeURIComponent(a.getAttribute('href')?.split('/').pop() ?? '')));
    assertEqual(households.length, 6, 'households listed');
  });

  await step('search finds a household typed without diacritics', async () => {
    const name = (await page.getByTestId('household-row').nth(3).locator('strong').innerText()).trim();
    await page.getByTestId('household-search').fill(plain(name));
    await page.waitForFunction(
      (/** @type {string} */ n) => [...document.querySelectorAll('[data-testid="household-row"] strong')].every((s) => s.textContent?.trim() === n),
      name,
    );
    const shown = await page.getByTestId('household-row').count();
    assert(shown >= 1 && shown < 20, `search "${plain(name)}" shows ${shown} rows`);
  });

  await mkdir(RESULTS_DIR, { recursive: true });
  await page.screenshot({ path: join(RESULTS_DIR, 'field-households-360.png') });

  await step('the storage advice says what to do and is said once', async () => {
    await page.evaluate(() => (location.hash = '#/'));
    // Headless Chromium does not make this site's storage persistent, as many phones' browsers.
    await page.locator('[data-testid="home-card"][data-storage="refused"]').waitFor();
    const advice = await page.getByTestId('storage-warning').innerText();
    assert(advice.includes('Thêm vào màn hình chính') && advice.includes('đồng bộ'), `the advice: ${advice}`);
    await page.getByTestId('storage-warning-seen').click();
    // The choice is stored first, then the advice goes (15 s at most, or the step fails).
    await page.getByTestId('storage-warning').waitFor({ state: 'detached' });
    assertEqual(await page.getByTestId('storage-warning').count(), 0, 'advice after "Đã hiểu"');
  });

  await step('offline: three visits and a communication are saved on the phone and shown pending', async () => {
    await context.setOffline(true);
    for (let i = 0; i < 3; i++) await logVisit(page, households[i], `e2e visit ${i + 1}`);
    await page.evaluate(() => (location.hash = '#/communication'));
    await page.getByTestId('communication-reach').fill('35');
    await page.getByTestId('communication-title').fill('e2e loa truyền thanh');
    await page.getByTestId('topic-vneid_level2').check();
    await page.getByTestId('communication-save').click();
    await page.getByTestId('saved').waitFor();
    assertEqual(await pending(page), 4, 'pending records');
    await page.waitForSelector('[data-testid="sync-panel"][data-phase="offline"]');
  });

  await step('offline reload: the app opens with the PIN and the four records are still pending', async () => {
    const res = await page.reload();
    assert(res?.fromServiceWorker(), 'the reload was served by the service worker');
    await page.locator('[data-gate="locked"]').waitFor();
    await page.locator('input[name="pin"]').fill(PIN);
    await page.getByTestId('pin-submit').click();
    await page.locator('[data-gate="ready"]').waitFor();
    assertEqual(await pending(page), 4, 'pending after reload');
    await tapTargets(page, 'home');
    // The storage advice, read once before, is not said again after the reload.
    await page.locator('[data-testid="home-card"]:not([data-storage="checking"])').waitFor();
    assertEqual(await page.getByTestId('storage-warning').count(), 0, 'storage advice after a reload');
    await page.evaluate((/** @type {string} */ id) => (location.hash = `#/households/${encodeURIComponent(id)}`), households[0]);
    await page.waitForSelector('[data-testid="visit"][data-pending="true"]');
    await tapTargets(page, 'the household');
    await page.getByTestId('log-visit').click();
    await page.getByTestId('visit-save').waitFor();
    // The form offers what the household still lacks; every service is one tap away.
    const catalogue = await page.evaluate(async () => {
      const db = await new Promise((resolve) => {
        const open = indexedDB.open('tungnha');
        open.onsuccess = () => resolve(open.result);
      });
      const all = await new Promise((resolve) => {
        const req = /** @type {IDBDatabase} */ (db).transaction('services').objectStore('services').getAll();
        req.onsuccess = () => resolve(req.result);
      });
      /** @type {IDBDatabase} */ (db).close();
      return /** @type {any[]} */ (all).filter((s) => !s.retired).length;
    });
    const offered = await page.locator('[data-testid^="visit-service-"]').count();
    assert(offered > 0 && offered <= catalogue, `services offered: ${offered} of ${catalogue}`);
    if (offered < catalogue) {
      await page.getByTestId('visit-show-all').click();
      assertEqual(await page.locator('[data-testid^="visit-service-"]').count(), catalogue, 'every service after "show all"');
    }
    await tickVneid(page);
    await tapTargets(page, 'the visit form');
    await page.goBack();
    await page.waitForSelector('[data-testid="visit"][data-pending="true"]');
    await page.screenshot({ path: join(RESULTS_DIR, 'field-household-offline-360.png') });
  });

  await step('back online through a server that fails the first two uploads: all sent, each once', async () => {
    proxy.state.failPushes = 2;
    await context.setOffline(false);
    await page.evaluate(() => (location.hash = '#/'));
    await waitSynced(page, 60_000);
    // One story: the header says what the sync panel found.
    assertEqual(await page.getByTestId('connection-status').getAttribute('data-state'), 'online', 'the header after a sync');
    assertEqual(proxy.state.failedPushes, 2, 'uploads answered 500');
    const records = await all(admin.call, `/api/v1/assistance-records?author=${volunteerId}`);
    const mine = records.filter((r) => String(r.notes ?? '').startsWith('e2e visit'));
    assertEqual(mine.map((r) => r.notes).sort().join(','), 'e2e visit 1,e2e visit 2,e2e visit 3', 'visits on the server');
    assertEqual(new Set(mine.map((r) => r.id)).size, 3, 'distinct ids');
    const comms = (await all(admin.call, '/api/v1/communications')).filter((c) => c.title === 'e2e loa truyền thanh');
    assertEqual(comms.length, 1, 'communications on the server');
    assertEqual(comms[0].reach, 35, 'reach');
  });

  await step("a second volunteer of the village sees the first one's visits, and who made them", async () => {
    // A second volunteer of Thôn Phú Lộc, made by the administrator as the accounts screen does.
    const me = (await apiSession(backend, VOLUNTEER)).user;
    const made = await admin.call('/api/v1/users', {
      method: 'POST',
      body: JSON.stringify({
        username: 'tinhnguyen2.phuloc',
        password: 'TungNha@2026',
        display_name: 'Phan Thị Thu',
        role: 'volunteer',
        commune_id: me.commune_id,
        village_ids: me.village_ids,
        must_change_password: false,
      }),
    });
    if (made.status !== 201) assert(false, `a second volunteer: ${made.status} ${await made.text()}`);
    const second = await launch();
    await signInWithPin(second.page, base, 'tinhnguyen2.phuloc', PIN);
    await waitSynced(second.page);
    await second.page.evaluate((/** @type {string} */ id) => (location.hash = `#/households/${encodeURIComponent(id)}`), households[0]);
    await second.page.waitForSelector('[data-testid="visit"][data-pending="false"]');
    const text = await second.page.getByTestId('visit-list').innerText();
    assert(text.includes('e2e visit 1'), `second volunteer's visit list: ${text}`);
    const visit = second.page.locator('[data-testid="visit"]', { hasText: 'e2e visit 1' });
    assertEqual((await visit.getByTestId('visit-author').innerText()).trim(), `Người hỗ trợ: ${me.display_name}`, 'who made the visit');
    await second.context.close();
  });

  await step("the village leader's phone sees the volunteer's visits, who made them, and the team's list", async () => {
    // The volunteer's other phone sent a visit to a household the server does not know.
    const volunteerApi = await apiSession(backend, VOLUNTEER);
    const refusedPush = await (
      await volunteerApi.call('/api/v1/sync/push', {
        method: 'POST',
        body: JSON.stringify({
          device_id: 'e2e-second-phone',
          records: [
            {
              kind: 'assistance_record',
              id: crypto.randomUUID(),
              op: 'create',
              data: {
                household_id: crypto.randomUUID(),
                resident_ids: [],
                occurred_at: new Date().toISOString(),
                channel: 'house_visit',
                items: [{ service_code: 'public_service_portal', outcome: 'assisted' }],
              },
            },
          ],
        }),
      })
    ).json();
    assertEqual(refusedPush.results?.[0]?.status, 'rejected', `the other phone's push: ${JSON.stringify(refusedPush)}`);
    const leaderPhone = await launch();
    const lp = leaderPhone.page;
    await signInWithPin(lp, base, LEADER, PIN);
    await waitSynced(lp);
    const volunteerName = (await apiSession(backend, VOLUNTEER)).user.display_name;
    await lp.evaluate((/** @type {string} */ id) => (location.hash = `#/households/${encodeURIComponent(id)}`), households[0]);
    await lp.waitForSelector('[data-testid="visit"][data-pending="false"]');
    const visit = lp.locator('[data-testid="visit"]', { hasText: 'e2e visit 1' });
    assertEqual((await visit.getByTestId('visit-author').innerText()).trim(), `Người hỗ trợ: ${volunteerName}`, 'who made the visit');
    await lp.evaluate(() => (location.hash = '#/'));
    await lp.getByTestId('go-team-activity').click();
    await lp.getByTestId('team-visit').first().waitFor();
    const since = new Date(Date.now() - 30 * 86_400_000).toISOString();
    const mine = (await all(admin.call, `/api/v1/assistance-records?author=${volunteerId}`)).filter(
      (/** @type {any} */ r) => r.occurred_at >= since && !r.superseded_by,
    );
    assert(mine.length >= 3, `the volunteer's recent visits: ${mine.length}`);
    const listed = await lp.locator(`[data-testid="team-visit"][data-author="${volunteerId}"]`).count();
    assertEqual(listed, mine.length, "the volunteer's visits in the team's list");
    assert((await lp.getByTestId('team-summary').innerText()).includes('lượt hỗ trợ'), 'the summary');
    const refusing = lp.locator(`[data-testid="team-refusing-device"][data-user="${volunteerId}"]`);
    await refusing.waitFor();
    const said = await refusing.innerText();
    assert(said.includes(volunteerName) && said.includes('Không tìm thấy hộ gia đình'), `the other phone's refusal, in Vietnamese: ${said}`);
    assert(!said.includes('household_not_found'), `no raw code: ${said}`);
    await tapTargets(lp, "the team's list");
    await lp.screenshot({ path: join(RESULTS_DIR, 'field-team-activity-360.png') });
    await leaderPhone.context.close();
  });

  await step('an access token that expires while offline blocks neither logging nor sending', async () => {
    await context.setOffline(true);
    await logVisit(page, households[3], 'e2e visit after expiry');
    await sleep((TOKEN_TTL_SECS + 5) * 1000);
    const refreshes = proxy.state.refreshes;
    await context.setOffline(false);
    await page.evaluate(() => (location.hash = '#/'));
    await page.getByTestId('sync-now').click();
    await waitSynced(page);
    const records = await all(admin.call, `/api/v1/assistance-records?household_id=${households[3]}`);
    assertEqual(records.filter((r) => r.notes === 'e2e visit after expiry').length, 1, 'visit sent with a refreshed token');
    assert(proxy.state.refreshes > refreshes, 'the expired token was refreshed on the way');
  });

  await step('a refused record is kept aside with a Vietnamese reason and the others still go', async () => {
    await context.setOffline(true);
    await logVisit(page, households[4], 'e2e visit to a removed household');
    await logVisit(page, households[5], 'e2e visit next door');
    // Meanwhile the village leader removes the first household (a duplicate entry, say).
    const leader = await apiSession(backend, LEADER);
    const del = await leader.call(`/api/v1/households/${households[4]}`, { method: 'DELETE' });
    assert(del.status === 204 || del.status === 200, `DELETE household: ${del.status} ${await del.text()}`);
    await context.setOffline(false);
    await page.evaluate(() => (location.hash = '#/'));
    await page.getByTestId('sync-now').click();
    await page.waitForSelector('[data-testid="rejected-count"][data-count="1"]', { timeout: 30_000 });
    await waitSynced(page);
    const next = await all(admin.call, `/api/v1/assistance-records?household_id=${households[5]}`);
    assertEqual(next.filter((r) => r.notes === 'e2e visit next door').length, 1, 'the other visit');
    await page.getByTestId('rejected-count').click();
    const reason = await page.getByTestId('outbox-reason').innerText();
    assert(reason.includes('Không tìm thấy hộ gia đình'), `reason shown: ${reason}`);
    await page.screenshot({ path: join(RESULTS_DIR, 'field-outbox-rejected-360.png') });
  });

  await step('the form refuses what the server would; a refused visit opens in the full form, is fixed and sent once; a hopeless one is discarded', async () => {
    const home = households[1];
    // A person-level service with nobody ticked is stopped by the form, and nothing is saved.
    await page.evaluate((/** @type {string} */ id) => (location.hash = `#/households/${encodeURIComponent(id)}`), home);
    await page.getByTestId('log-visit').click();
    await tickVneid(page);
    // A follow-up before the visit is refused by the server, so by the form first.
    await page.getByTestId('visit-follow-up').fill('2020-01-01');
    await page.getByTestId('visit-save').click();
    const early = await page.locator('form [role="alert"]').innerText();
    assert(early.startsWith('Ngày hẹn hỗ trợ tiếp phải'), `the form's refusal of the date: ${early}`);
    await page.getByTestId('visit-follow-up').fill('');
    await page.getByTestId('visit-save').click();
    await page.waitForFunction(() => document.querySelector('form [role="alert"]')?.textContent?.includes('cần chọn người'));
    const stopped = await page.locator('form [role="alert"]').innerText();
    assert(stopped.includes('cần chọn người được hỗ trợ'), `the form's refusal: ${stopped}`);
    assertEqual(await page.getByTestId('saved').count(), 0, 'a saved notice for a refused form');

    // The same visit as an earlier version of the app saved it, unchecked: straight into the
    // phone's outbox, as that version would have left it.
    const leader = await apiSession(backend, LEADER);
    const detail = await (await leader.call(`/api/v1/households/${home}`)).json();
    await page.evaluate(
      async (/** @type {{ home: string, owner: string }} */ a) => {
        const db = await new Promise((resolve, reject) => {
          const open = indexedDB.open('tungnha');
          open.onsuccess = () => resolve(open.result);
          open.onerror = () => reject(open.error);
        });
        await new Promise((resolve, reject) => {
          const tx = /** @type {IDBDatabase} */ (db).transaction('outbox', 'readwrite');
          tx.objectStore('outbox').add({
            id: crypto.randomUUID(),
            kind: 'assistance_record',
            op: 'create',
            base_version: null,
            data: {
              household_id: a.home,
              resident_ids: [],
              occurred_at: new Date().toISOString(),
              channel: 'house_visit',
              items: [{ service_code: 'vneid_level2', outcome: 'done' }],
              notes: 'e2e visit fixed after a refusal',
            },
            createdAt: Date.now(),
            status: 'pending',
            attempts: 0,
            lastError: null,
            owner: a.owner,
          });
          tx.oncomplete = () => resolve(undefined);
          tx.onerror = () => reject(tx.error);
        });
        /** @type {IDBDatabase} */ (db).close();
      },
      { home, owner: volunteerId },
    );
    await page.evaluate(() => (location.hash = '#/'));
    await page.getByTestId('sync-now').click();
    await page.waitForSelector('[data-testid="rejected-count"][data-count="2"]', { timeout: 30_000 });
    await waitSynced(page);
    await page.getByTestId('rejected-count').click();
    const entry = page.locator('[data-testid="outbox-entry"]', { hasText: detail.head_name });
    await entry.first().waitFor();
    const words = await entry.first().innerText();
    assert(words.includes(`Hộ: ${detail.head_name}`), `the refused record names its household: ${words}`);
    assert(words.includes('Thiếu người được hỗ trợ.'), `the reason in Vietnamese: ${words}`);
    assert(!/[a-z]+_[a-z]+|say whom/.test(words), `developer text on screen: ${words}`);
    await page.screenshot({ path: join(RESULTS_DIR, 'field-outbox-fix-360.png') });
    // Fix it: the full form with what was logged; the form asks for the resident, then sends.
    await entry.first().getByTestId('outbox-fix').click();
    await page.getByTestId('visit-save').waitFor();
    assertEqual(await page.getByTestId('visit-notes').inputValue(), 'e2e visit fixed after a refusal', 'the notes came back');
    assert(await page.getByTestId('visit-service-vneid_level2').isChecked(), 'the service came back');
    await page.getByTestId('visit-save').click();
    assert((await page.locator('form [role="alert"]').innerText()).includes('cần chọn người'), 'nobody ticked is stopped again');
    await page.getByTestId('visit-resident').first().check();
    await page.getByTestId('visit-save').click();
    await page.getByTestId('outbox-saved').waitFor();
    await page.evaluate(() => (location.hash = '#/'));
    await page.waitForSelector('[data-testid="rejected-count"][data-count="1"]', { timeout: 30_000 });
    await waitSynced(page);
    const sent = await all(admin.call, `/api/v1/assistance-records?household_id=${home}`);
    const fixed = sent.filter((r) => r.notes === 'e2e visit fixed after a refusal');
    assertEqual(fixed.length, 1, 'the fixed visit, stored once');
    assertEqual(fixed[0].resident_ids.length, 1, 'with the resident ticked');
    assert(detail.residents.some((/** @type {any} */ r) => r.id === fixed[0].resident_ids[0]), 'one of the household');
    // The visit to the removed household cannot be fixed: discarded, after a question.
    await page.evaluate(() => (location.hash = '#/outbox'));
    /** @type {string[]} */
    const asked = [];
    page.once('dialog', (d) => {
      asked.push(d.message());
      void d.accept();
    });
    await page.getByTestId('outbox-discard').first().click();
    await page.getByTestId('outbox-empty').waitFor();
    assert(asked[0]?.startsWith('Bỏ bản ghi này?'), `the question: ${asked[0]}`);
  });

  await step('a phone signed out by the village leader drops the village list at next contact and keeps its unsent visit', async () => {
    await context.setOffline(true);
    await logVisit(page, households[0], 'e2e visit before the phone was signed out');
    const leader = await apiSession(backend, LEADER);
    const res = await leader.call(`/api/v1/users/${volunteerId}/sessions/revoke`, { method: 'POST' });
    assertEqual(res.status, 200, `revoke: ${await res.clone().text()}`);
    await context.setOffline(false);
    await page.evaluate(() => (location.hash = '#/'));
    // Coming back online starts a sync by itself; the button is for when it has not yet.
    await page
      .locator('[data-testid="sync-now"]:enabled')
      .click({ timeout: 3_000 })
      .catch(() => trace('the sync had started on its own'));
    await page.getByTestId('relogin').click({ timeout: 30_000 });
    await page.getByTestId('login-ended').waitFor();
    const left = await page.evaluate(
      () =>
        new Promise((resolve, reject) => {
          const open = indexedDB.open('tungnha');
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const tx = open.result.transaction(['households', 'residents', 'outbox'], 'readonly');
            /** @type {Record<string, number>} */
            const counts = {};
            for (const name of ['households', 'residents', 'outbox']) {
              const req = tx.objectStore(name).count();
              req.onsuccess = () => (counts[name] = req.result);
            }
            tx.oncomplete = () => resolve(counts);
          };
        }),
    );
    // The unsent visit (the refused one of before was discarded in the step above).
    assertEqual(JSON.stringify(left), JSON.stringify({ households: 0, residents: 0, outbox: 1 }), 'what stays on the phone');
    // Signing in again sends the visit, once.
    await page.locator('input[name="username"]').fill(VOLUNTEER);
    await page.locator('input[name="password"]').fill(DEMO_PASSWORD);
    await page.getByTestId('login-submit').click();
    await page.evaluate(() => (location.hash = '#/'));
    await page.getByTestId('sync-now').click();
    await waitSynced(page);
    const sent = await all(admin.call, `/api/v1/assistance-records?household_id=${households[0]}`);
    assertEqual(sent.filter((r) => r.notes === 'e2e visit before the phone was signed out').length, 1, 'the kept visit, sent once');
  });

  await step('no uncaught errors in the page', async () => {
    assert(pageErrors.length === 0, `page errors:\n${pageErrors.join('\n')}`);
  });
  await proxy.close();
}

await run(main);
