/// <reference lib="webworker" />
/**
 * The service worker: precache the app shell and serve it (including the navigation fallback to
 * index.html) offline. Everything else goes to the network untouched; see src/lib/sw-routing.ts.
 *
 * We use our own Router and fetch listener instead of `precacheAndRoute()`/`registerRoute()`,
 * which install workbox's global fetch listener: here `shouldHandle()` is checked before any route,
 * so a non-GET or /api/ request can never be answered by the worker.
 */
import { clientsClaim } from 'workbox-core';
import { cleanupOutdatedCaches, PrecacheController, PrecacheRoute, type PrecacheEntry } from 'workbox-precaching';
import { NavigationRoute, Router } from 'workbox-routing';
import { NETWORK_ONLY_PATTERNS, shouldHandle } from './lib/sw-routing';

declare const self: ServiceWorkerGlobalScope & {
  __WB_MANIFEST: Array<PrecacheEntry | string>;
};

const precacheController = new PrecacheController();
// self.__WB_MANIFEST is replaced at build time by vite-plugin-pwa with the list of shell files.
precacheController.precache(self.__WB_MANIFEST);
cleanupOutdatedCaches();

const router = new Router();
router.registerRoute(new PrecacheRoute(precacheController));
router.registerRoute(
  new NavigationRoute(precacheController.createHandlerBoundToURL('index.html'), {
    denylist: [...NETWORK_ONLY_PATTERNS],
  }),
);

self.addEventListener('fetch', (event) => {
  if (!shouldHandle(event.request, self.location.origin)) return;
  const response = router.handleRequest({ event, request: event.request });
  if (response) event.respondWith(response);
});

// First install: there is no active worker yet, so activate at once and claim the open page
// (it is then controlled without a reload and works offline immediately). An update, by contrast,
// stays waiting until the page asks for it (the user tapped "Cập nhật"); see src/lib/pwa.ts.
self.addEventListener('install', () => {
  if (!self.registration.active) void self.skipWaiting();
});
self.addEventListener('message', (event) => {
  if (event.data && (event.data as { type?: unknown }).type === 'SKIP_WAITING') void self.skipWaiting();
});
clientsClaim();

// Background Sync is only a wake-up: the page's uploader does the sending (it alone knows the
// session and the outbox's order). Chrome fires `sync` when the network returns, even when the
// tab was in the background.
self.addEventListener('sync', (event) => {
  const e = event as ExtendableEvent & { tag?: string };
  if (e.tag !== 'outbox') return;
  e.waitUntil(
    self.clients
      .matchAll({ type: 'window' })
      .then((clients) => clients.forEach((c) => c.postMessage({ type: 'sync' }))),
  );
});
