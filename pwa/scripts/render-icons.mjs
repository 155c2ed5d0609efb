// Renders the PNG icons in public/ from public/icon.svg with the system Chromium. Run it by hand
// after changing the icon (`node scripts/render-icons.mjs`); the PNGs are committed as source assets.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const publicDir = fileURLToPath(new URL('../public/', import.meta.url));
const svg = await readFile(`${publicDir}icon.svg`, 'utf8');
const BRAND = '#0f766e';

// Maskable: full-bleed brand background, glyph kept inside the central 80% safe zone.
const maskableSvg = svg
  .replace('<rect width="512" height="512" rx="112" fill="#0f766e"/>', `<rect width="512" height="512" fill="${BRAND}"/><g transform="translate(76.8 76.8) scale(0.7)">`)
  .replace('</svg>', '</g></svg>');

const outputs = [
  { file: 'icon-192.png', size: 192, svg, transparent: true },
  { file: 'icon-512.png', size: 512, svg, transparent: true },
  { file: 'icon-maskable-512.png', size: 512, svg: maskableSvg, transparent: false },
  // iOS ignores transparency and rounds the corners itself, so use the full-bleed variant.
  { file: 'apple-touch-icon.png', size: 180, svg: maskableSvg, transparent: false },
];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu'],
});
try {
  for (const o of outputs) {
    const page = await browser.newPage({ viewport: { width: o.size, height: o.size }, deviceScaleFactor: 1 });
    const html = `<!doctype html><html><body style="margin:0;background:transparent">${o.svg.replace('<svg ', `<svg width="${o.size}" height="${o.size}" style="display:block" `)}</body></html>`;
    await page.setContent(html);
    const png = await page.screenshot({ omitBackground: o.transparent, clip: { x: 0, y: 0, width: o.size, height: o.size } });
    await writeFile(`${publicDir}${o.file}`, png);
    console.log(`wrote public/${o.file} (${png.length} bytes)`);
    await page.close();
  }
} finally {
  await browser.close();
}
