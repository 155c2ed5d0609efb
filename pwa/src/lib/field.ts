/**
 * The field app's parts, wired once: the phone's database, the session, the outbox, the uploader
 * and the pull. Components import from here; tests build the same parts with fakes.
 */
import { writable } from 'svelte/store';
import { apiClient, ApiProblem, type PushRequest, type PushResponse } from './api/client';
import { probeServer } from './reachability';
import { Session } from './session';
import { db } from './store/db';
import { Outbox } from './store/outbox';
import { pullAll, type PullPage } from './sync/pull';
import { Uploader } from './sync/uploader';

export const fieldDb = db();
export const session = new Session(fieldDb);
export const outbox = new Outbox(fieldDb);
const client = apiClient({ fetch: session.authFetch });

async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok || data === undefined) {
    throw Object.assign(new ApiProblem(response.status, error as never), { status: response.status });
  }
  return data;
}

/** Bumped after every pull so screens re-read the phone's database. */
export const dataVersion = writable(0);

export const uploader = new Uploader({
  outbox,
  owner: () => session.user?.id ?? null,
  deviceId: () => fieldDb.deviceId(),
  push: (body) => unwrap<PushResponse>(client.POST('/api/v1/sync/push', {
      // The contract types `data` as an open object; its shape depends on `kind`.
      body: body as unknown as PushRequest,
    })),
  probe: () => probeServer(),
  afterSync: async () => {
    const n = await pullAll(fieldDb, (query) =>
      unwrap(client.GET('/api/v1/sync/pull', { params: { query } })) as Promise<PullPage>,
    );
    if (n > 0) dataVersion.update((v) => v + 1);
  },
  onLastSync: (at) => void fieldDb.setMeta('last_sync_at', at),
});

/** Storage the browser may evict: asked once after sign-in; the answer is shown on the home screen. */
export const storageWarning = writable<'refused' | 'low' | null>(null);

export async function checkStorage(): Promise<void> {
  const storage = navigator.storage;
  if (!storage?.persist) return;
  try {
    const persisted = (await storage.persisted()) || (await storage.persist());
    const { usage = 0, quota = 0 } = (await storage.estimate?.()) ?? {};
    if (quota > 0 && usage / quota > 0.8) storageWarning.set('low');
    else storageWarning.set(persisted ? null : 'refused');
  } catch {
    storageWarning.set('refused');
  }
}

let started = false;
/** Wake-ups for the uploader: network back, app back on screen, a minute passing, the worker. */
export function startSyncTriggers(): void {
  if (started) return;
  started = true;
  const kick = () => void uploader.kick();
  window.addEventListener('online', kick);
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
