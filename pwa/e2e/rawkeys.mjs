// No raw key or internal code on any screen or file a person reads, in Vietnamese and English:
// every screen each role can open (with every collapsed section opened and every admin tab),
// and every file the screens download, are read for untranslated i18n keys, snake_case codes,
// database ids and, in Vietnamese, the API's English enum words.
//
//   TUNGNHA_BIN=../target/debug/tungnha node e2e/rawkeys.mjs
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { PWA_DIR, apiSession, assert, launch, run, signInWithPin, sleep, startServer, step, trace } from './harness.mjs';

const PIN = '2580';
const PHONE = { width: 360, height: 740 };
const DESK = { width: 1280, height: 800 };

// The i18n bundles' top-level sections: `teams.import.title` on a screen is a key nobody translated.
const bundles = join(PWA_DIR, 'src/lib/i18n');
const sections = new Set();
for (const f of await readdir(bundles)) {
  if (f.endsWith('.json')) for (const k of Object.keys(JSON.parse(await readFile(join(bundles, f), 'utf8')))) sections.add(k);
}
const KEY = new RegExp(`\\b(?:${[...sections].join('|')})\\.[A-Za-z_][\\w.]*[A-Za-z_]`, 'g');
const SNAKE = /\b[a-z0-9]+(?:_[a-z0-9]+)+\b/g;
const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
// Single-word enum values of the API (`police`, `assisted`, `draft`…): English words that have no
// place in the Vietnamese interface. Brand and format names are fine.
const spec = JSON.parse(await readFile(join(PWA_DIR, '../openapi/openapi.json'), 'utf8'));
const words = new Set();
(function walk(/** @type {any} */ node) {
  if (!node || typeof node !== 'object') return;
  if (Array.isArray(node.enum)) for (const v of node.enum) if (typeof v === 'string' && /^[a-z]{3,}$/.test(v)) words.add(v);
  for (const v of Object.values(node)) walk(v);
})(spec.components.schemas);
for (const fine of ['csv', 'xlsx', 'pdf', 'json', 'zalo', 'vneid']) words.delete(fine);
const ENGLISH = new RegExp(`(?<![\\w.@/-])(?:${[...words].join('|')})(?![\\w.@/-])`, 'g');

/** @type {string[]} */
const findings = [];

/** Reads `text` (from `where`) for raw keys and codes. @param {string} text @param {string} where @param {'vi' | 'en'} lang */
function inspect(text, where, lang) {
  const hits = new Set();
  for (const re of [KEY, SNAKE, UUID, ...(lang === 'vi' ? [ENGLISH] : [])]) for (const m of text.matchAll(re)) hits.add(m[0]);
  if (hits.size) findings.push(`${where} [${lang}]: ${[...hits].slice(0, 12).join(', ')}`);
}

/** Everything a person reads on the page: text (all sections opened), options, placeholders, labels. @param {import('playwright-core').Page} page */
async function visibleText(page) {
  return page.evaluate(() => {
    for (const d of document.querySelectorAll('details')) d.open = true;
    // The audit log's stored record and object ids (`data-technical`) are the one raw view, for an
    // administrator tracing an event; everything around them is read.
    const technical = [...document.querySelectorAll('[data-technical]')].map((e) => /** @type {HTMLElement} */ (e));
    for (const e of technical) e.style.display = 'none';
    const parts = [document.body.innerText];
    for (const e of technical) e.style.display = '';
    for (const o of document.querySelectorAll('option')) parts.push(o.textContent ?? '');
    for (const e of document.querySelectorAll('[placeholder],[title],[aria-label],img[alt]')) {
      for (const a of ['placeholder', 'title', 'aria-label', 'alt']) {
        const v = e.getAttribute(a);
        if (v) parts.push(v);
      }
    }
    parts.push(document.title);
    return parts.join('\n');
  });
}

/** Waits until the page has no API request in flight for a moment. @param {import('playwright-core').Page} page @param {{ n: number }} inflight */
async function settle(page, inflight) {
  const deadline = Date.now() + 15_000;
  let quiet = 0;
  while (Date.now() < deadline && quiet < 4) {
    await sleep(150);
    quiet = inflight.n === 0 ? quiet + 1 : 0;
  }
  await page.waitForLoadState('domcontentloaded');
}

/**
 * Signs in as `username` and reads every hash route in `routes`, in Vietnamese then English.
 * @param {string} base @param {string} username @param {{ width: number, height: number }} viewport @param {string[]} routes
 */
async function walk(base, username, viewport, routes) {
  const { context, page } = await launch({ viewport });
  const inflight = { n: 0 };
  page.on('request', (r) => r.url().includes('/api/') && inflight.n++);
  page.on('requestfinished', (r) => r.url().includes('/api/') && inflight.n--);
  page.on('requestfailed', (r) => r.url().includes('/api/') && inflight.n--);
  page.on('pageerror', (e) => findings.push(`${username}: page error ${e.message}`));
  await signInWithPin(page, base, username, PIN);
  for (const lang of /** @type {const} */ (['vi', 'en'])) {
    if (lang === 'en') await page.getByTestId('lang-en').click();
    for (const hash of routes) {
      await page.evaluate((h) => (location.hash = h), hash);
      await settle(page, inflight);
      inspect(await visibleText(page), `${username} ${hash}`, lang);
    }
  }
  trace(`${username}: ${routes.length} screens read in two languages`);
  await context.close();
}

/** The text of every sheet and the shared strings of an XLSX (a ZIP of XML, read by its central directory). @param {Buffer} bytes */
function xlsxText(bytes) {
  const out = [];
  let end = bytes.length - 22;
  while (end >= 0 && bytes.readUInt32LE(end) !== 0x06054b50) end--;
  assert(end >= 0, 'an XLSX (ZIP) file');
  const count = bytes.readUInt16LE(end + 10);
  let at = bytes.readUInt32LE(end + 16);
  for (let i = 0; i < count; i++) {
    assert(bytes.readUInt32LE(at) === 0x02014b50, 'a ZIP central directory entry');
    const method = bytes.readUInt16LE(at + 10);
    const size = bytes.readUInt32LE(at + 20);
    const nameLength = bytes.readUInt16LE(at + 28);
    const skip = nameLength + bytes.readUInt16LE(at + 30) + bytes.readUInt16LE(at + 32);
    const local = bytes.readUInt32LE(at + 42);
    const name = bytes.subarray(at + 46, at + 46 + nameLength).toString();
    at += 46 + skip;
    if (!/^xl\/(sharedStrings|worksheets\/sheet\d+)\.xml$/.test(name)) continue;
    const start = local + 30 + bytes.readUInt16LE(local + 26) + bytes.readUInt16LE(local + 28);
    const data = bytes.subarray(start, start + size);
    const xml = (method === 8 ? inflateRawSync(data) : data).toString('utf8');
    out.push(...[...xml.matchAll(/<t[^>]*>([^<]*)<\/t>|<v>([^<]*)<\/v>/g)].map((m) => m[1] ?? m[2] ?? ''));
  }
  assert(out.length > 0, 'the workbook has text');
  return out.join('\n');
}

async function main() {
  const base = await startServer({ seed: true });
  const volunteer = await apiSession(base, 'tinhnguyen.phuloc');
  const chairman = await apiSession(base, 'chutich');
  const household = (await (await volunteer.call('/api/v1/households?limit=1')).json()).items[0].id;
  const guides = (await (await volunteer.call('/api/v1/materials?limit=1')).json()).items;
  const indicator = (await (await chairman.call('/api/v1/stats/indicators')).json()).items[0];
  const indicatorCode = indicator.indicator?.code ?? indicator.code;
  assert(household && indicatorCode, 'demo data to open screens with');

  const field = ['#/', '#/households', `#/households/${household}`, `#/households/${household}/visit`, '#/communication', '#/difficulty', '#/my-difficulties', '#/outbox', '#/guides', ...(guides[0] ? [`#/guides/${guides[0].id}`] : []), '#/settings'];
  const office = ['#/', '#/reports', '#/plans', '#/materials', '#/conflicts', '#/funding', '#/teams', '#/trainings', '#/difficulties', '#/awards', '#/campaigns', `#/indicators/${indicatorCode}/missing`];
  const admin = ['#/admin?tab=accounts', '#/admin?tab=audit', '#/admin?tab=keys', '#/admin?tab=webhooks', '#/admin?tab=places', '#/admin?tab=catalogue'];

  await step('a volunteer\'s phone shows no raw key or code on any screen, in either language', async () => {
    await walk(base, 'tinhnguyen.phuloc', PHONE, field);
  });
  await step("a village leader's phone shows none either", async () => {
    await walk(base, 'truongthon.phuloc', PHONE, [...field, '#/team-activity', '#/teams', '#/conflicts']);
  });
  await step('the chairman, two offices, the city and the administrator: none on any screen', async () => {
    await walk(base, 'chutich', DESK, office);
    await walk(base, 'vanhoaxahoi', DESK, [...office, ...admin]);
    await walk(base, 'congan', DESK, office);
    await walk(base, 'thanhpho', DESK, ['#/', '#/reports', '#/plans']);
    // The administrator's menu: plans, reports, teams, guides and administration.
    await walk(base, 'quantri', DESK, ['#/', '#/plans', '#/reports', '#/teams', '#/materials', ...admin]);
  });

  await step('the files the screens download hold no raw key or code', async () => {
    const culture = await apiSession(base, 'vanhoaxahoi');
    const today = new Date(Date.now() + 7 * 3600_000).toISOString().slice(0, 10);
    const year = today.slice(0, 4);
    // A report prepared now, as the culture-social office's screen does.
    const prepared = await culture.call('/api/v1/reports', { method: 'POST', body: JSON.stringify({ period: 'quarter', date: today }) });
    if (!prepared.ok) assert(false, `prepare a report: ${prepared.status} ${await prepared.text()}`);
    const report = await prepared.json();
    /** @type {[any, string][]} */
    const files = [
      [chairman, `/api/v1/reports/${report.id}/xlsx`],
      [chairman, `/api/v1/reports/${report.id}/print`],
      [chairman, `/api/v1/stats/indicators/${indicatorCode}/missing?period=quarter&date=${today}&format=csv`],
      [chairman, `/api/v1/stats/indicators/${indicatorCode}/missing?period=quarter&date=${today}&format=xlsx`],
      [culture, `/api/v1/exports/difficulties?format=csv&from=${year}-01-01&to=${year}-12-31`],
      [culture, `/api/v1/exports/difficulties?format=xlsx&from=${year}-01-01&to=${year}-12-31`],
      [culture, `/api/v1/exports/trainings?format=csv&from=${year}-01-01&to=${year}-12-31`],
      [culture, `/api/v1/exports/trainings?format=xlsx&from=${year}-01-01&to=${year}-12-31`],
      [chairman, `/api/v1/stats/indicators?period=quarter&date=${today}&format=csv`],
      [chairman, `/api/v1/stats/indicators?period=quarter&date=${today}&format=xlsx`],
      [volunteer, '/api/v1/exports/households?format=csv'],
      [volunteer, '/api/v1/exports/households?format=xlsx'],
    ];
    for (const [who, path] of files) {
      const res = await who.call(path);
      assert(res.ok, `${path}: ${res.status}`);
      const bytes = Buffer.from(await res.arrayBuffer());
      const text = path.includes('xlsx') ? xlsxText(bytes) : bytes.toString('utf8').replace(/<[^>]+>/g, ' ');
      assert(text.length > 20, `${path} has content`);
      inspect(text, path.replace(/[?].*/, '').replace(report.id, '{id}'), 'vi');
    }
  });

  await step('nothing found', async () => {
    assert(findings.length === 0, `raw keys or codes a person would read:\n  ${findings.join('\n  ')}`);
  });
}

await run(main);
