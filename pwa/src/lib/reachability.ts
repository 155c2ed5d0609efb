/**
 * Is the Từng Nhà server reachable? `navigator.onLine === true` only means "some network
 * interface is up" (captive portals, dead Wi-Fi and a down server all report online), so we ask the
 * server itself: `GET /healthz` must answer 200 with `{"status":"ok"}` within a short timeout.
 * The body check matters: an SPA fallback or a portal page also answers 200.
 * `navigator.onLine === false` is trusted in the other direction, to skip a request that cannot work.
 */
import { readable, type Readable } from 'svelte/store';

export type Reachability = 'checking' | 'online' | 'offline';

export interface ProbeOptions {
  url?: string;
  timeoutMs?: number;
  fetchImpl?: typeof fetch;
}

export const HEALTHZ_URL = '/healthz';
export const PROBE_TIMEOUT_MS = 4000;

export async function probeServer(options: ProbeOptions = {}): Promise<boolean> {
  const { url = HEALTHZ_URL, timeoutMs = PROBE_TIMEOUT_MS, fetchImpl = globalThis.fetch } = options;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const res = await fetchImpl(url, {
      method: 'GET',
      cache: 'no-store',
      headers: { accept: 'application/json' },
      signal: controller.signal,
    });
    if (!res.ok) return false;
    const body: unknown = await res.json();
    return typeof body === 'object' && body !== null && (body as { status?: unknown }).status === 'ok';
  } catch {
    // Network error, abort on timeout, or a body that is not JSON.
    return false;
  } finally {
    clearTimeout(timer);
  }
}

type Listener = (r: Reachability) => void;
const listeners = new Set<Listener>();

/**
 * What a request to the server just showed (a probe, the uploader's push or pull). Every
 * indicator follows it at once, so the header and the sync panel never tell two stories.
 */
export function reportReachability(ok: boolean): void {
  for (const l of [...listeners]) l(ok ? 'online' : 'offline');
}

/** Calls `l` with every reachability reported from now on; returns the unsubscribe. */
export function onReachability(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

export interface MonitorOptions extends ProbeOptions {
  /** Re-probe this often while the page is visible. */
  intervalMs?: number;
}

/**
 * A store with the current reachability. It probes on subscribe, on `online`/`offline` events,
 * when the page becomes visible again, and periodically. Overlapping probes are collapsed and only
 * the latest result is published.
 */
export function reachabilityStore(options: MonitorOptions = {}): Readable<Reachability> {
  const { intervalMs = 30_000, ...probeOptions } = options;
  return readable<Reachability>('checking', (set) => {
    let generation = 0;
    const check = async () => {
      const mine = ++generation;
      if (navigator.onLine === false) {
        set('offline');
        return;
      }
      const ok = await probeServer(probeOptions);
      // A later report (or probe) wins; this one still tells the others.
      if (mine === generation) reportReachability(ok);
    };
    const heard = onReachability((r) => {
      generation++;
      set(r);
    });
    const onVisible = () => {
      if (document.visibilityState === 'visible') void check();
    };
    void check();
    window.addEventListener('online', check);
    window.addEventListener('offline', check);
    document.addEventListener('visibilitychange', onVisible);
    const timer = setInterval(onVisible, intervalMs);
    return () => {
      generation++;
      heard();
      window.removeEventListener('online', check);
      window.removeEventListener('offline', check);
      document.removeEventListener('visibilitychange', onVisible);
      clearInterval(timer);
    };
  });
}
