/**
 * The signed-in account on this phone. A volunteer signs in online once; the session is kept in
 * IndexedDB so it survives restarts of the phone, and the app is unlocked offline with a PIN chosen
 * at first sign-in. An expired access token never blocks logging: records go to the outbox without
 * any token, and the uploader refreshes the token when the network is back. Only a refused refresh
 * (revoked, idle too long, reused) asks for the password again, and nothing is dropped then.
 */
import type { FieldDb } from './store/db';
import type { Schemas, TokenResponse } from './api/client';

export type User = Schemas['MeResponse'];

export interface StoredSession {
  user: User;
  access_token: string;
  /** Milliseconds since the epoch. */
  access_expires_at: number;
  refresh_token: string;
}

interface StoredPin {
  salt: string;
  hash: string;
  iterations: number;
  failures: number;
}

/** The server refused our credentials: only a sign-in with the password helps. */
export class LoginRequired extends Error {
  constructor() {
    super('login required');
    this.name = 'LoginRequired';
  }
}

export const PIN_ITERATIONS = 150_000;
export const PIN_MAX_FAILURES = 5;
/**
 * Refresh a little before the expiry the server announced, so a request never races it: 30 s, or a
 * quarter of a very short lifetime.
 */
const EXPIRY_MARGIN_MS = 30_000;

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const raw = atob(text);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

async function pinHash(pin: string, salt: Uint8Array<ArrayBuffer>, iterations: number): Promise<string> {
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(pin), 'PBKDF2', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, key, 256);
  return toBase64(new Uint8Array(bits));
}

export function validPin(pin: string): boolean {
  return /^\d{4,8}$/.test(pin);
}

/** Refusals of a refresh that mean the session was ended from elsewhere, not merely expired. */
const ENDED_REMOTELY = ['session_revoked', 'refresh_token_reused'];

/** Whether the pulled data was cleared because the session was ended from elsewhere. */
export async function endedRemotely(db: FieldDb): Promise<boolean> {
  return (await db.getMeta<number>('ended_remotely')) != null;
}

export interface SessionOptions {
  fetch?: typeof globalThis.fetch;
  now?: () => number;
  baseUrl?: string;
  pinIterations?: number;
}

export class Session {
  private current: StoredSession | null = null;
  private refreshing: Promise<string> | null = null;
  private readonly fetchImpl: typeof globalThis.fetch;
  private readonly now: () => number;
  private readonly baseUrl: string;
  private readonly iterations: number;

  constructor(
    private readonly db: FieldDb,
    options: SessionOptions = {},
  ) {
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.now = options.now ?? Date.now;
    this.baseUrl = options.baseUrl ?? '';
    this.iterations = options.pinIterations ?? PIN_ITERATIONS;
  }

  get user(): User | null {
    return this.current?.user ?? null;
  }

  async load(): Promise<StoredSession | null> {
    this.current = (await this.db.getMeta<StoredSession>('session')) ?? null;
    return this.current;
  }

  private async store(tokens: TokenResponse): Promise<StoredSession> {
    const session: StoredSession = {
      user: tokens.user,
      access_token: tokens.access_token,
      access_expires_at:
        this.now() + tokens.expires_in * 1000 - Math.min(EXPIRY_MARGIN_MS, tokens.expires_in * 250),
      refresh_token: tokens.refresh_token,
    };
    await this.db.setMeta('session', session);
    this.current = session;
    return session;
  }

  /** Throws an `ApiProblem`-like error (status, code) on refusal, a TypeError when offline. */
  async login(username: string, password: string): Promise<StoredSession> {
    const res = await this.fetchImpl(`${this.baseUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    if (!res.ok) {
      const problem = await res.json().catch(() => undefined);
      throw Object.assign(new Error(problem?.detail ?? `HTTP ${res.status}`), {
        status: res.status,
        code: problem?.code as string | undefined,
      });
    }
    const previous = this.current?.user.id ?? (await this.db.getMeta<string>('last_user'));
    const session = await this.store((await res.json()) as TokenResponse);
    if (previous && previous !== session.user.id) {
      // Another account on this phone: its pulled households, and what was said to it, must not
      // show here.
      await this.db.clearPulled();
      await this.db.setMeta('scope_notice', null);
    }
    await this.db.setMeta('last_user', session.user.id);
    await this.db.setMeta('ended_remotely', null);
    return session;
  }

  /** The access token to send, refreshed first when it has expired. */
  async accessToken(): Promise<string> {
    const s = this.current;
    if (!s) throw new LoginRequired();
    if (this.now() < s.access_expires_at) return s.access_token;
    return this.refresh();
  }

  /** Rotates the refresh token; concurrent callers share one request (a second would be reuse). */
  refresh(): Promise<string> {
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async doRefresh(): Promise<string> {
    const s = this.current;
    if (!s) throw new LoginRequired();
    const res = await this.fetchImpl(`${this.baseUrl}/api/v1/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ refresh_token: s.refresh_token }),
    });
    if (res.status === 400 || res.status === 401 || res.status === 403) {
      const code = ((await res.json().catch(() => undefined)) as { code?: string } | undefined)?.code;
      if (code && ENDED_REMOTELY.includes(code)) {
        // Signed out from elsewhere (a lost phone, a deactivated account, a stolen token): the
        // village's households and residents leave this phone; unsent records stay theirs.
        await this.db.clearPulled();
        await this.db.setMeta('ended_remotely', this.now());
      }
      await this.forgetTokens();
      throw new LoginRequired();
    }
    if (!res.ok) throw Object.assign(new Error(`HTTP ${res.status}`), { status: res.status });
    return (await this.store((await res.json()) as TokenResponse)).access_token;
  }

  /**
   * Reads the account again (`GET /me`) and keeps it: after the server said its scope changed, the
   * villages and role on this phone are those of today. Returns the account before and after.
   */
  async refreshUser(): Promise<{ before: User; after: User } | null> {
    const s = this.current;
    if (!s) return null;
    const res = await this.authFetch(`${this.baseUrl}/api/v1/me`, { headers: { accept: 'application/json' } });
    if (!res.ok) throw Object.assign(new Error(`HTTP ${res.status}`), { status: res.status });
    const after = (await res.json()) as User;
    const latest = this.current ?? s;
    this.current = { ...latest, user: after };
    await this.db.setMeta('session', this.current);
    return { before: s.user, after };
  }

  /** Keeps the user (the outbox is theirs) but no token: the next upload asks for the password. */
  private async forgetTokens(): Promise<void> {
    if (!this.current) return;
    this.current = { ...this.current, access_token: '', access_expires_at: 0, refresh_token: '' };
    await this.db.setMeta('session', this.current);
  }

  get needsLogin(): boolean {
    return !!this.current && !this.current.refresh_token;
  }

  /**
   * `fetch` for the API client: adds the token, and on a 401 refreshes once and tries again.
   * A second 401 means the session is gone: `LoginRequired`.
   */
  authFetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const again = request.clone();
    request.headers.set('Authorization', `Bearer ${await this.accessToken()}`);
    const res = await this.fetchImpl(request);
    if (res.status !== 401) return res;
    const token = await this.refresh();
    again.headers.set('Authorization', `Bearer ${token}`);
    const second = await this.fetchImpl(again);
    if (second.status === 401) {
      await this.forgetTokens();
      throw new LoginRequired();
    }
    return second;
  };

  /** Ends the session on this phone (and on the server when reachable). The outbox stays. */
  async logout(): Promise<void> {
    const s = this.current;
    if (s?.refresh_token) {
      try {
        await this.fetchImpl(`${this.baseUrl}/api/v1/auth/logout`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${s.access_token}` },
          body: JSON.stringify({ refresh_token: s.refresh_token }),
        });
      } catch {
        // Offline: the refresh token expires on its own; this phone forgets it now.
      }
    }
    this.current = null;
    await this.db.meta.bulkDelete(['session', 'pin', 'scope_notice']);
    await this.db.clearPulled();
  }

  async hasPin(): Promise<boolean> {
    return !!(await this.db.getMeta<StoredPin>('pin'));
  }

  async setPin(pin: string): Promise<void> {
    if (!validPin(pin)) throw new Error('a PIN is 4 to 8 digits');
    const salt = crypto.getRandomValues(new Uint8Array(16));
    const stored: StoredPin = {
      salt: toBase64(salt),
      hash: await pinHash(pin, salt, this.iterations),
      iterations: this.iterations,
      failures: 0,
    };
    await this.db.setMeta('pin', stored);
  }

  /**
   * Unlocks with the PIN. After `PIN_MAX_FAILURES` wrong tries the tokens and PIN are forgotten and
   * the password is needed (online); the outbox is kept.
   */
  async unlock(pin: string): Promise<'ok' | 'wrong' | 'locked_out'> {
    const stored = await this.db.getMeta<StoredPin>('pin');
    if (!stored) return 'locked_out';
    const hash = await pinHash(pin, fromBase64(stored.salt), stored.iterations);
    if (hash === stored.hash) {
      await this.db.setMeta('pin', { ...stored, failures: 0 });
      return 'ok';
    }
    const failures = stored.failures + 1;
    if (failures >= PIN_MAX_FAILURES) {
      await this.forgetTokens();
      await this.db.meta.delete('pin');
      return 'locked_out';
    }
    await this.db.setMeta('pin', { ...stored, failures });
    return 'wrong';
  }
}
