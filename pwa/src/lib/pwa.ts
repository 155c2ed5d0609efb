/**
 * Service-worker registration with an update prompt. The first install activates immediately
 * (see src/sw.ts); a later version waits until the user taps "Cập nhật", so a form being filled in
 * is never reloaded under the volunteer's fingers.
 *
 * Written against the browser's own API rather than workbox-window: the ~2 KiB it adds would be
 * fetched with the first screen, whose JavaScript budget is 80 KiB gzipped on a cheap phone.
 */
import { writable } from 'svelte/store';

/** A new version is installed and waiting for the user's go-ahead. */
export const needRefresh = writable(false);
/** The shell is precached: the app now starts without a network. */
export const offlineReady = writable(false);

const UPDATE_CHECK_INTERVAL_MS = 60 * 60 * 1000;
const OFFLINE_READY_NOTICE_MS = 8000;

let waiting: ServiceWorker | null = null;

function offerUpdate(worker: ServiceWorker) {
  waiting = worker;
  needRefresh.set(true);
}

/**
 * Follows a worker being installed: with a version already in control it waits for the user; the
 * first one makes the app ready offline.
 */
function follow(worker: ServiceWorker | null, update: boolean) {
  if (!worker) return;
  const seen = () => {
    if (worker.state === 'installed' && update) offerUpdate(worker);
    if (worker.state === 'activated' && !update) {
      offlineReady.set(true);
      setTimeout(() => offlineReady.set(false), OFFLINE_READY_NOTICE_MS);
    }
  };
  worker.addEventListener('statechange', seen);
  seen();
}

export function registerServiceWorker(): void {
  if (!('serviceWorker' in navigator)) return;
  const update = () => navigator.serviceWorker.controller != null;
  navigator.serviceWorker
    .register('/sw.js', { scope: '/' })
    .then((registration) => {
      if (registration.waiting && navigator.serviceWorker.controller) offerUpdate(registration.waiting);
      follow(registration.installing, update());
      registration.addEventListener('updatefound', () => follow(registration.installing, update()));
      // Long-lived standalone windows never navigate, so look for a new version now and then.
      setInterval(() => {
        if (navigator.onLine) void registration.update().catch(() => undefined);
      }, UPDATE_CHECK_INTERVAL_MS);
    })
    .catch(() => undefined);
}

/** Activate the waiting worker; the page reloads once it has taken control. */
export function applyUpdate(): void {
  needRefresh.set(false);
  const worker = waiting;
  if (!worker) return;
  navigator.serviceWorker.addEventListener('controllerchange', () => location.reload(), { once: true });
  worker.postMessage({ type: 'SKIP_WAITING' });
}
