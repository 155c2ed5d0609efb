/// <reference types="vitest/config" />
import { defineConfig, type Connect, type Plugin } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { VitePWA } from 'vite-plugin-pwa';

const THEME_COLOR = '#0f766e';
const BACKGROUND_COLOR = '#ffffff';

/**
 * `vite dev` / `vite preview` stand in for the Rust server during front-end work and e2e runs
 * (BASE_URL=...). The real server answers `GET /healthz` with `{"status":"ok"}`; without this stub
 * preview's SPA fallback would answer index.html and the reachability indicator could not be
 * exercised. Build output is unaffected: this hooks only the dev and preview servers.
 */
function healthzStub(): Plugin {
  const handler: Connect.NextHandleFunction = (req, res, next) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
      res.statusCode = 200;
      res.setHeader('content-type', 'application/json');
      res.setHeader('cache-control', 'no-store');
      res.end('{"status":"ok"}');
      return;
    }
    next();
  };
  return {
    name: 'tungnha-healthz-stub',
    configureServer(server) {
      server.middlewares.use(handler);
    },
    configurePreviewServer(server) {
      server.middlewares.use(handler);
    },
  };
}

export default defineConfig({
  plugins: [
    healthzStub(),
    svelte(),
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'src',
      filename: 'sw.ts',
      // 'prompt': a waiting update is applied only after the user taps "Cập nhật"
      // (see src/lib/pwa.ts), so nothing reloads in the middle of data entry.
      registerType: 'prompt',
      // We call registerSW() ourselves from src/lib/pwa.ts.
      injectRegister: false,
      // Everything in dist/ is matched by globPatterns below; the plugin adds manifest.webmanifest.
      includeManifestIcons: false,
      manifest: {
        name: 'Từng Nhà',
        short_name: 'Từng Nhà',
        description: 'Ghi lại lượt hỗ trợ hộ gia đình chuyển đổi số, kể cả khi không có mạng.',
        lang: 'vi',
        dir: 'ltr',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        orientation: 'portrait',
        theme_color: THEME_COLOR,
        background_color: BACKGROUND_COLOR,
        icons: [
          { src: '/icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' },
          { src: '/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
          { src: '/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
          { src: '/icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
      injectManifest: {
        globPatterns: ['**/*.{js,css,html,svg,png}'],
      },
      devOptions: { enabled: false },
    }),
  ],
  resolve: {
    // Dexie's package entry wraps its ES5 UMD build; the modern ES module build is smaller.
    alias: [{ find: /^dexie$/, replacement: 'dexie/dist/modern/dexie.mjs' }],
  },
  build: {
    target: 'es2022',
    // Every browser we target (Chrome on Android first) preloads modules natively.
    modulePreload: { polyfill: false },
    // Keep the asset names stable under /assets/ so the server can mark them immutable.
    assetsDir: 'assets',
  },
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts'],
  },
});
