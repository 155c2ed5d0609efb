import { describe, expect, it } from 'vitest';
import { isNetworkOnlyPath, shouldHandle } from './sw-routing';

const ORIGIN = 'https://tungnha.example';
const req = (method: string, path: string, origin = ORIGIN) => ({ method, url: origin + path });

describe('shouldHandle', () => {
  it('handles GET navigations and shell assets of our origin', () => {
    expect(shouldHandle(req('GET', '/'), ORIGIN)).toBe(true);
    expect(shouldHandle(req('GET', '/index.html'), ORIGIN)).toBe(true);
    expect(shouldHandle(req('GET', '/ho-gia-dinh/123?tab=visits'), ORIGIN)).toBe(true);
    expect(shouldHandle(req('GET', '/assets/index-abc123.js'), ORIGIN)).toBe(true);
    expect(shouldHandle(req('GET', '/manifest.webmanifest'), ORIGIN)).toBe(true);
  });

  it('never handles a non-GET request, wherever it goes', () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']) {
      expect(shouldHandle(req(method, '/'), ORIGIN), method).toBe(false);
      expect(shouldHandle(req(method, '/api/v1/sync/push'), ORIGIN), method).toBe(false);
    }
    expect(shouldHandle(new Request(`${ORIGIN}/api/v1/auth/login`, { method: 'POST', body: '{}' }), ORIGIN)).toBe(false);
  });

  it('never handles the API, even a GET', () => {
    expect(shouldHandle(req('GET', '/api/v1/me'), ORIGIN)).toBe(false);
    expect(shouldHandle(req('GET', '/api/v1/sync/pull?cursor=0'), ORIGIN)).toBe(false);
    expect(shouldHandle(req('GET', '/api'), ORIGIN)).toBe(false);
    expect(shouldHandle(req('GET', '/api?x=1'), ORIGIN)).toBe(false);
  });

  it('never handles the docs, the spec or the health probes', () => {
    for (const path of ['/docs', '/docs/', '/docs/index.html', '/openapi.json', '/healthz', '/readyz', '/healthz?t=1']) {
      expect(shouldHandle(req('GET', path), ORIGIN), path).toBe(false);
    }
  });

  it('only denies whole path segments', () => {
    expect(isNetworkOnlyPath('/apiary')).toBe(false);
    expect(isNetworkOnlyPath('/docsearch')).toBe(false);
    expect(isNetworkOnlyPath('/healthzone')).toBe(false);
    expect(isNetworkOnlyPath('/huong-dan/api')).toBe(false);
  });

  it('never handles other origins', () => {
    expect(shouldHandle(req('GET', '/', 'https://cdn.example'), ORIGIN)).toBe(false);
    expect(shouldHandle(req('GET', '/icon.svg', 'http://tungnha.example'), ORIGIN)).toBe(false);
  });

  it('ignores a URL it cannot parse', () => {
    expect(shouldHandle({ method: 'GET', url: 'not a url' }, ORIGIN)).toBe(false);
  });
});
