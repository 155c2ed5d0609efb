/**
 * Which requests the service worker may answer. Kept free of service-worker globals so it can be
 * unit-tested in node and shared by src/sw.ts.
 *
 * Invariants:
 * - Only GET. Writes (sync push, login, uploads) must always reach the network so a failure is
 *   visible to the caller and retried by the outbox, never answered from a cache.
 * - Never the server's own endpoints: the API (its answers depend on auth and change constantly,
 *   and must not end up in a cache), the API docs, and the health probes (a cached /healthz would
 *   make the online indicator lie).
 * - Only our own origin.
 */

/** Matched against `pathname + search`, the same input workbox's NavigationRoute denylist gets. */
export const NETWORK_ONLY_PATTERNS: readonly RegExp[] = [
  /^\/api(?:[/?]|$)/,
  /^\/docs(?:[/?]|$)/,
  /^\/openapi\.json(?:\?|$)/,
  /^\/healthz(?:\?|$)/,
  /^\/readyz(?:\?|$)/,
];

/** The parts of a `Request` the decision depends on (a real `Request` satisfies this). */
export interface RequestLike {
  readonly method: string;
  readonly url: string;
}

export function isNetworkOnlyPath(pathAndSearch: string): boolean {
  return NETWORK_ONLY_PATTERNS.some((re) => re.test(pathAndSearch));
}

/**
 * True when the service worker may respond to `request` (precached shell assets and navigations);
 * false means it must not call `respondWith`, so the browser goes straight to the network.
 */
export function shouldHandle(request: RequestLike, origin: string): boolean {
  if (request.method.toUpperCase() !== 'GET') return false;
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    return false;
  }
  if (url.origin !== origin) return false;
  return !isNetworkOnlyPath(url.pathname + url.search);
}
