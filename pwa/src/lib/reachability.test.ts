import { afterEach, describe, expect, it, vi } from 'vitest';
import { probeServer } from './reachability';

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/** A fetch that never answers but honours its AbortSignal, like a dead connection. */
const hangingFetch: typeof fetch = (_input, init) =>
  new Promise((_resolve, reject) => {
    init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
  });

afterEach(() => {
  vi.useRealTimers();
});

describe('probeServer', () => {
  it('is online when /healthz answers 200 {"status":"ok"}', async () => {
    const fetchImpl = vi.fn<typeof fetch>(async () => json({ status: 'ok' }));
    await expect(probeServer({ fetchImpl })).resolves.toBe(true);
    expect(fetchImpl).toHaveBeenCalledOnce();
    const [url, init] = fetchImpl.mock.calls[0];
    expect(url).toBe('/healthz');
    expect(init?.method).toBe('GET');
    expect(init?.cache).toBe('no-store');
  });

  it('is offline when the request fails (no network)', async () => {
    const fetchImpl = vi.fn<typeof fetch>(async () => {
      throw new TypeError('Failed to fetch');
    });
    await expect(probeServer({ fetchImpl })).resolves.toBe(false);
  });

  it('is offline when the server does not answer within the timeout', async () => {
    vi.useFakeTimers();
    const result = probeServer({ fetchImpl: hangingFetch, timeoutMs: 3000 });
    await vi.advanceTimersByTimeAsync(2999);
    let settled = false;
    void result.then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await expect(result).resolves.toBe(false);
  });

  it('is offline on an error status', async () => {
    await expect(probeServer({ fetchImpl: async () => json({ status: 'ok' }, 503) })).resolves.toBe(false);
  });

  it('is offline when a 200 is not the health answer (captive portal, SPA fallback)', async () => {
    const html = async () => new Response('<!doctype html><title>Login</title>', { status: 200 });
    await expect(probeServer({ fetchImpl: html })).resolves.toBe(false);
    await expect(probeServer({ fetchImpl: async () => json({ status: 'starting' }) })).resolves.toBe(false);
  });

  it('probes a configurable URL', async () => {
    const fetchImpl = vi.fn<typeof fetch>(async () => json({ status: 'ok' }));
    await probeServer({ fetchImpl, url: '/custom/healthz' });
    expect(fetchImpl.mock.calls[0][0]).toBe('/custom/healthz');
  });
});

describe('one reachability for every indicator', () => {
  it('follows what the last request showed, in every store at once', async () => {
    const { reachabilityStore, reportReachability } = await import('./reachability');
    // The browser's parts the store listens to (the tests run in Node).
    vi.stubGlobal('window', new EventTarget());
    vi.stubGlobal('document', Object.assign(new EventTarget(), { visibilityState: 'visible' }));
    vi.stubGlobal('navigator', { onLine: true });
    const fetchImpl = vi.fn<typeof fetch>(async () => json({ status: 'ok' }));
    const header = reachabilityStore({ fetchImpl, intervalMs: 60_000 });
    const other = reachabilityStore({ fetchImpl, intervalMs: 60_000 });
    const seen: string[] = [];
    const seenOther: string[] = [];
    const stop = header.subscribe((v) => seen.push(v));
    const stopOther = other.subscribe((v) => seenOther.push(v));
    await vi.waitFor(() => expect(seen.at(-1)).toBe('online'));
    // The uploader's push found no network: both say so now, not at their next probe.
    reportReachability(false);
    expect(seen.at(-1)).toBe('offline');
    expect(seenOther.at(-1)).toBe('offline');
    reportReachability(true);
    expect(seen.at(-1)).toBe('online');
    expect(seenOther.at(-1)).toBe('online');
    stop();
    stopOther();
    // Unsubscribed stores hear nothing more.
    reportReachability(false);
    expect(seen.at(-1)).toBe('online');
    vi.unstubAllGlobals();
  });
});
