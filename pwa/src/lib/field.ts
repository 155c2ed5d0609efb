/**
 * The field app's parts, wired once: the phone's database, the session, the outbox, the uploader
 * and the pull. Components import from here; tests build the same parts with fakes.
 */
import { get, writable } from 'svelte/store';
import { ApiProblem, type PullQuery, type PushRequest, type PushResponse } from './api/client';
import { onReachability, probeServer, reportReachability } from './reachability';
import { LoginRequired, Session } from './session';
import { db } from './store/db';
import { Outbox } from './store/outbox';
import type { PullPage } from './sync/pull';
import { Uploader } from './sync/uploader';

export const fieldDb = db();
export const session = new Session(fieldDb);
export const outbox = new Outbox(fieldDb);
/**
 * The two sync calls, with the session's token. Plain `fetch` keeps the typed client (and its
 * bytes) out of the first screen; the request and answer types still come from the contract.
 */
async function call<T>(path: string, init?: RequestInit): Promise<T> {
  const response = await session.authFetch(path, {
    ...init,
    headers: { accept: 'application/json', ...(init?.body ? { 'content-type': 'application/json' } : {}) },
  });
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok || body === undefined) {
    throw Object.assign(new ApiProblem(response.status, body as never), { status: response.status });
  }
  return body as T;
}

function pushBatch(body: PushRequest): Promise<PushResponse> {
  return call<PushResponse>('/api/v1/sync/push', { method: 'POST', body: JSON.stringify(body) });
}

async function pullPage(query: PullQuery): Promise<PullPage> {
  // With the device id, a pull counts as this phone's contact on the leader's sync screen.
  const q = new URLSearchParams({ device_id: await fieldDb.deviceId() });
  for (const [k, v] of Object.entries(query)) if (v != null) q.set(k, String(v));
  return call<PullPage>(`/api/v1/sync/pull?${q}`);
}

/** Roles that work in the field app and keep their villages' households on the phone. */
export const FIELD_ROLES: readonly string[] = ['volunteer', 'village_leader'];

/** Bumped after every pull so screens re-read the phone's database. */
export const dataVersion = writable(0);

/** What changed in the account's scope, told once on the home screen until dismissed. */
export interface ScopeNotice {
  kind: 'moved' | 'added' | 'removed' | 'office';
  /** Names of the villages the sentence is about. */
  villages: string[];
}

export const scopeNotice = writable<ScopeNotice | null>(null);

/** Reads the notice kept for this account (the home screen calls it when it opens). */
export async function loadScopeNotice(): Promise<void> {
  scopeNotice.set((await fieldDb.getMeta<ScopeNotice>('scope_notice')) ?? null);
}

export async function dismissScopeNotice(): Promise<void> {
  scopeNotice.set(null);
  await fieldDb.setMeta('scope_notice', null);
}

/** The sentence for a change of scope: moved, given more villages, relieved of some, or off the field. */
export function describeScopeChange(
  before: { role: string; villages?: { id: string; name: string }[]; village_ids: string[] },
  after: { role: string; villages?: { id: string; name: string }[]; village_ids: string[] },
): ScopeNotice | null {
  if (!FIELD_ROLES.includes(after.role)) return { kind: 'office', villages: [] };
  const name = (u: typeof after, id: string) => u.villages?.find((v) => v.id === id)?.name || id;
  const gained = after.village_ids.filter((v) => !before.village_ids.includes(v));
  const lost = before.village_ids.filter((v) => !after.village_ids.includes(v));
  if (gained.length && lost.length) return { kind: 'moved', villages: after.village_ids.map((v) => name(after, v)) };
  if (gained.length) return { kind: 'added', villages: gained.map((v) => name(after, v)) };
  if (lost.length) return { kind: 'removed', villages: lost.map((v) => name(before, v)) };
  return null;
}

/** The server said this account's scope changed: read the account again and say what changed. */
let scopeWasReset = false;

async function onScopeReset(): Promise<boolean> {
  scopeWasReset = true;
  const change = await session.refreshUser();
  if (!change) return false;
  const notice = describeScopeChange(change.before, change.after);
  if (notice) {
    scopeNotice.set(notice);
    await fieldDb.setMeta('scope_notice', notice);
  }
  return FIELD_ROLES.includes(change.after.role);
}

export const uploader = new Uploader({
  outbox,
  owner: () => session.user?.id ?? null,
  deviceId: () => fieldDb.deviceId(),
  // The contract types `data` as an open object; its shape depends on `kind`.
  push: async (body) => {
    try {
      const answer = await pushBatch(body as unknown as PushRequest);
      reportReachability(true);
      return answer;
    } catch (error) {
      // No answer at all is no network; an HTTP error still came from the server.
      if ((error as { status?: number }).status == null && !(error instanceof LoginRequired)) reportReachability(false);
      throw error;
    }
  },
  probe: async () => {
    const ok = await probeServer();
    reportReachability(ok);
    return ok;
  },
  afterSync: async () => {
    // Only field roles keep their villages on the phone; office roles read figures online.
    if (!FIELD_ROLES.includes(session.user?.role ?? '')) return;
    scopeWasReset = false;
    // Loaded with the first sync, not with the first screen (the worker precaches it).
    const { pullAll } = await import('./sync/pull');
    const n = await pullAll(fieldDb, pullPage, { onReset: onScopeReset });
    // A reset may leave nothing to show: the screens must re-read even then.
    if (n > 0 || scopeWasReset) dataVersion.update((v) => v + 1);
  },
  onLastSync: (at) => void fieldDb.setMeta('last_sync_at', at),
});

/** Storage the browser may evict: asked once after sign-in; the answer is shown on the home screen. */
export const storageWarning = writable<'refused' | 'low' | null | 'checking'>('checking');

export async function checkStorage(): Promise<void> {
  const storage = navigator.storage;
  if (!storage?.persist) return void storageWarning.set(null);
  try {
    const persisted = (await storage.persisted()) || (await storage.persist());
    const { usage = 0, quota = 0 } = (await storage.estimate?.()) ?? {};
    if (quota > 0 && usage / quota > 0.8) storageWarning.set('low');
    else storageWarning.set(persisted || (await storageWarningSeen()) ? null : 'refused');
  } catch {
    storageWarning.set((await storageWarningSeen()) ? null : 'refused');
  }
}

/** The "storage not persistent" advice is said once per phone; "nearly full" is said every time. */
async function storageWarningSeen(): Promise<boolean> {
  return (await fieldDb.getMeta<boolean>('storage_warning_seen')) === true;
}

export async function dismissStorageWarning(): Promise<void> {
  await fieldDb.setMeta('storage_warning_seen', true);
  storageWarning.set(null);
}

let started = false;
/** Wake-ups for the uploader: network back, app back on screen, a minute passing, the worker. */
export function startSyncTriggers(): void {
  if (started) return;
  started = true;
  // A session kept from an older version has no village names: read the account once, online.
  if (session.user && !session.user.villages) void session.refreshUser().catch(() => undefined);
  const kick = () => void uploader.kick();
  window.addEventListener('online', kick);
  // The header's own probe found the server while the uploader waits out a back-off: go now.
  onReachability((r) => {
    const phase = get(uploader.state).phase;
    if (r === 'online' && (phase === 'offline' || phase === 'retrying')) kick();
  });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') kick();
  });
  setInterval(kick, 60_000);
  navigator.serviceWorker?.addEventListener('message', (e) => {
    if ((e.data as { type?: string })?.type === 'sync') kick();
  });
  void fieldDb.getMeta<number>('last_sync_at').then((at) => {
    if (at) uploader.restoreLastSync(at);
  });
  kick();
}

/** Asks the browser to wake the app when the network is back (Background Sync, where supported). */
export async function requestWakeUp(): Promise<void> {
  try {
    const registration = (await navigator.serviceWorker?.ready) as
      | (ServiceWorkerRegistration & { sync?: { register(tag: string): Promise<void> } })
      | undefined;
    await registration?.sync?.register('outbox');
  } catch {
    // Not supported or not allowed: the `online` event and the timer still wake the uploader.
  }
}

/** Saves a record made on the phone and starts sending it. */
export async function save(record: Parameters<Outbox['add']>[1]): Promise<void> {
  const owner = session.user?.id;
  if (!owner) throw new Error('no session');
  await outbox.add(owner, record);
  await uploader.refreshCounts();
  void requestWakeUp();
  void uploader.kick();
}

/** A download of everything still in the outbox, for when it is stuck and a leader must help. */
export async function exportOutbox(): Promise<Blob> {
  const entries = await outbox.exportAll();
  const body = JSON.stringify(
    { exported_at: new Date().toISOString(), device_id: await fieldDb.deviceId(), records: entries },
    null,
    2,
  );
  return new Blob([body], { type: 'application/json' });
}
