// End-to-end test of the office side in real Chromium against the real server with the demo
// commune: the chairman's dashboard (figures, trend, villages, targets), the list of who is still
// missing behind a figure and its CSV download, a department's own indicators first, and each
// role's first screen at phone and laptop widths (screenshots in test-results/, not committed).
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RESULTS_DIR, apiSession, assert, assertEqual, launch, run, signInWithPin, startServer, step, trace } from './harness.mjs';

const PIN = '1357';

/** @param {import('playwright-core').Page} page @param {string} base @param {string} username */
const signIn = (page, base, username) => signInWithPin(page, base, username, PIN);

async function main() {
  const base = await startServer({ seed: true });
  await mkdir(RESULTS_DIR, { recursive: true });
  const chairman = (await apiSession(base, 'chutich')).call;
  const today = new Date(Date.now() + 7 * 3600_000).toISOString().slice(0, 10);
  const expected = await (await chairman(`/api/v1/stats/indicators?period=quarter&date=${today}&group_by=village`)).json();
  const vneid = expected.items.find((/** @type {any} */ i) => i.indicator.code === 'adults_vneid_level2');
  assert(vneid, 'the demo has the VNeID indicator');

  const { page } = await launch();
  await step("the chairman's first screen is the commune dashboard with the server's figures", async () => {
    await signIn(page, base, 'chutich');
    const card = page.locator('[data-testid="indicator"][data-code="adults_vneid_level2"]');
    await card.waitFor();
    const percent = (await card.getByTestId('indicator-percent').innerText()).trim();
    assertEqual(percent, `${String(vneid.current.percent).replace('.', ',')}%`, 'VNeID rate (Vietnamese decimal comma)');
    const figure = (await card.getByTestId('indicator-figure').innerText()).trim();
    const n = (/** @type {number} */ x) => new Intl.NumberFormat('vi-VN').format(x);
    assertEqual(figure, `${n(vneid.current.numerator)}/${n(vneid.current.denominator)}`, 'numerator/denominator');
    assertEqual(await page.getByTestId('indicator').count(), expected.items.length, 'indicator cards');
    // What waits for the chairman, counted as the API counts it, each line a way to act on it.
    const reportList = (await (await chairman('/api/v1/reports')).json()).items;
    const open = (await (await chairman('/api/v1/difficulties?status=open&limit=200')).json()).items;
    const proposed = (await (await chairman('/api/v1/award-proposals?status=proposed')).json()).items;
    const want = {
      reports: reportList.filter((/** @type {any} */ r) => r.status === 'draft').length,
      difficulties: open.filter((/** @type {any} */ d) => Date.now() - Date.parse(d.received_at) > 3 * 86_400_000).length,
      awards: proposed.length,
    };
    await page.locator('[data-testid="waiting"][data-loaded="true"]').waitFor();
    for (const [what, n] of Object.entries(want)) {
      const line = page.getByTestId(`waiting-${what}`);
      assertEqual(await line.count(), n > 0 ? 1 : 0, `a line for ${what}`);
      if (n > 0) assert((await line.innerText()).startsWith(`${n} `), `${what}: ${await line.innerText()}`);
    }
    if (Object.values(want).every((n) => n === 0)) await page.getByTestId('waiting-nothing').waitFor();
    // Against a previous quarter with nothing recorded, a card says so instead of a gain.
    const fresh = expected.items.filter((/** @type {any} */ i) => i.previous.numerator === 0 && i.current.numerator > 0);
    for (const i of fresh) {
      const said = (await page.locator(`[data-testid="indicator"][data-code="${i.indicator.code}"] [data-testid="indicator-trend"]`).innerText()).trim();
      assertEqual(said, 'Kỳ trước chưa có số liệu để so sánh', `trend of ${i.indicator.code}`);
    }
    assert(fresh.length > 0, 'the demo has indicators whose records start this quarter');
    await card.locator('summary').click();
    const rows = await card.locator('tbody tr').count();
    assertEqual(rows, vneid.groups.length, 'village rows');
    await page.screenshot({ path: join(RESULTS_DIR, 'chairman-first-screen-360.png'), fullPage: false });
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.screenshot({ path: join(RESULTS_DIR, 'chairman-first-screen-1280.png'), fullPage: false });
    await page.setViewportSize({ width: 360, height: 740 });
  });

  await step('a target set for the quarter shows on the dashboard with the gap in people', async () => {
    const put = await chairman('/api/v1/targets', {
      method: 'PUT',
      body: JSON.stringify({ period: 'quarter', date: today, items: [{ indicator_code: 'adults_vneid_level2', target_percent: 90 }] }),
    });
    assert(put.ok, `PUT /targets: ${put.status} ${await put.text()}`);
    const progress = await (await chairman(`/api/v1/stats/progress?period=quarter&date=${today}`)).json();
    const item = progress.items.find((/** @type {any} */ i) => i.code === 'adults_vneid_level2');
    await page.reload();
    await page.locator('[data-gate="locked"] input[name="pin"]').fill(PIN);
    await page.getByTestId('pin-submit').click();
    const target = page.locator('[data-testid="indicator"][data-code="adults_vneid_level2"] [data-testid="indicator-target"]');
    await target.waitFor();
    const text = await target.innerText();
    const gap = new Intl.NumberFormat('vi-VN').format(item.gap);
    assert(text.includes('Mục tiêu 90%') && text.includes(`Còn thiếu ${gap} người/hộ`), `target line: ${text}`);
  });

  await step('the list behind a figure shows who is missing, and downloads as CSV', async () => {
    await page.locator('[data-testid="indicator"][data-code="adults_vneid_level2"] [data-testid="indicator-missing"]').click();
    await page.getByTestId('missing-item').first().waitFor();
    await page.waitForFunction(() =>
      document.querySelector('[data-testid="missing-title"]')?.textContent?.startsWith('Chưa đạt: Người trưởng thành'),
    );
    assertEqual(await page.getByTestId('missing-item').count(), 50, 'first page of the list');
    // Each row says where the person stands in words, never a translation key.
    const rows = await page.getByTestId('missing-item').allTextContents();
    assert(!rows.some((r) => /adoption\.|[a-z]+_[a-z]+/.test(r)), `raw keys in the list: ${rows.slice(0, 3).join(' | ')}`);
    assert(rows.some((r) => /Chưa rõ|Đã hỗ trợ|Từ chối|Chưa có/.test(r)), `statuses in Vietnamese: ${rows.slice(0, 3).join(' | ')}`);
    // Each row says where to find the household: village, hamlet, lane and number, in that order.
    const addresses = await page.getByTestId('missing-address').allTextContents();
    assertEqual(addresses.length, 50, 'an address on every row');
    assert(addresses.every((a) => /^Thôn .+, Xóm .+, .+, số \S+/.test(a)), `addresses: ${addresses.slice(0, 3).join(' | ')}`);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('missing-csv').click()]);
    const path = await download.path();
    const csv = await readFile(path, 'utf8');
    assert(csv.charCodeAt(0) === 0xfeff, 'the CSV starts with a UTF-8 BOM (Excel)');
    assertEqual(csv.split('\n')[0].slice(1).trim(), 'Loại,Thôn,Xóm,Ngõ,Số nhà,Chủ hộ,Họ và tên,Năm sinh,Tình trạng', 'CSV header');
    assert(csv.split('\n').length > 50, `CSV rows: ${csv.split('\n').length}`);
  });

  await step('the culture-social office issues a plan with a task and a target', async () => {
    const office = await launch({ viewport: { width: 1280, height: 800 } });
    office.page.on('console', (m) => trace(`office console.${m.type()}: ${m.text()}`));
    office.page.on('pageerror', (e) => trace(`office page error: ${e.message}`));
    await signIn(office.page, base, 'vanhoaxahoi');
    await office.page.getByTestId('nav-plans').click();
    await office.page.getByTestId('plan-number').fill('125/KH-UBND');
    await office.page.getByTestId('plan-signer').fill('Chủ tịch UBND xã');
    await office.page.getByTestId('plan-purpose').fill('Phổ cập dịch vụ số đến từng hộ gia đình trong quý IV.');
    await office.page.getByTestId('plan-task').first().fill('Hướng dẫn người dân kích hoạt VNeID mức 2');
    await office.page.getByTestId('plan-task-department').first().selectOption('police');
    await office.page.getByTestId('plan-target-adults_vneid_level2').fill('95');
    await office.page.getByTestId('plan-save').click();
    await office.page.locator('[data-testid="plan-saved"], [role="alert"]').first().waitFor();
    const alert = office.page.locator('[role="alert"]');
    assert((await alert.count()) === 0, `saving the plan: ${await alert.first().innerText().catch(() => '')}`);
    const detail = await office.page.getByTestId('plan-detail').innerText();
    assert(detail.includes('125/KH-UBND') && detail.includes('Công an xã') && detail.includes('Phiên bản 1'), `plan shown: ${detail}`);
    // Amended once: the task is under way; both versions are kept.
    await office.page.getByTestId('plan-amend').click();
    await office.page.getByTestId('plan-task-status').first().selectOption('in_progress');
    await office.page.getByTestId('plan-change-note').fill('Công an xã bắt đầu hướng dẫn từ tuần này');
    await office.page.getByTestId('plan-amend-save').click();
    await office.page.getByTestId('plan-amend-form').waitFor({ state: 'detached' });
    const amended = await office.page.getByTestId('plan-detail').innerText();
    assert(amended.includes('Phiên bản 2') && amended.includes('Phiên bản 1') && amended.includes('Đang thực hiện'), `amended plan: ${amended}`);
    await office.page.screenshot({ path: join(RESULTS_DIR, 'culture-social-plan-1280.png'), fullPage: true });

    // Funding (plan §III): a fraction of a đồng is refused on the screen; two entries are kept.
    await office.page.getByTestId('nav-funding').click();
    await office.page.getByTestId('funding-party').fill('Viettel Hải Phòng');
    await office.page.getByTestId('funding-amount').fill('15,5');
    await office.page.getByTestId('funding-save').click();
    await office.page.locator('[role="alert"]').waitFor();
    assert((await office.page.locator('[role="alert"]').innerText()).includes('đồng nguyên'), 'a fraction is refused');
    await office.page.getByTestId('funding-amount').fill('15.000.000');
    await office.page.getByTestId('funding-save').click();
    await office.page.getByTestId('funding-entry').first().waitFor();
    await office.page.getByTestId('funding-direction-spent').check();
    await office.page.getByTestId('funding-category').selectOption('training');
    await office.page.getByTestId('funding-source').selectOption('state_budget');
    await office.page.getByTestId('funding-party').fill('Lớp tập huấn kỹ năng số cho tổ viên');
    await office.page.getByTestId('funding-amount').fill('3500000');
    await office.page.getByTestId('funding-save').click();
    await office.page.getByTestId('funding-entry').nth(1).waitFor();
    assertEqual((await office.page.getByTestId('funding-received').innerText()).trim(), '15.000.000 đ', 'received');
    assertEqual((await office.page.getByTestId('funding-balance').innerText()).trim(), '11.500.000 đ', 'balance');
    await office.page.screenshot({ path: join(RESULTS_DIR, 'culture-social-funding-1280.png'), fullPage: true });

    await office.page.getByTestId('nav-reports').click();
    await office.page.getByTestId('report-prepare').click();
    await office.page.locator('[data-testid="report"][data-status="draft"]').waitFor();
    await office.context.close();
  });

  await step('the chairman sees progress against the plan, returns the report with a note, then approves it prepared again, downloads the XLSX and sends it', async () => {
    await page.evaluate(() => (location.hash = '#/'));
    await page.reload();
    await page.locator('[data-gate="locked"] input[name="pin"]').fill(PIN);
    await page.getByTestId('pin-submit').click();
    const target = page.locator('[data-testid="indicator"][data-code="adults_vneid_level2"] [data-testid="indicator-target"]');
    await target.waitFor();
    assert((await target.innerText()).includes('Mục tiêu 95%'), `target line: ${await target.innerText()}`);
    // The draft the office prepared waits on the chairman's first screen, one tap from the reports.
    const waiting = page.getByTestId('waiting-reports');
    await waiting.waitFor();
    assertEqual((await waiting.innerText()).trim(), '1 báo cáo chờ phê duyệt', 'what waits');
    await waiting.click();
    await page.locator('[data-testid="report"][data-status="draft"]').waitFor();
    // Returned with what to change: it cannot be approved until the office prepares it again.
    const note = 'Bổ sung số liệu thôn Phú Lộc trước khi trình ký';
    await page.getByTestId('report-return-reason').fill(note);
    await page.getByTestId('report-return').click();
    await page.locator('[data-testid="report"][data-status="returned"]').waitFor();
    const shown = await page.getByTestId('report-return-note').innerText();
    assert(shown.includes(note), `the return note on the report: ${shown}`);
    assertEqual(await page.getByTestId('report-approve').count(), 0, 'approve buttons on a returned report');
    const office = (await apiSession(base, 'vanhoaxahoi')).call;
    const again = await office('/api/v1/reports', { method: 'POST', body: JSON.stringify({ period: 'quarter', date: today }) });
    assertEqual(again.status, 200, 'the office prepares the returned report again');
    await page.getByTestId('nav-dashboard').click();
    await page.getByTestId('nav-reports').click();
    await page.locator('[data-testid="report"][data-status="draft"]').waitFor();
    page.once('dialog', (d) => void d.accept());
    await page.getByTestId('report-approve').click();
    await page.locator('[data-testid="report"][data-status="approved"]').waitFor();
    // The printable page opens in a new tab from a blob: URL, which keeps the app's policy: its
    // inline style is allowed by hash, so it is laid out in Times New Roman (a blocked style is
    // also caught by the harness's policy watch).
    const [printTab] = await Promise.all([page.context().waitForEvent('page'), page.getByTestId('report-print').click()]);
    await printTab.waitForURL(/^blob:/);
    await printTab.waitForLoadState();
    const font = await printTab.evaluate(() => getComputedStyle(document.body).fontFamily);
    assert(font.includes('Times New Roman'), `the printable page's style: ${font}`);
    await printTab.close();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('report-xlsx').click()]);
    const xlsx = await readFile(await download.path());
    assert(xlsx.subarray(0, 2).toString() === 'PK' && xlsx.length > 2000, `XLSX download: ${xlsx.length} bytes`);
    // Sending upward asks first; saying no sends nothing.
    /** @type {string[]} */
    const asked = [];
    page.once('dialog', (d) => {
      asked.push(d.message());
      void d.dismiss();
    });
    await page.getByTestId('report-submit').click();
    assert(asked[0]?.startsWith('Gửi báo cáo này lên thành phố?'), `the question: ${asked[0]}`);
    const city = await apiSession(base, 'thanhpho');
    const before = await (await city.call('/api/v1/report-submissions')).json();
    assertEqual(before.items.length, 0, 'submissions after saying no');
    assertEqual(await page.getByTestId('report-submitted').count(), 0, 'shown as sent after saying no');
    page.once('dialog', (d) => void d.accept());
    await page.getByTestId('report-submit').click();
    await page.getByTestId('report-submitted').waitFor();
    // The approved report carries the plan's target, the gap and the quarter's funding.
    const [report] = (await (await chairman('/api/v1/reports')).json()).items;
    const printed = await (await chairman(`/api/v1/reports/${report.id}/print`)).text();
    for (const text of ['<th>Còn thiếu</th>', '95,0%', 'Kinh phí tiếp nhận: 15.000.000 đồng', 'Chi tập huấn 3.500.000 đồng', 'Còn lại: 11.500.000 đồng']) {
      assert(printed.includes(text), `the approved report lacks ${text}`);
    }
  });

  await step('the city sees the submitted report and acknowledges it, with no personal data in sight', async () => {
    const city = await launch({ viewport: { width: 1280, height: 800 } });
    await signIn(city.page, base, 'thanhpho');
    await city.page.getByTestId('nav-reports').click();
    await city.page.getByTestId('submission').first().waitFor();
    assertEqual((await city.page.getByTestId('submission-commune').first().innerText()).trim(), 'Mao Điền', 'commune named');
    await city.page.getByTestId('submission-acknowledge').click();
    await city.page.getByTestId('submission-acknowledged').waitFor();
    await city.page.getByTestId('nav-dashboard').click();
    const vneidRow = city.page.locator('[data-testid="commune-indicator"][data-code="adults_vneid_level2"] [data-testid="commune-row"]');
    await vneidRow.first().waitFor();
    const row = await vneidRow.first().innerText();
    assert(row.includes('Mao Điền') && row.includes('95%'), `the city's comparison row: ${row}`);
    assertEqual(await city.page.getByTestId('indicator-missing').count(), 0, 'links to lists of people');
    await city.page.screenshot({ path: join(RESULTS_DIR, 'city-first-screen-1280.png') });
    await city.context.close();
  });

  await step("a department publishes a guide and a volunteer's phone reads it offline after a sync", async () => {
    const phone = await launch();
    await signInWithPin(phone.page, base, 'tinhnguyen.phuloc', PIN);
    const health = await launch({ viewport: { width: 1280, height: 800 } });
    await signIn(health.page, base, 'tramyte');
    await health.page.getByTestId('nav-materials').click();
    await health.page.getByTestId('material-title').fill('Cài đặt sổ sức khỏe điện tử trên VNeID');
    await health.page.getByTestId('material-body').fill('Bước 1: Mở ứng dụng VNeID.\nBước 2: Chọn "Sổ sức khỏe điện tử".');
    await health.page.getByTestId('material-service-electronic_health_record').check();
    await health.page.getByTestId('material-save').click();
    const mine = health.page.locator('[data-testid="material"]', { hasText: 'Cài đặt sổ sức khỏe điện tử trên VNeID' });
    await mine.getByTestId('material-publish').click();
    await health.page
      .locator('[data-testid="material"][data-status="published"]', { hasText: 'Cài đặt sổ sức khỏe điện tử trên VNeID' })
      .waitFor();
    await health.context.close();
    await phone.page.getByTestId('sync-now').click();
    // The panel can read "idle" before the run starts; wait for the guide itself to be on the phone.
    await phone.page.getByTestId('go-guides').click();
    await phone.page.getByText('Cài đặt sổ sức khỏe điện tử trên VNeID').waitFor({ timeout: 30_000 });
    await phone.page.waitForFunction(() => navigator.serviceWorker.controller?.state === 'activated');
    await phone.context.setOffline(true);
    await phone.page.reload();
    await phone.page.locator('[data-gate="locked"] input[name="pin"]').fill(PIN);
    await phone.page.getByTestId('pin-submit').click();
    await phone.page.getByText('Cài đặt sổ sức khỏe điện tử trên VNeID').click();
    const body = await phone.page.getByTestId('guide').innerText();
    assert(body.includes('Bước 2: Chọn "Sổ sức khỏe điện tử".'), `guide read offline: ${body}`);
    await phone.context.close();
  });

  await step('a village leader resolves a sync conflict by applying the phone\'s edit', async () => {
    const leaderApi = await apiSession(base, 'truongthon.phuloc');
    const volunteerApi = await apiSession(base, 'tinhnguyen.phuloc');
    const list = await (await leaderApi.call('/api/v1/households?limit=1')).json();
    const id = list.items[0].id;
    const got = await leaderApi.call(`/api/v1/households/${id}`);
    const etag = got.headers.get('etag') ?? '';
    const version = (await got.json()).version;
    const patch = await leaderApi.call(`/api/v1/households/${id}`, {
      method: 'PATCH',
      headers: { 'if-match': etag },
      body: JSON.stringify({ phone: '0912000111' }),
    });
    assert(patch.ok, `leader's edit: ${patch.status} ${await patch.text()}`);
    const push = await volunteerApi.call('/api/v1/sync/push', {
      method: 'POST',
      body: JSON.stringify({
        device_id: 'e2e-phone',
        records: [{ kind: 'household', id, op: 'update', base_version: version, data: { phone: '0987654321' } }],
      }),
    });
    const answer = await push.json();
    assertEqual(answer.results?.[0]?.status, 'conflict', 'the stale edit');
    const leader = await launch({ viewport: { width: 1280, height: 800 } });
    await signIn(leader.page, base, 'truongthon.phuloc');
    await leader.page.getByTestId('go-conflicts').click();
    await leader.page.getByTestId('conflict').waitFor();
    assertEqual((await leader.page.getByTestId('conflict-client').first().innerText()).trim(), '0987654321', "the phone's value");
    assertEqual((await leader.page.getByTestId('conflict-server').first().innerText()).trim(), '0912000111', "the server's value");
    await leader.page.getByTestId('conflict-apply').click();
    await leader.page.getByTestId('conflict-resolved').waitFor();
    await leader.page.getByTestId('conflicts-empty').waitFor();
    await leader.context.close();
    const after = await (await leaderApi.call(`/api/v1/households/${id}`)).json();
    assertEqual(after.phone, '0987654321', 'the household after the resolution');
  });

  await step("a department sees its own indicators first; a volunteer's home is the field app", async () => {
    const dept = await launch();
    await signIn(dept.page, base, 'congan');
    await dept.page.getByTestId('indicator').first().waitFor();
    const first = await dept.page.getByTestId('indicator').first().getAttribute('data-code');
    assertEqual(first, 'adults_vneid_level2', "the police's first indicator");
    await dept.page.screenshot({ path: join(RESULTS_DIR, 'department-police-first-screen-360.png') });
    await dept.context.close();
    const leader = await launch({ viewport: { width: 1280, height: 800 } });
    await signIn(leader.page, base, 'truongthon.phuloc');
    await leader.page.getByTestId('home-hello').waitFor();
    await leader.page.getByTestId('go-dashboard').click();
    await leader.page.getByTestId('indicator').first().waitFor();
    await leader.page.screenshot({ path: join(RESULTS_DIR, 'village-leader-dashboard-1280.png') });
    await leader.context.close();
  });
}

await run(main);
