// End-to-end test of the administrator's screens in real Chromium against the real server with the
// demo commune: the admin creates a volunteer account (the server's per-field validation shown in
// Vietnamese first), the new volunteer signs in on a phone and gets the field app with the village's
// households, the creation is in the audit log, an API key is shown once and works against the API
// until it is revoked, a deactivated account can no longer sign in, an account created with "must
// change password" chooses its own on the phone before anything else (a mismatched repeat, a too
// short and a wrong current password refused in Vietnamese), and webhooks, villages, services and
// indicator targets set on the screens are what the server then holds. Screenshots of the admin
// screen at 360 and 1280 px go to test-results/ (not committed).
//
//   node e2e/admin.mjs        # spawns ../target/debug/tungnha (TUNGNHA_BIN) on a seeded SQLite file
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { RESULTS_DIR, apiSession, assert, assertEqual, launch, run, signInWithPin, sleep, startServer, step, trace } from './harness.mjs';

const PIN = '1357';
const NEW_USER = 'tinhnguyen.e2e';
const NEW_NAME = 'Nguyễn Thị Thử Nghiệm';

/**
 * Signs in through the app's form with any password and chooses a PIN.
 * @param {import('playwright-core').Page} page @param {string} base @param {string} username @param {string} password
 */
async function signInAs(page, base, username, password) {
  await page.goto(`${base}/`);
  await page.locator('[data-gate="login"]').waitFor();
  await page.locator('input[name="username"]').fill(username);
  await page.locator('input[name="password"]').fill(password);
  await page.getByTestId('login-submit').click();
}

/** @param {import('playwright-core').Page} page @param {string} name */
function watch(page, name) {
  page.on('console', (m) => trace(`${name} console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => trace(`${name} page error: ${e.message}`));
}

/** @param {import('playwright-core').Page} page */
async function noAlert(page) {
  const alert = page.locator('[role="alert"]');
  assert((await alert.count()) === 0, `unexpected alert: ${await alert.first().innerText().catch(() => '')}`);
}

async function main() {
  const base = await startServer({ seed: true });
  await mkdir(RESULTS_DIR, { recursive: true });
  const admin = (await apiSession(base, 'quantri')).call;
  const villages = (await (await admin('/api/v1/villages?limit=200')).json()).items;
  const phuLoc = villages.find((/** @type {any} */ v) => v.name === 'Thôn Phú Lộc');
  assert(phuLoc, 'the demo has Thôn Phú Lộc');

  const { page } = await launch({ viewport: { width: 1280, height: 800 } });
  watch(page, 'admin');
  /** The new account as the server stored it. @type {any} */
  let created;
  /** The initial password the screen generated and sent. */
  let password = '';

  await step('the admin opens Quản trị and sees the accounts the server lists', async () => {
    await signInWithPin(page, base, 'quantri', PIN);
    await page.getByTestId('nav-admin').click();
    await page.getByTestId('admin-accounts').waitFor();
    const expected = (await (await admin('/api/v1/users?limit=50')).json()).items;
    await page.locator(`[data-testid="account"][data-username="${expected[expected.length - 1].username}"]`).waitFor();
    assertEqual(await page.getByTestId('account').count(), expected.length, 'accounts on the first page');
    const leader = page.locator('[data-testid="account"][data-username="truongthon.phuloc"]');
    assert((await leader.innerText()).includes('Trưởng thôn') && (await leader.innerText()).includes('Thôn Phú Lộc'), 'the leader row names role and village');
  });

  await step("a bad account is refused with the server's per-field reasons, in Vietnamese", async () => {
    await page.getByTestId('account-username').fill('Lan NT');
    await page.getByTestId('account-display-name').fill(NEW_NAME);
    await page.getByTestId('account-role-select').selectOption('volunteer');
    await page.getByTestId('account-password').fill('ngắn');
    await page.getByTestId('account-create').click();
    await page.getByTestId('field-error-username').waitFor();
    assertEqual(await page.getByTestId('field-error-username').innerText(), 'Có ký tự không được phép.', 'username problem');
    assertEqual(await page.getByTestId('field-error-password').innerText(), 'Quá ngắn.', 'password problem');
    assertEqual(await page.getByTestId('accounts-error').innerText(), 'Thông tin chưa hợp lệ, xem các mục được đánh dấu.', 'summary');
    const check = await admin(`/api/v1/users?village_id=${phuLoc.id}&role=volunteer`);
    const names = (await check.json()).items.map((/** @type {any} */ u) => u.username);
    assert(!names.includes('lan nt') && !names.includes('lan.nt'), 'nothing was created');
  });

  await step('the admin creates a volunteer for Thôn Phú Lộc; the server holds it as sent', async () => {
    await page.getByTestId('account-username').fill(NEW_USER);
    await page.getByTestId('account-display-name').fill(NEW_NAME);
    await page.getByTestId('account-suggest').click();
    password = await page.getByTestId('account-password').inputValue();
    assert(password.length >= 12, `suggested password: ${password}`);
    await page.getByTestId('account-villages').getByLabel('Thôn Phú Lộc').check();
    await page.getByTestId('account-create').click();
    await page.getByTestId('accounts-notice').waitFor();
    await noAlert(page);
    const list = await (await admin(`/api/v1/users?village_id=${phuLoc.id}&role=volunteer`)).json();
    created = list.items.find((/** @type {any} */ u) => u.username === NEW_USER);
    assert(created, `${NEW_USER} is listed by the server`);
    assertEqual(created.display_name, NEW_NAME, 'display name');
    assertEqual(JSON.stringify(created.village_ids), JSON.stringify([phuLoc.id]), 'villages');
    assertEqual(created.active, true, 'active');
    const notice = await page.getByTestId('accounts-notice').innerText();
    assert(notice.includes(NEW_USER) && notice.includes(password), `notice: ${notice}`);
    await page.locator(`[data-testid="account"][data-username="${NEW_USER}"]`).waitFor();
    // The same username again: the server's 409, in Vietnamese.
    await page.getByTestId('account-username').fill(NEW_USER);
    await page.getByTestId('account-display-name').fill('Người khác');
    await page.getByTestId('account-villages').getByLabel('Thôn Phú Lộc').check();
    await page.getByTestId('account-create').click();
    await page.getByTestId('accounts-error').waitFor();
    assertEqual(await page.getByTestId('accounts-error').innerText(), 'Tên đăng nhập này đã có người dùng.', 'duplicate username');
  });

  /** The volunteer's phone. */
  const phone = await launch({ viewport: { width: 360, height: 740 } });
  watch(phone.page, 'volunteer');

  await step("the new volunteer signs in on a phone and gets the field app with the village's households", async () => {
    await signInAs(phone.page, base, NEW_USER, password);
    await phone.page.locator('[data-gate="set-pin"]').waitFor();
    await phone.page.locator('input[name="pin"]').fill(PIN);
    await phone.page.locator('input[name="pin-confirm"]').fill(PIN);
    await phone.page.getByTestId('pin-submit').click();
    await phone.page.locator('[data-gate="ready"]').waitFor();
    assertEqual(await phone.page.getByTestId('home-hello').innerText(), `Xin chào, ${NEW_NAME}`, 'greeting with the stored name');
    assert((await phone.page.getByTestId('go-households').count()) === 1, 'the field home offers the households');
    const volunteer = (await apiSession(base, NEW_USER, password)).call;
    let n = 0;
    for (let cursor = ''; ; ) {
      const res = await volunteer(`/api/v1/households?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      assert(res.ok, `households for the new volunteer: ${res.status}`);
      const body = await res.json();
      n += body.items.length;
      if (!body.next_cursor) break;
      cursor = body.next_cursor;
    }
    assert(n > 0, 'the village has households');
    await phone.page.getByTestId('go-households').click();
    await phone.page.waitForFunction(
      (/** @type {string} */ want) => document.querySelector('[data-testid="household-count"]')?.textContent?.trim() === want,
      `${new Intl.NumberFormat('vi-VN').format(n)} hộ`,
      { timeout: 30_000 },
    );
  });

  await step('the account creation is in the audit log: who, what, when, target', async () => {
    await page.getByTestId('admin-tab-audit').click();
    await page.getByTestId('audit-filter-action').selectOption('user_created');
    const event = page.locator(`[data-testid="audit-event"][data-action="user_created"][data-object="${created.id}"]`);
    await event.waitFor();
    // The unfiltered list stays on screen until the filtered one arrives (it may hold this event too).
    await page.waitForFunction(() =>
      [...document.querySelectorAll('[data-testid="audit-event"]')].every((e) => e.getAttribute('data-action') === 'user_created'),
    );
    const events = (await (await admin('/api/v1/audit-events?action=user_created&limit=50')).json()).items;
    assertEqual(events[0].object_id, created.id, 'the newest user_created event is this account');
    assertEqual(await page.getByTestId('audit-event').first().getAttribute('data-object'), created.id, 'newest first on screen');
    const text = await event.innerText();
    assert(text.includes('Tạo tài khoản') && text.includes('quantri') && text.includes(NEW_USER), `event: ${text}`);
    // One tap on the actor filters by them: with every action shown, the volunteer's own sign-in
    // is listed, and gone once the list is the admin's only.
    await page.getByTestId('audit-filter-action').selectOption('');
    await page.locator('[data-testid="audit-event"][data-action="login"]', { hasText: NEW_USER }).first().waitFor();
    await page.getByTestId('audit-actor').filter({ hasText: /^\s*quantri\s*$/ }).first().click();
    await page.getByTestId('audit-clear-actor').waitFor();
    await page.waitForFunction(() => {
      const actors = [...document.querySelectorAll('[data-testid="audit-actor"]')].map((a) => a.textContent?.trim());
      return actors.length > 0 && actors.every((a) => a === 'quantri');
    });
  });

  await step('an API key is shown once, works against the API, and stops working once revoked', async () => {
    await page.getByTestId('admin-tab-keys').click();
    await page.getByTestId('key-name').fill('Bảng điều khiển IOC (kiểm thử)');
    await page.getByTestId('key-create').click();
    await page.getByTestId('secret-once').waitFor();
    const warning = await page.getByTestId('secret-once').innerText();
    assert(warning.includes('lần duy nhất'), `warning: ${warning}`);
    const secret = await page.getByTestId('secret-value').inputValue();
    assert(secret.startsWith('tn_'), `key: ${secret.slice(0, 3)}…`);
    const withKey = (/** @type {string} */ path) => fetch(`${base}${path}`, { headers: { authorization: `Bearer ${secret}` } });
    const indicators = await withKey('/api/v1/indicators');
    assertEqual(indicators.status, 200, 'GET /indicators with the key');
    assert((await indicators.json()).items.length > 0, 'indicators answered');
    const users = await withKey('/api/v1/users');
    assert(users.status === 403 || users.status === 401, `GET /users with a stats key: ${users.status}`);
    const row = page.locator('[data-testid="api-key"][data-name="Bảng điều khiển IOC (kiểm thử)"]');
    assert((await row.innerText()).includes(secret.slice(0, 8)), 'the list shows the prefix');
    await page.getByTestId('secret-close').click();
    assert(!(await page.content()).includes(secret), 'the key is gone from the page once closed');
    await row.getByTestId('key-revoke').click();
    await row.getByTestId('key-revoke-confirm').click();
    await row.getByTestId('key-revoked').waitFor();
    assertEqual((await withKey('/api/v1/indicators')).status, 401, 'GET /indicators with the revoked key');
  });

  await step("the admin deactivates the account; the volunteer's next sign-in is refused in Vietnamese", async () => {
    await page.getByTestId('admin-tab-accounts').click();
    const row = page.locator(`[data-testid="account"][data-username="${NEW_USER}"]`);
    await row.getByTestId('account-edit').click();
    await row.getByTestId('account-deactivate').click();
    await row.getByTestId('account-edit-notice').waitFor();
    await row.getByTestId('account-inactive').waitFor();
    const after = await (await admin(`/api/v1/users/${created.id}`)).json();
    assertEqual(after.active, false, 'the server holds the account as deactivated');
    const again = await launch({ viewport: { width: 360, height: 740 } });
    await signInAs(again.page, base, NEW_USER, password);
    await again.page.getByTestId('login-error').waitFor();
    assertEqual(await again.page.getByTestId('login-error').innerText(), 'Tên đăng nhập hoặc mật khẩu không đúng.', 'refusal');
    const failed = (await (await admin(`/api/v1/audit-events?action=login_failed&object_id=${created.id}`)).json()).items;
    assertEqual(failed[0]?.details?.reason, 'account_disabled', 'the server refused because the account is disabled');
  });

  await step('an account that must change its password chooses a new one on the phone before anything else', async () => {
    const username = 'doimatkhau.e2e';
    const name = 'Trần Văn Đổi Mật Khẩu';
    const fresh = 'Mật khẩu mới của tôi 2026';
    await page.getByTestId('account-username').fill(username);
    await page.getByTestId('account-display-name').fill(name);
    await page.getByTestId('account-role-select').selectOption('volunteer');
    await page.getByTestId('account-suggest').click();
    const initial = await page.getByTestId('account-password').inputValue();
    await page.getByTestId('account-villages').getByLabel('Thôn Phú Lộc').check();
    await page.getByTestId('account-must-change').check();
    await page.getByTestId('account-create').click();
    await page.locator('[data-testid="accounts-notice"]', { hasText: username }).waitFor();
    const listed = (await (await admin(`/api/v1/users?village_id=${phuLoc.id}&role=volunteer`)).json()).items;
    const user = listed.find((/** @type {any} */ u) => u.username === username);
    assertEqual(user?.must_change_password, true, 'the server holds the account as having to change its password');

    const { context, page: p } = await launch({ viewport: { width: 360, height: 740 } });
    watch(p, 'must-change');
    /** Password changes the page sent. @type {string[]} */
    const sent = [];
    p.on('request', (r) => {
      if (r.method() === 'POST' && r.url().endsWith(`/api/v1/users/${user.id}/password`)) sent.push(r.url());
    });
    await signInAs(p, base, username, initial);
    await p.locator('[data-gate="password"]').waitFor();
    await p.getByTestId('change-password').waitFor();
    assertEqual(await p.locator('#cp-title').innerText(), 'Đổi mật khẩu', 'title');
    assert((await p.evaluate(() => document.documentElement.scrollWidth)) <= 360, 'the screen fits 360 px');

    // A repeat that differs is refused on the phone, without asking the server.
    await p.getByTestId('cp-current').fill(initial);
    await p.getByTestId('cp-new').fill(fresh);
    await p.getByTestId('cp-repeat').fill(`${fresh}!`);
    await p.getByTestId('cp-submit').click();
    await p.getByTestId('cp-error-repeat').waitFor();
    assertEqual(await p.getByTestId('cp-error-repeat').innerText(), 'Hai lần nhập mật khẩu mới không khớp nhau.', 'mismatch');
    assertEqual(sent.length, 0, 'password changes sent for a mismatch');

    // Too short: the server's field error (code too_short), said in Vietnamese.
    await p.getByTestId('cp-new').fill('ngắn');
    await p.getByTestId('cp-repeat').fill('ngắn');
    const [short] = await Promise.all([
      p.waitForResponse((r) => r.url().endsWith(`/api/v1/users/${user.id}/password`)),
      p.getByTestId('cp-submit').click(),
    ]);
    assertEqual(short.status(), 400, 'a too-short password is refused by the server');
    assertEqual((await short.json()).errors?.[0]?.code, 'too_short', "the server's field code");
    await p.getByTestId('cp-error-new_password').waitFor();
    assertEqual(await p.getByTestId('cp-error-new_password').innerText(), 'Mật khẩu mới phải có ít nhất 8 ký tự.', 'too short');
    assertEqual(await p.getByTestId('cp-error-repeat').count(), 0, 'the mismatch is gone');

    // A wrong current password: the server's 403, on the current password's field.
    await p.getByTestId('cp-current').fill('không phải mật khẩu');
    await p.getByTestId('cp-new').fill(fresh);
    await p.getByTestId('cp-repeat').fill(fresh);
    await p.getByTestId('cp-submit').click();
    await p.getByTestId('cp-error-current_password').waitFor();
    assertEqual(await p.getByTestId('cp-error-current_password').innerText(), 'Mật khẩu hiện tại không đúng.', 'wrong current');
    assertEqual((await (await admin(`/api/v1/users/${user.id}`)).json()).must_change_password, true, 'still to change');

    // Offline: the screen says a connection is needed, and nothing changed.
    await p.getByTestId('cp-current').fill(initial);
    await context.setOffline(true);
    await p.getByTestId('cp-offline').waitFor();
    await p.getByTestId('cp-submit').click();
    await p.getByTestId('cp-error').waitFor();
    assertEqual(await p.getByTestId('cp-error').innerText(), 'Cần có kết nối mạng để đổi mật khẩu. Hãy thử lại khi có mạng.', 'offline');
    await context.setOffline(false);

    // The right one: signed in again with the new password, then the PIN, then the field home.
    await p.getByTestId('cp-submit').click();
    await p.locator('[data-gate="set-pin"]').waitFor();
    await p.locator('input[name="pin"]').fill(PIN);
    await p.locator('input[name="pin-confirm"]').fill(PIN);
    await p.getByTestId('pin-submit').click();
    await p.locator('[data-gate="ready"]').waitFor();
    assertEqual(await p.getByTestId('home-hello').innerText(), `Xin chào, ${name}`, 'greeting');
    assert((await p.getByTestId('go-households').count()) === 1, 'the field home offers the households');
    await noAlert(p);

    assertEqual((await (await admin(`/api/v1/users/${user.id}`)).json()).must_change_password, false, 'the server cleared the flag');
    const login = (/** @type {string} */ password) =>
      fetch(`${base}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password }),
      });
    assertEqual((await login(initial)).status, 401, 'the initial password no longer signs in');
    assertEqual((await login(fresh)).status, 200, 'the new password signs in');
    // The session the change was made with is ended once the app signed in anew.
    const deadline = Date.now() + 5000;
    for (;;) {
      const ended = (await (await admin(`/api/v1/audit-events?action=logout&actor_user_id=${user.id}`)).json()).items;
      if (ended.length > 0) break;
      assert(Date.now() < deadline, 'the old session was not ended');
      await sleep(200);
    }
    // The stored account lost the flag: a restart asks for the PIN, not for a new password.
    await p.reload();
    await p.locator('[data-gate="locked"]').waitFor();
  });

  await step('webhooks, villages, services and indicator targets change what the server holds', async () => {
    await page.getByTestId('admin-tab-webhooks').click();
    await page.getByTestId('webhook-name').fill('Bảng điều khiển thành phố (kiểm thử)');
    await page.getByTestId('webhook-url').fill('https://dx.haiphong.example/hooks/tungnha');
    await page.getByTestId('webhook-create').click();
    await page.getByTestId('secret-once').waitFor();
    const secret = await page.getByTestId('secret-value').inputValue();
    const hooks = (await (await admin('/api/v1/webhooks')).json()).items;
    const hook = hooks.find((/** @type {any} */ h) => h.name === 'Bảng điều khiển thành phố (kiểm thử)');
    assert(hook && hook.url === 'https://dx.haiphong.example/hooks/tungnha', 'the webhook is stored');
    assert(secret.length >= 20 && !JSON.stringify(hooks).includes(secret), 'the secret is shown once, never listed');
    await page.getByTestId('secret-close').click();
    await page.locator('[data-testid="webhook"]', { hasText: 'Bảng điều khiển thành phố' }).getByTestId('webhook-deliveries').click();
    await page.getByText('Chưa có lần gửi nào.').waitFor();

    await page.getByTestId('admin-tab-places').click();
    await page.getByTestId('commune-villages').first().click();
    await page.getByTestId('village').first().waitFor();
    await page.getByTestId('village-code').fill('T99');
    await page.getByTestId('village-name').fill('Thôn Thử Nghiệm');
    await page.getByTestId('village-create').click();
    const village = page.locator('[data-testid="village"][data-code="T99"]');
    await village.waitFor();
    await village.getByTestId('village-rename').click();
    await village.getByTestId('village-rename-name').fill('Thôn Thử Nghiệm Mới');
    await village.getByTestId('village-rename-save').click();
    await village.getByText('Thôn Thử Nghiệm Mới').waitFor();
    const stored = (await (await admin('/api/v1/villages?limit=200')).json()).items.find((/** @type {any} */ v) => v.code === 'T99');
    assertEqual(stored?.name, 'Thôn Thử Nghiệm Mới', 'renamed village on the server');

    await page.getByTestId('admin-tab-catalogue').click();
    const indicator = page.locator('[data-testid="indicator-def"][data-code="adults_vneid_level2"]');
    await indicator.getByTestId('indicator-target-input').fill('85,5');
    await indicator.getByTestId('indicator-target-save').click();
    await page.getByText('Đã lưu chỉ tiêu.').waitFor();
    const defs = (await (await admin('/api/v1/indicators')).json()).items;
    assertEqual(defs.find((/** @type {any} */ i) => i.code === 'adults_vneid_level2')?.target_percent, 85.5, 'target on the server');
    await page.getByTestId('service-code').fill('zalo_oa_xa');
    await page.getByTestId('service-name-vi').fill('Theo dõi Zalo OA của xã');
    await page.getByTestId('service-name-en').fill("Following the commune's Zalo OA");
    await page.getByTestId('service-create').click();
    await page.locator('[data-testid="service"][data-code="zalo_oa_xa"]').waitFor();
    const services = (await (await admin('/api/v1/services')).json()).items;
    assertEqual(services.find((/** @type {any} */ x) => x.code === 'zalo_oa_xa')?.name_vi, 'Theo dõi Zalo OA của xã', 'new service on the server');
    // Renamed and handed to the youth union from the same list.
    const added = page.locator('[data-testid="service"][data-code="zalo_oa_xa"]');
    await added.getByTestId('service-edit').locator('summary').click();
    await added.getByTestId('service-edit-name-vi').fill('Quan tâm Zalo OA của UBND xã');
    await added.getByTestId('service-edit-department').selectOption('youth_union');
    await added.getByTestId('service-edit-save').click();
    await added.getByText('Quan tâm Zalo OA của UBND xã').waitFor();
    const renamed = (await (await admin('/api/v1/services')).json()).items.find((/** @type {any} */ x) => x.code === 'zalo_oa_xa');
    assertEqual(`${renamed?.name_vi} / ${renamed?.department}`, 'Quan tâm Zalo OA của UBND xã / youth_union', 'renamed service on the server');
    await page.getByTestId('admin-tab-accounts').click();
  });

  await step('the admin screen fits a 360 px phone and a 1280 px laptop (screenshots)', async () => {
    await page.getByTestId('admin-accounts').waitFor();
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(RESULTS_DIR, 'admin-accounts-1280.png'), fullPage: true });
    await page.setViewportSize({ width: 360, height: 740 });
    await page.evaluate(() => window.scrollTo(0, 0));
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert(width <= 360, `the page is ${width} px wide at 360`);
    await page.screenshot({ path: join(RESULTS_DIR, 'admin-accounts-360.png'), fullPage: false });
    await page.getByTestId('admin-tab-audit').click();
    await page.getByTestId('audit-event').first().waitFor();
    assert((await page.evaluate(() => document.documentElement.scrollWidth)) <= 360, 'the audit log fits 360 px');
    await page.screenshot({ path: join(RESULTS_DIR, 'admin-audit-360.png'), fullPage: false });
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.screenshot({ path: join(RESULTS_DIR, 'admin-audit-1280.png'), fullPage: true });
  });
}

await run(main);
