// End-to-end test of the office side in real Chromium against the real server with the demo
// commune: the chairman's dashboard (figures, trend, villages, targets), the list of who is still
// missing behind a figure and its CSV download, a department's own indicators first, and each
// role's first screen at phone and laptop widths (screenshots in test-results/, not committed).
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RESULTS_DIR, apiSession, assert, assertEqual, launch, run, signInWithPin, startServer, step } from './harness.mjs';

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
    const title = await page.getByTestId('missing-title').innerText();
    assert(title.startsWith('Chưa đạt: Người trưởng thành'), `title: ${title}`);
    assertEqual(await page.getByTestId('missing-item').count(), 50, 'first page of the list');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('missing-csv').click()]);
    const path = await download.path();
    const csv = await readFile(path, 'utf8');
    assert(csv.charCodeAt(0) === 0xfeff, 'the CSV starts with a UTF-8 BOM (Excel)');
    assert(csv.split('\n').length > 50, `CSV rows: ${csv.split('\n').length}`);
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
