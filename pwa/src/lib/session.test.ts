import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { endedRemotely, LoginRequired, PIN_MAX_FAILURES, Session } from './session';
import { FieldDb } from './store/db';

let db: FieldDb;
let clock: number;

beforeEach(() => {
  db = new FieldDb(`session-${Math.random()}`);
  clock = 1_000_000;
});
afterEach(async () => {
  await db.delete();
});

const user = { id: 'u1', username: 'tinhnguyen', display_name: 'Tình nguyện', role: 'volunteer', village_ids: ['v1'], must_change_password: false };

/** A fake auth server: rotates refresh tokens and refuses a reused one. */
function server() {
  let n = 0;
  let live = 'r0';
  const calls: string[] = [];
  const tokens = () => ({ access_token: `a${++n}`, token_type: 'Bearer', expires_in: 900, refresh_token: (live = `r${n}`), user });
  const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const req = new Request(input, init);
    const path = new URL(req.url, 'http://x').pathname;
    calls.push(`${req.method} ${path} ${req.headers.get('authorization') ?? ''}`.trim());
    const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
    if (path === '/api/v1/auth/login') return json(200, tokens());
    if (path === '/api/v1/auth/refresh') {
      const body = await req.json();
      if (live === 'revoked') return json(401, { code: 'session_revoked' });
      if (body.refresh_token !== live) return json(401, { code: 'refresh_token_invalid' });
      return json(200, tokens());
    }
    if (path === '/api/v1/me') {
      return req.headers.get('authorization') === `Bearer a${n}` ? json(200, user) : json(401, { code: 'token_expired' });
    }
    return json(404, {});
  };
  return { fetch, calls, revoke: () => (live = 'gone'), endRemotely: () => (live = 'revoked') };
}

describe('session', () => {
  it('survives a restart: a new Session finds the stored account', async () => {
    const srv = server();
    await new Session(db, { baseUrl: 'http://x', fetch: srv.fetch, now: () => clock }).login('tinhnguyen', 'x');
    const again = new Session(db, { baseUrl: 'http://x', fetch: srv.fetch, now: () => clock });
    expect((await again.load())?.user.username).toBe('tinhnguyen');
    expect(again.needsLogin).toBe(false);
  });

  it('refreshes an expired access token once, even for concurrent callers', async () => {
    const srv = server();
    const s = new Session(db, { baseUrl: 'http://x', fetch: srv.fetch, now: () => clock });
    await s.login('tinhnguyen', 'x');
    clock += 16 * 60_000;
    const tokens = await Promise.all([s.accessToken(), s.accessToken(), s.accessToken()]);
    expect(new Set(tokens)).toEqual(new Set(['a2']));
    expect(srv.calls.filter((c) => c.includes('refresh')).length).toBe(1);
  });

  it('retries a request once with a fresh token after a 401', async () => {
    const srv = server();
    const s = new Session(db, { baseUrl: 'http://x', fetch: srv.fetch, now: () => clock });
    await s.login('tinhnguyen', 'x');
    // The server says the token is dead before the clock does (revoked key, skewed phone clock).
    await s.refresh();
    const stale = new Session(db, { baseUrl: 'http://x', fetch: srv.fetch, now: () => clock });
    await stale.load();
    (stale as unknown as { current: { access_token: string } }).current.access_token = 'a1';
    const res = await stale.authFetch('http://x/api/v1/me');
    expect(res.status).toBe(200);
    expect(srv.calls.slice(-3)).toEqual(['GET /api/v1/me Bearer a1', 'POST /api/v1/auth/refresh', 'GET /api/v1/me Bearer a3']);
  });

  it('asks for the password when the refresh token is refused, and keeps the user', async () => {
    const srv = server();
    const s = new Session(db, { baseUrl: 'http://x', fetch: srv.fetch, now: () => clock });
    await s.login('tinhnguyen', 'x');
    srv.revoke();
    clock += 16 * 60_000;
    await expect(s.accessToken()).rejects.toBeInstanceOf(LoginRequired);
    expect(s.needsLogin).toBe(true);
    expect(s.user?.id).toBe('u1');
  });

  it('a session ended from elsewhere clears the pulled households but keeps the unsent records', async () => {
    const srv = server();
    const s = new Session(db, { baseUrl: 'http://x', fetch: srv.fetch, now: () => clock });
    await s.login('tinhnguyen', 'x');
    await db.households.put({ id: 'h1', village_id: 'v1', search: '' });
    await db.outbox.add({ id: 'r1', kind: 'assistance_record', op: 'create', data: {}, createdAt: 1, status: 'pending', attempts: 0, owner: 'u1' });
    // An expired token refused for another reason clears nothing.
    srv.revoke();
    clock += 16 * 60_000;
    await expect(s.accessToken()).rejects.toBeInstanceOf(LoginRequired);
    expect(await db.households.count()).toBe(1);
    expect(await endedRemotely(db)).toBe(false);

    await s.login('tinhnguyen', 'x');
    srv.endRemotely();
    clock += 16 * 60_000;
    await expect(s.accessToken()).rejects.toBeInstanceOf(LoginRequired);
    expect(await db.households.count()).toBe(0);
    expect(await db.outbox.count()).toBe(1);
    expect(await endedRemotely(db)).toBe(true);
    expect(s.needsLogin).toBe(true);
    // Signing in again clears the notice.
    await s.login('tinhnguyen', 'x');
    expect(await endedRemotely(db)).toBe(false);
  });

  it('a network error during refresh is not a logout', async () => {
    const srv = server();
    const s = new Session(db, { baseUrl: 'http://x', fetch: srv.fetch, now: () => clock });
    await s.login('tinhnguyen', 'x');
    const offline = new Session(db, {
      fetch: async () => {
        throw new TypeError('Failed to fetch');
      },
      now: () => clock + 16 * 60_000,
    });
    await offline.load();
    await expect(offline.accessToken()).rejects.toBeInstanceOf(TypeError);
    expect(offline.needsLogin).toBe(false);
  });

  it('unlocks with the right PIN and forgets the tokens after too many wrong ones', async () => {
    const srv = server();
    const s = new Session(db, { baseUrl: 'http://x', fetch: srv.fetch, now: () => clock, pinIterations: 1000 });
    await s.login('tinhnguyen', 'x');
    await s.setPin('2468');
    expect(await s.unlock('2468')).toBe('ok');
    for (let i = 1; i < PIN_MAX_FAILURES; i++) expect(await s.unlock('0000')).toBe('wrong');
    expect(await s.unlock('0000')).toBe('locked_out');
    expect(s.needsLogin).toBe(true);
    expect(await s.hasPin()).toBe(false);
    expect(await s.unlock('2468')).toBe('locked_out');
  });

  it('logout clears the pulled data and the session but keeps the outbox', async () => {
    const srv = server();
    const s = new Session(db, { baseUrl: 'http://x', fetch: srv.fetch, now: () => clock, pinIterations: 1000 });
    await s.login('tinhnguyen', 'x');
    await db.households.put({ id: 'h1', village_id: 'v1', search: '' });
    await db.outbox.add({ id: 'r1', kind: 'assistance_record', op: 'create', data: {}, createdAt: 1, status: 'pending', attempts: 0, owner: 'u1' });
    await s.logout();
    expect(await db.households.count()).toBe(0);
    expect(await db.outbox.count()).toBe(1);
    expect(await new Session(db).load()).toBeNull();
  });
});
