// End-to-end test of a change of scope in real Chromium: a volunteer's phone holds Thôn Phú Lộc;
// an administrator moves the volunteer to another village while the phone is signed in; after its
// next sync the phone says so in Vietnamese, lists only the new village's households, and the old
// village's households, residents and ledger are gone from IndexedDB (the outbox stays).
//
//   node e2e/scope.mjs        # spawns ../target/debug/tungnha (TUNGNHA_BIN) on a seeded SQLite file
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { RESULTS_DIR, apiSession, assert, assertEqual, launch, run, signInWithPin, startServer, step, trace } from './harness.mjs';

const VOLUNTEER = 'tinhnguyen.phuloc';
const PIN = '1357';

/** @param {import('playwright-core').Page} page */
async function waitSynced(page, timeout = 30_000) {
  await page.waitForSelector('[data-testid="sync-panel"][data-phase="idle"] [data-testid="pending-count"][data-count="0"]', { timeout });
  await page.waitForFunction(() => !document.querySelector('[data-testid="last-sync"]')?.textContent?.includes('Chưa đồng bộ'), undefined, { timeout });
}

/** A reload opens the app locked: the PIN unlocks it, and the sync starts. @param {import('playwright-core').Page} page */
async function reloadAndUnlock(page) {
  await page.reload();
  await page.locator('[data-gate="locked"]').waitFor();
  await page.locator('input[name="pin"]').fill(PIN);
  await page.getByTestId('pin-submit').click();
  await page.locator('[data-gate="ready"]').waitFor();
}

/**
 * What the phone's database holds: the village of each household, and how many residents,
 * ledger entries and outbox records it keeps.
 * @param {import('playwright-core').Page} page
 */
async function held(page) {
  return page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('tungnha');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const tx = db.transaction(['households', 'residents', 'adoptions', 'outbox'], 'readonly');
          /** @type {Record<string, unknown[]>} */
          const out = {};
          for (const name of ['households', 'residents', 'adoptions', 'outbox']) {
            const req = tx.objectStore(name).getAll();
            req.onsuccess = () => (out[name] = req.result);
          }
          tx.oncomplete = () => {
            db.close();
            const households = /** @type {{ id: string, village_id: string }[]} */ (out.households);
            resolve({
              villages: [...new Set(households.map((h) => h.village_id))],
              households: households.map((h) => h.id),
              residents: /** @type {{ household_id: string }[]} */ (out.residents).map((r) => r.household_id),
              adoptions: /** @type {{ household_id: string }[]} */ (out.adoptions).map((a) => a.household_id),
              outbox: out.outbox.length,
            });
          };
        };
      }),
  );
}

/** Every household id of a village, as an administrator reads it. @param {(p: string) => Promise<Response>} call @param {string} village */
async function householdsOf(call, village) {
  const ids = [];
  let cursor = '';
  for (;;) {
    const res = await call(`/api/v1/households?village_id=${village}&limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    assert(res.ok, `households of ${village}: ${res.status}`);
    const page = await res.json();
    ids.push(...page.items.map((/** @type {{ id: string }} */ h) => h.id));
    if (!page.next_cursor) return ids;
    cursor = page.next_cursor;
  }
}

async function main() {
  const base = await startServer({ seed: true });
  const admin = await apiSession(base, 'quantri');
  const volunteer = await apiSession(base, VOLUNTEER);
  const { page } = await launch();
  page.on('console', (/** @type {import('playwright-core').ConsoleMessage} */ m) => trace(`console.${m.type()}: ${m.text()}`));
  const oldVillage = volunteer.user.village_ids[0];
  const villagesRes = await admin.call(`/api/v1/villages?commune_id=${volunteer.user.commune_id}&limit=200`);
  assert(villagesRes.ok, `villages: ${villagesRes.status}`);
  const villages = (await villagesRes.json()).items;
  const target = villages.find((/** @type {{ id: string }} */ v) => v.id !== oldVillage);
  assert(target, 'a second village in the demo commune');

  await step('the phone holds the volunteer’s own village', async () => {
    await signInWithPin(page, base, VOLUNTEER, PIN);
    await waitSynced(page);
    const now = /** @type {{ villages: string[], households: string[] }} */ (await held(page));
    assertEqual(JSON.stringify(now.villages), JSON.stringify([oldVillage]), 'villages on the phone');
    assertEqual(now.households.length, (await householdsOf(admin.call, oldVillage)).length, 'households of the old village');
  });

  await step('moved to another village while signed in, the next sync brings exactly the new one', async () => {
    const res = await admin.call(`/api/v1/users/${volunteer.user.id}`, {
      method: 'PATCH',
      body: JSON.stringify({ village_ids: [target.id] }),
    });
    assertEqual(res.status, 200, 'move the volunteer');
    // The app syncs when it comes back on screen; a reload starts it at once.
    await reloadAndUnlock(page);
    await page.getByTestId('scope-notice').waitFor({ timeout: 30_000 });
    await waitSynced(page);
    const text = await page.getByTestId('scope-notice').innerText();
    assert(text.includes(`Bạn đã được chuyển sang ${target.name}`), `notice: ${text}`);
    const now = /** @type {{ villages: string[], households: string[], residents: string[], adoptions: string[] }} */ (await held(page));
    assertEqual(JSON.stringify(now.villages), JSON.stringify([target.id]), 'villages on the phone');
    const expected = await householdsOf(admin.call, target.id);
    assertEqual(JSON.stringify([...now.households].sort()), JSON.stringify([...expected].sort()), 'households of the new village');
    const old = new Set(await householdsOf(admin.call, oldVillage));
    assert(!now.residents.some((h) => old.has(h)), 'no resident of the old village');
    assert(!now.adoptions.some((h) => old.has(h)), 'no ledger entry of the old village');
    await page.goto(`${base}/#/households`);
    await page.getByTestId('household-row').first().waitFor();
    const count = (await page.getByTestId('household-count').innerText()).replaceAll('.', '');
    assertEqual(count, `${expected.length} hộ`, 'the household list');
    await mkdir(RESULTS_DIR, { recursive: true });
    await page.goto(`${base}/#/`);
    await page.getByTestId('scope-notice').waitFor();
    await page.screenshot({ path: join(RESULTS_DIR, 'scope-moved.png'), fullPage: true });
  });

  await step('the notice goes once read, and stays gone after a reload', async () => {
    await page.getByTestId('scope-notice').getByRole('button').click();
    await page.getByTestId('scope-notice').waitFor({ state: 'detached' });
    await reloadAndUnlock(page);
    await waitSynced(page);
    assertEqual(await page.getByTestId('scope-notice').count(), 0, 'notices after a reload');
  });
}

await run(main);
