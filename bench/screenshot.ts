/**
 * `npm run screenshot [-- --base http://127.0.0.1:4000] [--imdb tt0116209] [--out docs/explorer.png]`:
 * the README's picture of the explorer, taken in Debian's Chromium from a running server (after
 * `npx marquee demo` and `npm start`). Poster artwork is not ours to publish, so every poster is
 * drawn as a plain tinted card; everything else is the page as served.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import { launchChromium } from '../test/clients/chromium';

const ROOT = path.resolve(__dirname, '../..');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

/** A 182x268 card whose tint follows the poster's hash, so neighbouring cards differ. */
function placeholder(url: string): string {
  const hue = crypto.createHash('sha256').update(url).digest()[0] * (360 / 256);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="182" height="268" viewBox="0 0 182 268">
  <defs><linearGradient id="g" x1="0" y1="0" x2="0" y2="1">
    <stop offset="0" stop-color="hsl(${hue.toFixed(0)},45%,58%)"/><stop offset="1" stop-color="hsl(${hue.toFixed(0)},40%,28%)"/>
  </linearGradient></defs>
  <rect width="182" height="268" fill="url(#g)"/>
  <rect x="16" y="176" width="150" height="10" rx="3" fill="rgba(255,255,255,.55)"/>
  <rect x="36" y="194" width="110" height="7" rx="3" fill="rgba(255,255,255,.35)"/>
</svg>`;
}

async function main(): Promise<void> {
  const base = arg('base', 'http://127.0.0.1:4000').replace(/\/$/, '');
  const imdb = arg('imdb', 'tt0116209');
  const out = path.resolve(ROOT, arg('out', 'docs/explorer.png'));
  const r = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: 'query($i: String) { movie(imdbId: $i) { id } }', variables: { i: imdb } }),
  });
  const id = ((await r.json()) as { data?: { movie: { id: string } | null } }).data?.movie?.id;
  if (!id) throw new Error(`no movie ${imdb} at ${base}: run npx marquee demo and npm start first`);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    await page.route('**/posters/**', (route) => route.fulfill({ contentType: 'image/svg+xml', body: placeholder(route.request().url()) }));
    await page.goto(`${base}/movie/${id}`);
    await page.locator('.genre-bars').waitFor();
    await page.locator('section.similar .card').first().waitFor();
    await page.waitForFunction(() => Array.from(document.images).every((i) => i.complete));
    await page.screenshot({ path: out, fullPage: false, clip: { x: 0, y: 0, width: 1280, height: 1000 } });
    process.stderr.write(`wrote ${out}\n`);
  } finally {
    await browser.close();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack}\n`);
  process.exitCode = 1;
});
