// End-to-end test of the office's community screens in real Chromium against the real server with
// the demo commune: a volunteer's difficulty assigned by the culture-social office to the police,
// answered by the police from its own inbox and closed; a youth-union campaign whose leaderboard
// ranks what the server counted; an award proposal returned by the chairman with a note, proposed
// again and approved. Screenshots of the three screens at 360 and 1280 px go to test-results/.
import { cp, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIST_DIR, RESULTS_DIR, apiSession, cleanups, assert, assertEqual, launch, run, signInWithPin, startServer, step, trace } from './harness.mjs';

const PIN = '2468';
const PHONE = { width: 360, height: 740 };
const LAPTOP = { width: 1280, height: 800 };

/** @typedef {(path: string, init?: RequestInit) => Promise<Response>} Call */
/** @typedef {import('playwright-core').Page} Page */

/** @param {Call} call @param {string} path @param {unknown} [body] @param {string} [method] */
async function json(call, path, body, method) {
  const res = await call(path, body === undefined ? {} : { method: method ?? 'POST', body: JSON.stringify(body) });
  const text = await res.text();
  assert(res.ok, `${method ?? (body === undefined ? 'GET' : 'POST')} ${path}: ${res.status} ${text}`);
  return JSON.parse(text);
}

/**
 * An office account's browser at the given size, signed in, with its page events kept for a failure.
 * @param {string} base @param {string} username @param {{ width: number, height: number }} viewport
 */
async function office(base, username, viewport) {
  const session = await launch({ viewport });
  session.page.on('console', (m) => trace(`${username} console.${m.type()}: ${m.text()}`));
  session.page.on('pageerror', (e) => trace(`${username} page error: ${e.message}`));
  await signInWithPin(session.page, base, username, PIN);
  return session;
}

/** @param {Page} page @param {string} name */
async function shoot(page, name) {
  const size = page.viewportSize();
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: join(RESULTS_DIR, `${name}-360.png`), fullPage: true });
  await page.setViewportSize(LAPTOP);
  await page.screenshot({ path: join(RESULTS_DIR, `${name}-1280.png`), fullPage: true });
  if (size) await page.setViewportSize(size);
}

/** No horizontal scrolling of the page itself at phone width (tables scroll in their own box). */
async function fitsPhone(/** @type {Page} */ page) {
  const size = page.viewportSize();
  await page.setViewportSize(PHONE);
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  if (size) await page.setViewportSize(size);
  assert(wide <= PHONE.width, `the page is ${wide} px wide at ${PHONE.width} px`);
}

/** The alert the screen shows, if any (a failed call). */
async function noAlert(/** @type {Page} */ page, /** @type {string} */ what) {
  const alert = page.locator('[role="alert"]');
  if (await alert.count()) assert(false, `${what}: ${await alert.first().innerText()}`);
}

/**
 * An adult of the caller's village with no `done` for the service, and the household: a visit by the
 * caller brings that person to `done`, which is what a campaign counts.
 * @param {Call} call @param {string} service @param {Set<string>} taken
 */
async function adultWithout(call, service, taken) {
  const year = new Date().getFullYear();
  const page = await json(call, `/api/v1/households?missing_service=${service}&limit=50`);
  for (const h of page.items) {
    if (taken.has(h.id)) continue;
    const residents = (await json(call, `/api/v1/households/${h.id}/residents`)).items;
    const adoption = (await json(call, `/api/v1/households/${h.id}/adoption`)).items;
    const done = new Set(adoption.filter((/** @type {any} */ a) => a.service_code === service && a.status === 'done').map((/** @type {any} */ a) => a.resident_id));
    const person = residents.find((/** @type {any} */ r) => r.birth_year && year - r.birth_year >= 20 && !done.has(r.id));
    if (person) {
      taken.add(h.id);
      return { household: h.id, resident: person.id };
    }
  }
  throw new Error(`no adult without ${service} in the first households`);
}

/** @param {Call} call @param {string[]} services @param {Set<string>} taken */
async function visitDone(call, services, taken) {
  for (const service of services) {
    const { household, resident } = await adultWithout(call, service, taken);
    const record = await json(call, '/api/v1/assistance-records', {
      data: {
        household_id: household,
        resident_ids: [resident],
        occurred_at: new Date().toISOString(),
        channel: 'house_visit',
        items: [{ service_code: service, outcome: 'done' }],
      },
    });
    assertEqual(record.items[0].outcome, 'done', 'recorded outcome');
  }
}

/**
 * The leaderboard table as shown: rank, name, points per row.
 * @param {Page} page
 */
async function shownBoard(page) {
  return page.getByTestId('board-row').evaluateAll((rows) =>
    rows.map((r) => ({
      rank: Number(r.querySelector('[data-testid="board-rank"]')?.textContent?.trim()),
      name: r.querySelector('[data-testid="board-name"]')?.textContent?.trim() ?? '',
      points: Number((r.querySelector('[data-testid="board-points"]')?.textContent ?? '').replace(/\./g, '').trim()),
    })),
  );
}

/** @param {any} board */
const expectedBoard = (board) => board.rows.map((/** @type {any} */ r) => ({ rank: r.rank, name: r.name, points: r.points }));

async function main() {
  // Serve a copy of the built app: others may rebuild `dist/` while this runs.
  const app = await mkdtemp(join(tmpdir(), 'tungnha-e2e-app-'));
  cleanups.push(() => rm(app, { recursive: true, force: true }));
  await cp(DIST_DIR, app, { recursive: true });
  const base = await startServer({ seed: true, env: { TUNGNHA_PWA_DIR: app } });
  await mkdir(RESULTS_DIR, { recursive: true });
  const volunteer = await apiSession(base, 'tinhnguyen.phuloc');
  const leader = await apiSession(base, 'truongthon.phuloc');
  const coordinatorApi = (await apiSession(base, 'vanhoaxahoi')).call;
  const policeApi = (await apiSession(base, 'congan')).call;
  const chairmanApi = (await apiSession(base, 'chutich')).call;
  const village = volunteer.user.village_ids[0];
  const year = new Date(Date.now() + 7 * 3600_000).toISOString().slice(0, 4);
  const title = 'Nhiều cụ cao tuổi chưa kích hoạt được VNeID mức 2';
  const otherTitle = 'Người dân hỏi cách đăng ký chữ ký số';
  /** @type {string} */
  let difficultyId = '';

  await step('a volunteer raises two difficulties from the field; both reach the inbox open and unassigned', async () => {
    const raise = async (/** @type {string} */ t, /** @type {string} */ service) => {
      const res = await volunteer.call('/api/v1/difficulties', {
        method: 'POST',
        body: JSON.stringify({
          data: { village_id: village, raised_at: new Date().toISOString(), title: t, description: `${t}: cần cán bộ hỗ trợ tại nhà văn hóa thôn.`, service_codes: [service] },
        }),
      });
      assertEqual(res.status, 201, `POST /difficulties (${t})`);
      return res.json();
    };
    const first = await raise(title, 'vneid_level2');
    await raise(otherTitle, 'digital_signature');
    difficultyId = first.id;
    assertEqual(first.status, 'open', 'status of a new difficulty');
    assertEqual(first.assigned_department ?? null, null, 'assignment of a new difficulty');
  });

  const culture = await office(base, 'vanhoaxahoi', LAPTOP);
  await step('the culture-social office filters its inbox by service and assigns the difficulty to the police', async () => {
    const page = culture.page;
    await page.getByTestId('nav-difficulties').click();
    await page.locator('[data-testid="difficulty"]').nth(1).waitFor();
    assertEqual(await page.getByTestId('difficulty').count(), 2, 'difficulties in the inbox');
    const raisedBy = await page.getByTestId('difficulty-author').allInnerTexts();
    assert(raisedBy.length === 2 && raisedBy.every((r) => r.trim() === `Người báo: ${volunteer.user.display_name}`), `who raised them: ${raisedBy.join(' | ')}`);
    await page.getByTestId('inbox-service').selectOption('vneid_level2');
    assertEqual(await page.getByTestId('difficulty').count(), 1, 'difficulties about VNeID');
    await page.getByTestId('inbox-village').selectOption(village);
    assertEqual(await page.getByTestId('difficulty').count(), 1, 'difficulties of the village about VNeID');
    await page.locator(`[data-testid="difficulty"][data-id="${difficultyId}"] [data-testid="difficulty-open"]`).click();
    await page.getByTestId('difficulty-detail').waitFor();
    assertEqual((await page.getByTestId('detail-status').innerText()).trim(), 'Chờ trả lời', 'status shown');
    await page.getByTestId('assign-department').selectOption('police');
    await page.getByTestId('assign-save').click();
    await page.locator('[data-testid="detail-assigned"]', { hasText: 'Công an xã' }).waitFor();
    await noAlert(page, 'assigning');
    const d = await json(coordinatorApi, `/api/v1/difficulties/${difficultyId}`);
    assertEqual(d.assigned_department, 'police', 'assignment stored by the server');
    await shoot(page, 'inbox-culture-social');
  });

  await step('the police see the difficulty first in their inbox on a phone, answer it and may not close it', async () => {
    const police = await office(base, 'congan', PHONE);
    const page = police.page;
    await page.getByTestId('nav-difficulties').click();
    const mine = page.getByTestId('inbox-mine');
    await mine.getByTestId('difficulty').first().waitFor();
    assertEqual(await mine.getByTestId('difficulty').count(), 1, 'difficulties assigned to the police');
    assertEqual((await mine.getByTestId('difficulty-title').innerText()).trim(), title, 'the assigned one');
    const order = await page.getByTestId('difficulty-title').allInnerTexts();
    assertEqual(order[0].trim(), title, 'the assigned difficulty comes first');
    assert(order.map((s) => s.trim()).includes(otherTitle), 'the unassigned one is listed after it');
    // Not assigned to the police: read only.
    await page.locator('[data-testid="inbox-others"] [data-testid="difficulty-open"]').first().click();
    await page.getByTestId('reply-not-allowed').waitFor();
    await page.getByRole('button', { name: /Về danh sách/ }).click();
    await mine.getByTestId('difficulty-open').click();
    await page.getByTestId('reply-text').fill('Công an xã sẽ cử cán bộ đến nhà văn hóa thôn sáng thứ Năm để kích hoạt VNeID mức 2 cho các cụ.');
    await page.getByTestId('reply-send').click();
    await page.locator('[data-testid="difficulty-detail"][data-status="answered"]').waitFor();
    await noAlert(page, 'replying');
    assertEqual(await page.getByTestId('difficulty-close').count(), 0, 'a close button for the assigned office');
    const d = await json(policeApi, `/api/v1/difficulties/${difficultyId}`);
    assertEqual(d.status, 'answered', 'status after the answer');
    assertEqual(d.replies.length, 1, 'replies');
    assertEqual(d.replies[0].side, 'office', 'side of the answer');
    assert(typeof d.response_seconds === 'number', 'the response time is measured');
    const shown = await page.getByTestId('reply-body').allInnerTexts();
    assertEqual(shown.length, 1, 'replies shown');
    assertEqual(shown[0].trim(), d.replies[0].body, 'reply shown as stored');
    assert((await page.getByTestId('detail-response').innerText()).trim() !== 'Chưa trả lời', 'response time shown');
    const closing = await policeApi(`/api/v1/difficulties/${difficultyId}`, { method: 'PATCH', body: JSON.stringify({ status: 'closed' }) });
    assertEqual(closing.status, 403, 'the API refuses the assigned office a close');
    await fitsPhone(page);
    await shoot(page, 'inbox-police');
    await police.context.close();
  });

  await step("the volunteer reads the police's answer on the phone from the home screen and replies back", async () => {
    const phone = await launch({ viewport: PHONE });
    const page = phone.page;
    await signInWithPin(page, base, 'tinhnguyen.phuloc', PIN);
    await page.locator('[data-testid="sync-panel"][data-phase="idle"]').waitFor({ timeout: 30_000 });
    await page.getByTestId('go-my-difficulties').click();
    const mine = page.locator('[data-testid="my-difficulty"]', { hasText: title });
    await mine.waitFor();
    // Both of the volunteer's difficulties, and none of anyone else's.
    assertEqual(await page.getByTestId('my-difficulty').count(), 2, 'the volunteer\'s difficulties');
    const answer = await mine.getByTestId('my-difficulty-reply').innerText();
    assert(answer.includes('Công an xã sẽ cử cán bộ') && answer.includes('Phòng ban'), `the answer on the phone: ${answer}`);
    assert((await mine.innerText()).includes('Đã có trả lời'), 'the status in words');
    await mine.getByTestId('my-difficulty-text').fill('Cảm ơn anh, tổ sẽ báo các cụ có mặt lúc 8 giờ.');
    await mine.getByTestId('my-difficulty-send').click();
    await page.locator('[data-testid="my-difficulty"]', { hasText: title }).getByTestId('my-difficulty-reply').nth(1).waitFor();
    const d = await json(policeApi, `/api/v1/difficulties/${difficultyId}`);
    assertEqual(d.replies.length, 2, 'replies after the volunteer\'s');
    assertEqual(d.replies[1].side, 'team', 'side of the volunteer\'s reply');
    assertEqual(d.status, 'open', 'back with the office after the volunteer wrote');
    assertEqual(d.replies[1].body, 'Cảm ơn anh, tổ sẽ báo các cụ có mặt lúc 8 giờ.', 'the reply as written');
    await fitsPhone(page);
    await shoot(page, 'my-difficulties');
    await phone.context.close();
  });

  await step('the culture-social office closes the difficulty the volunteer wrote back on, and downloads the export', async () => {
    const page = culture.page;
    await page.reload();
    await page.locator('[data-gate="locked"] input[name="pin"]').fill(PIN);
    await page.getByTestId('pin-submit').click();
    await page.getByTestId('difficulty').nth(1).waitFor();
    // The volunteer's reply put it back with the office: open again, beside the unanswered one.
    await page.getByTestId('inbox-status').selectOption('open');
    await page.locator('[data-testid="difficulty"]:not([data-status="open"])').first().waitFor({ state: 'detached' });
    assertEqual(await page.getByTestId('difficulty').count(), 2, 'open difficulties');
    await page.locator(`[data-testid="difficulty"][data-id="${difficultyId}"] [data-testid="difficulty-open"]`).click();
    await page.locator('[data-testid="difficulty-detail"] [data-testid="reply"]').first().waitFor();
    assertEqual(await page.locator('[data-testid="reply"][data-side="office"]').count(), 1, "the police's answer in the thread");
    await page.getByTestId('difficulty-close').click();
    await page.locator('[data-testid="difficulty-detail"][data-status="closed"]').waitFor();
    await noAlert(page, 'closing');
    const d = await json(coordinatorApi, `/api/v1/difficulties/${difficultyId}`);
    assertEqual(d.status, 'closed', 'status after closing');
    assert(d.closed_at, 'closing time stored');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('inbox-csv').click()]);
    const csv = await readFile(await download.path(), 'utf8');
    assert(csv.charCodeAt(0) === 0xfeff, 'the CSV starts with a UTF-8 BOM');
    const line = csv.split('\n').find((l) => l.includes(title));
    assert(line && line.includes('Đã đóng') && line.includes('Công an xã'), `the export's row: ${line}`);
    assertEqual(download.suggestedFilename(), `kho-khan-${year}-01-01-${new Date(Date.now() + 7 * 3600_000).toISOString().slice(0, 10)}.csv`, 'file name');
  });

  /** @type {string} */
  let campaignId = '';
  await step('the youth union launches a campaign on its screen and edits its scoring', async () => {
    const youth = await office(base, 'doanthanhnien', LAPTOP);
    const page = youth.page;
    await page.getByTestId('nav-campaigns').click();
    await page.getByTestId('campaigns-empty').waitFor();
    await page.getByTestId('campaign-name-input').fill('Tháng cao điểm VNeID mức 2 và chữ ký số');
    await page.getByTestId('campaign-description').fill('Mỗi người dân được hỗ trợ hoàn thành được cộng điểm cho thành viên tổ.');
    await page.getByTestId('campaign-start').fill(`${year}-01-01`);
    await page.getByTestId('campaign-end').fill(`${year}-12-31`);
    await page.getByTestId('rule-service').first().selectOption('vneid_level2');
    await page.getByTestId('rule-points').first().fill('10');
    await page.getByTestId('rule-add').click();
    await page.getByTestId('rule-service').nth(1).selectOption('digital_signature');
    await page.getByTestId('rule-points').nth(1).fill('5');
    await page.getByTestId('campaign-save').click();
    await page.getByTestId('campaign').first().waitFor();
    await noAlert(page, 'creating the campaign');
    const [c] = (await json(policeApi, '/api/v1/campaigns')).items;
    assertEqual(c.organiser, 'youth_union', 'organiser');
    assertEqual(JSON.stringify(c.rules), JSON.stringify([{ service_code: 'vneid_level2', points: 10 }, { service_code: 'digital_signature', points: 5 }]), 'rules');
    campaignId = c.id;
    await page.getByTestId('board-empty').or(page.getByTestId('board')).waitFor();

    // The field scores: the volunteer completes VNeID and a digital signature, the village leader VNeID.
    const taken = new Set();
    await visitDone(volunteer.call, ['vneid_level2', 'digital_signature'], taken);
    await visitDone(leader.call, ['vneid_level2'], taken);

    await page.getByTestId('campaign-edit').click();
    await page.getByTestId('rule-points').first().fill('20');
    await page.getByTestId('campaign-save').click();
    await page.locator('[data-testid="campaigns-notice"]').waitFor();
    await noAlert(page, 'editing the campaign');
    const edited = await json(policeApi, `/api/v1/campaigns/${campaignId}`);
    assertEqual(edited.rules[0].points, 20, 'edited points');
    await youth.context.close();
  });

  await step("every office reads the leaderboard, ranked as the server counted", async () => {
    const police = await office(base, 'congan', PHONE);
    const page = police.page;
    await page.getByTestId('nav-campaigns').click();
    const api = await json(policeApi, `/api/v1/campaigns/${campaignId}/leaderboard?by=member`);
    assertEqual(api.rows.length, 2, 'members who scored');
    assertEqual(api.rows[0].id, volunteer.user.id, 'the volunteer leads');
    assertEqual(api.rows[0].points, 25, "the volunteer's points (20 + 5)");
    assertEqual(api.rows[1].points, 20, "the leader's points");
    await page.locator('[data-testid="board"][data-by="member"]').waitFor();
    assertEqual(JSON.stringify(await shownBoard(page)), JSON.stringify(expectedBoard(api)), 'member board as shown');
    await page.getByTestId('board-by-village').click();
    await page.locator('[data-testid="board"][data-by="village"]').waitFor();
    const villages = await json(policeApi, `/api/v1/campaigns/${campaignId}/leaderboard?by=village`);
    assertEqual(villages.rows[0].id, village, 'the village leads');
    assertEqual(villages.rows[0].points, 45, 'points of the village');
    assertEqual(JSON.stringify(await shownBoard(page)), JSON.stringify(expectedBoard(villages)), 'village board as shown');
    await page.getByTestId('board-by-member').click();
    await page.locator('[data-testid="board"][data-by="member"]').waitFor();
    await fitsPhone(page);
    await shoot(page, 'campaigns');
    await police.context.close();
  });

  await step('the culture-social office proposes an award for a member; the chairman returns it with a note', async () => {
    const page = culture.page;
    await page.getByTestId('nav-awards').click();
    await page.getByTestId('awards-empty').waitFor();
    const teams = (await json(coordinatorApi, '/api/v1/teams')).items;
    const team = teams.find((/** @type {any} */ t) => t.village_id === village);
    const members = (await json(coordinatorApi, `/api/v1/teams/${team.id}/members`)).items;
    const member = members.find((/** @type {any} */ m) => m.user_id === volunteer.user.id);
    assert(member, "the volunteer is a member of the village's team");
    await page.getByTestId('award-team').selectOption(team.id);
    await page.locator(`[data-testid="award-member"] option[value="${member.id}"]`).waitFor({ state: 'attached' });
    await page.getByTestId('award-member').selectOption(member.id);
    await page.getByTestId('award-name').fill('Giấy khen của Chủ tịch UBND xã');
    await page.getByTestId('award-reason').fill('Hỗ trợ nhiều người dân kích hoạt VNeID mức 2.');
    await page.getByTestId('award-from').fill(`${year}-01-01`);
    await page.getByTestId('award-campaign').selectOption(campaignId);
    await page.getByTestId('award-save').click();
    await page.getByTestId('proposal').first().waitFor();
    await noAlert(page, 'proposing');
    const [p] = (await json(chairmanApi, '/api/v1/award-proposals')).items;
    assertEqual(p.subject_id, member.id, 'proposed member');
    assertEqual(p.status, 'proposed', 'status');
    const board = await json(policeApi, `/api/v1/campaigns/${campaignId}/leaderboard?by=member`);
    assertEqual(p.evidence.campaign_points, board.rows[0].points, "the evidence carries the member's campaign points");

    const chairman = await office(base, 'chutich', PHONE);
    await chairman.page.getByTestId('nav-awards').click();
    const card = chairman.page.locator(`[data-testid="proposal"][data-id="${p.id}"]`);
    await card.waitFor();
    assertEqual((await card.getByTestId('proposal-subject').innerText()).trim(), member.full_name, 'subject shown');
    await card.getByTestId('proposal-return').click();
    await chairman.page.locator('[role="alert"]').waitFor();
    assert((await chairman.page.locator('[role="alert"]').innerText()).includes('ý kiến'), 'returning without a note is refused on the screen');
    await card.getByTestId('decision-note').fill('Bổ sung số người được hỗ trợ theo từng thôn.');
    await card.getByTestId('proposal-return').click();
    await chairman.page.locator(`[data-testid="proposal"][data-id="${p.id}"][data-status="rejected"]`).waitFor();
    const returned = await json(chairmanApi, `/api/v1/award-proposals/${p.id}`);
    assertEqual(returned.status, 'rejected', 'status after returning');
    assertEqual(returned.decision_note, 'Bổ sung số người được hỗ trợ theo từng thôn.', 'note stored');
    await chairman.context.close();
  });

  await step('the office proposes it again with the reason revised; the chairman approves it', async () => {
    const page = culture.page;
    await page.reload();
    await page.locator('[data-gate="locked"] input[name="pin"]').fill(PIN);
    await page.getByTestId('pin-submit').click();
    const returned = page.locator('[data-testid="proposal"][data-status="rejected"]');
    await returned.waitFor();
    assertEqual((await returned.getByTestId('proposal-note').innerText()).trim(), 'Bổ sung số người được hỗ trợ theo từng thôn.', 'note shown');
    await returned.getByTestId('proposal-again').click();
    await page.getByTestId('award-again').waitFor();
    await page.getByTestId('award-reason').fill('Hỗ trợ 2 người dân thôn Phú Lộc hoàn thành VNeID mức 2 và chữ ký số; dẫn đầu phong trào.');
    await page.getByTestId('award-save').click();
    await page.locator('[data-testid="proposal"][data-status="proposed"]').waitFor();
    await noAlert(page, 'proposing again');
    const list = (await json(chairmanApi, '/api/v1/award-proposals')).items;
    assertEqual(list.length, 2, 'proposals');
    const again = list.find((/** @type {any} */ x) => x.status === 'proposed');
    const first = list.find((/** @type {any} */ x) => x.status === 'rejected');
    assertEqual(again.subject_id, first.subject_id, 'the same member proposed again');
    assertEqual(again.campaign_id, campaignId, 'the same campaign');

    const chairman = await office(base, 'chutich', LAPTOP);
    await chairman.page.getByTestId('nav-awards').click();
    const card = chairman.page.locator(`[data-testid="proposal"][data-id="${again.id}"]`);
    await card.getByTestId('proposal-approve').click();
    await chairman.page.locator(`[data-testid="proposal"][data-id="${again.id}"][data-status="approved"]`).waitFor();
    await noAlert(chairman.page, 'approving');
    const approved = await json(chairmanApi, `/api/v1/award-proposals/${again.id}`);
    assertEqual(approved.status, 'approved', 'status after approval');
    assertEqual(await chairman.page.getByTestId('proposal-approve').count(), 0, 'decision buttons left');
    await fitsPhone(chairman.page);
    await shoot(chairman.page, 'awards-chairman');
    await page.reload();
    await page.locator('[data-gate="locked"] input[name="pin"]').fill(PIN);
    await page.getByTestId('pin-submit').click();
    await page.locator('[data-testid="proposal"][data-status="approved"]').waitFor();
    await shoot(page, 'awards-culture-social');
    await chairman.context.close();
  });
  await culture.context.close();
}

await run(main);
