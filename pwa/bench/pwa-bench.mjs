// Measures the web app against DESIGN §7 and writes the "## The web app (PWA)" section of
// BENCHMARKS.md (run by `make bench`, after `npm run build` and `cargo build --release`):
// - gzipped JavaScript for the first screen (index.html's module script and its static imports)
//   and for the whole shell (every precached script), against 80 KiB and 250 KiB;
// - a Lighthouse mobile run (its default: Moto G Power emulation, simulated slow 4G, 4× CPU
//   slowdown) of the first screen: performance, accessibility and best-practices scores, TTI;
// - the repeat start offline: a signed-in phone reopens the app with no network and the CPU slowed
//   4× (Lighthouse's mobile setting); time until the PIN field accepts input, median of 7.
//
// LIGHTHOUSE: path of the lighthouse CLI (make bench installs a pinned one under target/).
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CHROMIUM, DIST_DIR, PWA_DIR, assert, launch, run, signInWithPin, startServer, step } from '../e2e/harness.mjs';

const BENCH_FILE = resolve(PWA_DIR, '..', 'BENCHMARKS.md');
const HEADING = '## The web app (PWA)';
const KiB = 1024;

/** @param {string} file */
const gz = (file) => gzipSync(readFileSync(file), { level: 9 }).length;

function sizes() {
  const html = readFileSync(join(DIST_DIR, 'index.html'), 'utf8');
  const entry = [...html.matchAll(/<script[^>]+type="module"[^>]+src="\/?([^"]+)"/g)].map((m) => m[1]);
  const preload = [...html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="\/?([^"]+)"/g)].map((m) => m[1]);
  // The entry's static imports are what the browser must fetch before the first render.
  const first = new Set([...entry, ...preload]);
  for (const f of [...first]) {
    const text = readFileSync(join(DIST_DIR, f), 'utf8');
    for (const m of text.matchAll(/(?:^|[;}\s])import\s*(?:[\w{}\s,*$]+from\s*)?["']\.\/([^"']+\.js)["']/g)) first.add(`assets/${m[1]}`);
  }
  const all = readdirSync(join(DIST_DIR, 'assets')).filter((f) => f.endsWith('.js')).map((f) => `assets/${f}`);
  const firstGz = [...first].reduce((n, f) => n + gz(join(DIST_DIR, f)), 0);
  const shellJs = [...all, 'sw.js'].reduce((n, f) => n + gz(join(DIST_DIR, f)), 0);
  const css = readdirSync(join(DIST_DIR, 'assets')).filter((f) => f.endsWith('.css'));
  const shellAll = shellJs + css.reduce((n, f) => n + gz(join(DIST_DIR, 'assets', f)), 0) + gz(join(DIST_DIR, 'index.html'));
  return { first: [...first], firstGz, shellJs, shellAll, chunks: all.length };
}

/**
 * Every script the browser fetches for the first screen (a fresh phone opening the app, up to the
 * sign-in form), static and dynamic imports alike, gzipped from dist; the service worker's own
 * script is not page JavaScript and is counted in the shell.
 * @param {string} base
 */
async function fetchedOnFirstScreen(base) {
  const { context, page } = await launch();
  await page.goto(`${base}/`);
  await page.locator('[data-gate="login"] input[name="username"]').waitFor();
  await page.waitForLoadState('networkidle');
  const urls = await page.evaluate(() =>
    performance
      .getEntriesByType('resource')
      .map((e) => new URL(e.name).pathname)
      .filter((p) => p.endsWith('.js')),
  );
  await context.close();
  const files = [...new Set(urls)].map((p) => p.replace(/^\//, ''));
  return { files, gz: files.reduce((n, f) => n + gz(join(DIST_DIR, f)), 0) };
}

/** @param {string} url */
async function lighthouse(url) {
  const bin = process.env.LIGHTHOUSE ?? resolve(PWA_DIR, '..', 'target', 'lighthouse', 'node_modules', '.bin', 'lighthouse');
  assert(existsSync(bin), `lighthouse not found at ${bin} (make bench installs it)`);
  const dir = await mkdtemp(join(tmpdir(), 'tungnha-lh-'));
  try {
    const out = join(dir, 'report.json');
    const r = spawnSync(
      bin,
      [
        url,
        '--output=json',
        `--output-path=${out}`,
        '--only-categories=performance,accessibility,best-practices',
        `--chrome-path=${CHROMIUM}`,
        '--chrome-flags=--headless=new --no-sandbox --disable-gpu',
        '--quiet',
      ],
      { encoding: 'utf8', env: { ...process.env, CHROME_PATH: CHROMIUM } },
    );
    assert(r.status === 0 && existsSync(out), `lighthouse failed (${r.status}):\n${r.stderr}`);
    const report = JSON.parse(readFileSync(out, 'utf8'));
    const score = (/** @type {string} */ c) => Math.round((report.categories[c]?.score ?? 0) * 100);
    const ms = (/** @type {string} */ a) => report.audits[a]?.numericValue ?? NaN;
    return {
      version: report.lighthouseVersion,
      performance: score('performance'),
      accessibility: score('accessibility'),
      bestPractices: score('best-practices'),
      fcp: ms('first-contentful-paint'),
      lcp: ms('largest-contentful-paint'),
      tti: ms('interactive'),
      tbt: ms('total-blocking-time'),
      failed: Object.values(report.audits)
        .filter((a) => a.score !== null && a.score < 0.9 && a.scoreDisplayMode === 'binary')
        .map((a) => a.id),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A signed-in phone reopens the app offline with the CPU slowed 4×. @param {string} base */
async function offlineRepeatStart(base) {
  const { context, page } = await launch();
  await signInWithPin(page, base, 'tinhnguyen.phuloc', '2468');
  await page.waitForFunction(() => navigator.serviceWorker.controller?.state === 'activated');
  await page.waitForSelector('[data-testid="sync-panel"][data-phase="idle"]', { timeout: 60_000 });
  const cdp = await context.newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
  await context.setOffline(true);
  const times = [];
  for (let i = 0; i < 8; i++) {
    await page.reload({ waitUntil: 'commit' });
    await page.locator('[data-gate="locked"] input[name="pin"]:enabled').waitFor();
    // Time from the navigation's start to the moment the PIN field exists and is enabled.
    const t = await page.evaluate(() => performance.now());
    if (i > 0) times.push(t); // the first reload warms the worker after the login flow
  }
  await context.close();
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)], max: times[times.length - 1], runs: times.length };
}

/** Replaces (or appends) this suite's section of BENCHMARKS.md. @param {string} section */
function write(section) {
  const old = existsSync(BENCH_FILE) ? readFileSync(BENCH_FILE, 'utf8') : '# Benchmarks\n\n';
  const parts = old.split(/(?=^## )/m);
  const i = parts.findIndex((p) => p.startsWith(`${HEADING}\n`));
  if (i >= 0) parts[i] = section;
  else parts.push(section);
  writeFileSync(BENCH_FILE, parts.join(''));
}

const f = (/** @type {number} */ n, d = 1) => n.toFixed(d);

async function main() {
  const base = await startServer({ seed: true });
  /** @type {ReturnType<typeof sizes>} */
  let s = /** @type {any} */ (null);
  /** @type {Awaited<ReturnType<typeof lighthouse>>} */
  let lh = /** @type {any} */ (null);
  /** @type {Awaited<ReturnType<typeof offlineRepeatStart>>} */
  let repeat = /** @type {any} */ (null);
  /** @type {Awaited<ReturnType<typeof fetchedOnFirstScreen>>} */
  let fetched = /** @type {any} */ (null);
  await step('JavaScript sizes', async () => {
    s = sizes();
    fetched = await fetchedOnFirstScreen(base);
    const missed = s.first.filter((x) => !fetched.files.includes(x));
    assert(missed.length === 0, `the static count has files the browser did not fetch: ${missed.join(', ')}`);
  });
  await step('Lighthouse mobile run of the first screen', async () => {
    lh = await lighthouse(`${base}/`);
  });
  await step('offline repeat start with 4× CPU slowdown', async () => {
    repeat = await offlineRepeatStart(base);
  });
  const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
  const ok = (/** @type {boolean} */ b) => (b ? 'yes' : '**no**');
  const section = `${HEADING}

_Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, commit ${commit}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Chromium at ${CHROMIUM}._
\`npm run build\` output served by the release server; sizes gzipped at level 9 (the server's gzip is close).

| what | measured | budget (DESIGN §7) | within |
|---|---|---|---|
| JavaScript the first screen fetches, every script counted (${fetched.files.length} files: ${fetched.files.map((x) => `\`${x.replace('assets/', '')}\``).join(', ')}) | ${f(fetched.gz / KiB)} KiB | ≤ 80 KiB | ${ok(fetched.gz <= 80 * KiB)} |
| … of which index.html's module script and its static imports | ${f(s.firstGz / KiB)} KiB | | |
| whole app shell: all ${s.chunks} script chunks and the service worker | ${f(s.shellJs / KiB)} KiB | ≤ 250 KiB | ${ok(s.shellJs <= 250 * KiB)} |
| … with the CSS and index.html | ${f(s.shellAll / KiB)} KiB | | |
| repeat start offline, signed in, CPU 4× slower: PIN field ready (median of ${repeat.runs}, max) | ${f(repeat.median, 0)} ms (max ${f(repeat.max, 0)} ms) | ≤ 1,500 ms | ${ok(repeat.median <= 1500)} |
| Lighthouse ${lh.version} mobile, first screen: performance | ${lh.performance} | | |
| … accessibility | ${lh.accessibility} | | |
| … best practices | ${lh.bestPractices} | | |
| … first contentful paint / largest contentful paint | ${f(lh.fcp, 0)} ms / ${f(lh.lcp, 0)} ms | | |
| … time to interactive / total blocking time | ${f(lh.tti, 0)} ms / ${f(lh.tbt, 0)} ms | (first start, online; the budget is for the repeat start above) | |

${lh.failed.length ? `Lighthouse audits not passed: ${lh.failed.map((a) => `\`${a}\``).join(', ')}.` : 'Every pass/fail Lighthouse audit in these categories passed.'}
Reproduce: \`make bench\` (or, after \`npm run build\` and \`cargo build --release\`, \`cd pwa && TUNGNHA_BIN=../target/release/tungnha node bench/pwa-bench.mjs\`).

`;
  write(section);
  console.log(section);
}

await run(main);
