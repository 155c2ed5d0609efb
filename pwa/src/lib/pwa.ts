/**
 * Service-worker registration with an update prompt. The first install activates immediately
 * (see src/sw.ts); a later version waits until the user taps "Cập nhật", so a form being filled in
 * is never reloaded under the volunteer's fingers.
 */
import { registerSW } from 'virtual:pwa-register';
import { writable } from 'svelte/store';

/** A new version is installed and waiting for the user's go-ahead. */
export const needRefresh = writable(false);
/** The shell is precached: the app now starts without a network. */
export const offlineReady = writable(false);

const UPDATE_CHECK_INTERVAL_MS = 60 * 60 * 1000;
const OFFLINE_READY_NOTICE_MS = 8000;

let updateSW: ((reloadPage?: boolean) => Promise<void>) | undefined;

export function registerServiceWorker(): void {
  if (!('serviceWorker' in navigator)) return;
  updateSW = registerSW({
    immediate: true,
    onNeedRefresh: () => needRefresh.set(true),
    onOfflineReady: () => {
      offlineReady.set(true);
      setTimeout(() => offlineReady.set(false), OFFLINE_READY_NOTICE_MS);
    },
    onRegisteredSW(_url, registration) {
      if (!registration) return;
      // Long-lived standalone windows never navigate, so look for a new version now and then.
      setInterval(() => {
        if (navigator.onLine) void registration.update().catch(() => undefined);
      }, UPDATE_CHECK_INTERVAL_MS);
    },
  });
}

/** Activate the waiting worker; the page reloads once it has taken control. */
export function applyUpdate(): void {
  needRefresh.set(false);
  void updateSW?.(true);
}
