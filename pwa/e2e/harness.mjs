// Shared parts of the end-to-end tests: TAP-like steps, the spawned server (a throwaway SQLite
// file and data dir), Chromium launch, cleanup on exit. Each test file calls `run(main)`.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const PWA_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DIST_DIR = join(PWA_DIR, 'dist');
export const RESULTS_DIR = join(PWA_DIR, 'test-results');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SERVER_START_TIMEOUT_MS = 30_000;

/** @type {Array<() => Promise<void>>} */
export const cleanups = [];
/** Recent page events, printed when a step fails. */
const recent = /** @type {string[]} */ ([]);
/** @param {string} line */
export function trace(line) {
  recent.push(`${new Date().toISOString().slice(11, 23)} ${line}`);
  if (recent.length > 50) recent.shift();
}
const counts = { passed: 0, failed: 0 };

export class E2eError extends Error {}

/** @param {unknown} condition @param {string} message @returns {asserts condition} */
export function assert(condition, message) {
  if (!condition) throw new E2eError(message);
}

/** @param {unknown} actual @param {unknown} expected @param {string} what */
export function assertEqual(actual, expected, what) {
  assert(actual === expected, `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

/** @param {string} name @param {() => Promise<void>} fn */
export async function step(name, fn) {
  try {
    await fn();
    counts.passed++;
    console.log(`ok ${counts.passed + counts.failed} - ${name}`);
    trace(`passed: ${name}`);
  } catch (error) {
    counts.failed++;
    console.error(`not ok ${counts.passed + counts.failed} - ${name}`);
    throw error;
  }
}

export async function freePort() {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

/** @param {number} ms */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Start `tungnha serve` on a free port and return its base URL once /healthz answers.
 * `seed`: run `tungnha seed-demo` first (the demo commune and accounts); `env`: extra settings.
 * @param {{ seed?: boolean, env?: Record<string, string> }} [options]
 */
export async function startServer(options = {}) {
  const bin = process.env.TUNGNHA_BIN
    ? resolve(process.env.TUNGNHA_BIN)
    : resolve(PWA_DIR, '../target/debug/tungnha');
  assert(existsSync(bin), `server binary not found at ${bin}: build it (cargo build), set TUNGNHA_BIN, or set BASE_URL`);
  assert(existsSync(join(DIST_DIR, 'index.html')), `${DIST_DIR}/index.html is missing: run \`npm run build\` first`);

  const dataDir = await mkdtemp(join(tmpdir(), 'tungnha-e2e-db-'));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  /** @type {string[]} */
  const log = [];
  const env = {
    ...process.env,
    TUNGNHA_BIND: `127.0.0.1:${port}`,
    TUNGNHA_DATABASE_URL: `sqlite://${join(dataDir, 'e2e.db')}`,
    TUNGNHA_DATA_DIR: join(dataDir, 'data'),
    TUNGNHA_PWA_DIR: DIST_DIR,
    // Webhook host names come from the (empty) host table: no name server is ever asked.
    TUNGNHA_WEBHOOK_DNS: 'false',
    ...options.env,
  };
  if (options.seed) {
    const seeded = spawnSync(bin, ['seed-demo'], { cwd: dataDir, env, encoding: 'utf8' });
    assert(seeded.status === 0, `seed-demo failed:\n${seeded.stdout}\n${seeded.stderr}`);
  }
  const child = spawn(bin, ['serve'], {
    // Run inside the temp dir so nothing the server writes relative to its working directory
    // (data/jwt-secret, config/local.toml lookups) touches the repo.
    cwd: dataDir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  /** @param {Buffer} chunk */
  const keep = (chunk) => {
    log.push(...chunk.toString().split('\n').filter(Boolean));
    if (log.length > 200) log.splice(0, log.length - 200);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  /** @type {number | null} */
  let exitCode = null;
  let exited = false;
  const exitPromise = new Promise((r) =>
    child.on('exit', (code, signal) => {
      exited = true;
      exitCode = code ?? (signal ? 128 : 1);
      r(undefined);
    }),
  );
  child.on('error', (e) => log.push(`spawn error: ${e.message}`));
  cleanups.push(async () => {
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exitPromise;
    clearTimeout(timer);
  });

  const deadline = Date.now() + SERVER_START_TIMEOUT_MS;
  for (;;) {
    if (exited) {
      throw new E2eError(`server exited with code ${exitCode} before it was ready:\n${log.join('\n')}`);
    }
    try {
      const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new E2eError(`server did not answer GET /healthz 200 within ${SERVER_START_TIMEOUT_MS / 1000} s:\n${log.join('\n')}`);
    }
    await sleep(200);
  }
  console.log(`# spawned ${bin} serve on ${base}`);
  return base;
}

async function cleanup() {
  for (const fn of cleanups.reverse()) {
    try {
      await fn();
    } catch (e) {
      console.error(`# cleanup: ${e instanceof Error ? e.message : e}`);
    }
  }
  cleanups.length = 0;
}

for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.on(signal, () => {
    void cleanup().finally(() => process.exit(130));
  });
}

/** The demo accounts' password (`tungnha seed-demo`). */
export const DEMO_PASSWORD = 'TungNha@2026';

/**
 * An API session for checks made beside the app; a call whose token was refused (short-lived
 * tokens in some tests) signs in again once.
 * @param {string} base @param {string} username @param {string} [password]
 */
export async function apiSession(base, username, password = DEMO_PASSWORD) {
  const signIn = async () => {
    const res = await fetch(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    assert(res.ok, `API login ${username}: ${res.status}`);
    return res.json();
  };
  let body = await signIn();
  /** @param {string} path @param {RequestInit} [init] @returns {Promise<Response>} */
  const call = async (path, init = {}) => {
    for (let attempt = 0; ; attempt++) {
      const r = await fetch(`${base}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${body.access_token}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
      });
      if (r.status !== 401 || attempt > 0) return r;
      body = await signIn();
    }
  };
  return { user: body.user, call };
}

/**
 * Signs in through the app's form and chooses a PIN; resolves on the first screen after it.
 * @param {import('playwright-core').Page} page @param {string} base @param {string} username @param {string} pin
 */
export async function signInWithPin(page, base, username, pin) {
  await page.goto(`${base}/`);
  await page.locator('[data-gate="login"]').waitFor();
  await page.locator('input[name="username"]').fill(username);
  await page.locator('input[name="password"]').fill(DEMO_PASSWORD);
  await page.getByTestId('login-submit').click();
  await page.locator('[data-gate="set-pin"]').waitFor();
  await page.locator('input[name="pin"]').fill(pin);
  await page.locator('input[name="pin-confirm"]').fill(pin);
  await page.getByTestId('pin-submit').click();
  await page.locator('[data-gate="ready"]').waitFor();
}

/**
 * A persistent Chromium profile (service workers and IndexedDB survive reloads, as on a phone),
 * removed at the end.
 * @param {{ viewport?: { width: number, height: number }, locale?: string }} [options]
 */
export async function launch(options = {}) {
  const profileDir = await mkdtemp(join(tmpdir(), 'tungnha-e2e-chromium-'));
  cleanups.push(() => rm(profileDir, { recursive: true, force: true }));
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
    viewport: options.viewport ?? { width: 360, height: 740 },
    locale: options.locale ?? 'vi-VN',
  });
  cleanups.push(() => context.close());
  context.setDefaultTimeout(15_000);
  for (const p of context.pages()) watchPolicy(p);
  context.on('page', watchPolicy);
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page };
}

/** What the server's Content-Security-Policy blocked on any page (the run fails on any). */
/** @type {string[]} */
export const policyViolations = [];

/** @param {import('playwright-core').Page} page */
function watchPolicy(page) {
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) policyViolations.push(`${page.url()}: ${m.text()}`);
  });
}

/** Runs a test file's `main`, prints the tally, cleans up and exits with its status. */
export async function run(/** @type {() => Promise<void>} */ main) {
  let exitCode = 0;
  try {
    await main();
    if (policyViolations.length) {
      counts.failed += 1;
      throw new E2eError(`the Content-Security-Policy blocked something:\n${policyViolations.join('\n')}`);
    }
  } catch (error) {
    exitCode = 1;
    if (counts.failed === 0) counts.failed = 1; // failed before or outside a step (setup)
    console.error(`e2e failure: ${error instanceof Error ? (error instanceof E2eError ? error.message : error.stack) : error}`);
    if (recent.length) console.error(`# recent page events:\n${recent.map((l) => `#   ${l}`).join('\n')}`);
  } finally {
    await cleanup();
  }
  console.log(`e2e: ${counts.passed} passed, ${counts.failed} failed`);
  process.exit(exitCode);
}
