/**
 * The poster explorer's first load, measured in Debian's Chromium against `marquee serve` (child
 * process, NODE_ENV=production) on a data directory: the time from navigation to the first grid
 * poster on screen, and to the first 12, on a cold profile (nothing cached) and warm (a reload).
 * Baselines in the same run: the explorer's own GraphQL requests (captured from the page, replayed
 * from Node) and the bare HTML fetch. Also the bundle size as built and as served.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import type { Page } from 'playwright-core';
import { launchChromium } from '../test/clients/chromium';
import { startServerProcess, type ApiBenchOptions } from './api';

const ROOT = path.resolve(__dirname, '../..');
const WEB_DIST = path.join(ROOT, 'dist/web');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Milliseconds since navigation start until `count` grid posters have loaded. */
async function postersShownAt(page: Page, count: number): Promise<number> {
  const handle = await page.waitForFunction(
    (n) => {
      const imgs = Array.from(document.querySelectorAll<HTMLImageElement>('.grid img')).slice(0, n);
      return imgs.length === n && imgs.every((i) => i.complete && i.naturalWidth > 0) ? performance.now() : false;
    },
    count,
    { polling: 'raf', timeout: 60_000 },
  );
  return (await handle.jsonValue()) as number;
}

export function bundleSizes(): Record<string, number> {
  const assets = path.join(WEB_DIST, 'assets');
  const sizes = { js: 0, jsGzip: 0, jsBrotli: 0, css: 0, cssGzip: 0 };
  for (const f of fs.readdirSync(assets)) {
    const raw = fs.readFileSync(path.join(assets, f));
    const gz = zlib.gzipSync(raw, { level: 9 }).length;
    if (f.endsWith('.js')) {
      sizes.js += raw.length;
      sizes.jsGzip += gz;
      sizes.jsBrotli += zlib.brotliCompressSync(raw).length;
    } else if (f.endsWith('.css')) {
      sizes.css += raw.length;
      sizes.cssGzip += gz;
    }
  }
  return {
    'JS kB (all chunks, minified)': sizes.js / 1000,
    'JS kB gzip -9': sizes.jsGzip / 1000,
    'JS kB brotli (as served)': sizes.jsBrotli / 1000,
    'CSS kB gzip -9': sizes.cssGzip / 1000,
  };
}

export async function benchExplorer(opts: ApiBenchOptions & { runs?: number }): Promise<Record<string, number>> {
  const log = opts.log ?? (() => undefined);
  const runs = opts.runs ?? 10;
  if (!fs.existsSync(path.join(WEB_DIST, 'index.html'))) throw new Error(`${WEB_DIST} is missing: npm run build`);
  const out: Record<string, number> = { ...bundleSizes() };
  const server = await startServerProcess({ ...opts, port: opts.port ?? 4568 });
  const browser = await launchChromium();
  try {
    const catalogue = await fetch(`${server.base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ movies(first: 1) { totalCount } }' }),
    });
    out['movies in the catalogue'] = ((await catalogue.json()) as { data: { movies: { totalCount: number } } }).data.movies.totalCount;
    const cold = { first: [] as number[], twelve: [] as number[] };
    const warm = { first: [] as number[], twelve: [] as number[] };
    let requests: string[] = [];
    for (let i = 0; i < runs + 1; i++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      const seen: string[] = [];
      page.on('request', (r) => {
        if (r.url().endsWith('/graphql') && r.method() === 'POST') seen.push(r.postData() ?? '');
      });
      await page.goto(`${server.base}/`, { waitUntil: 'commit' });
      const first = await postersShownAt(page, 1);
      const twelve = await postersShownAt(page, 12);
      await page.reload({ waitUntil: 'commit' });
      const warmFirst = await postersShownAt(page, 1);
      const warmTwelve = await postersShownAt(page, 12);
      await context.close();
      if (i === 0) {
        requests = seen.slice(0, seen.length / 2); // the cold load's own requests (the reload repeats them)
        continue; // the first run also warms the server (parsed-document cache, catalogue)
      }
      cold.first.push(first);
      cold.twelve.push(twelve);
      warm.first.push(warmFirst);
      warm.twelve.push(warmTwelve);
      log(
        `explorer run ${i}: first poster ${first.toFixed(0)} ms, 12 posters ${twelve.toFixed(0)} ms (warm ${warmFirst.toFixed(0)} / ${warmTwelve.toFixed(0)} ms)`,
      );
    }
    // Baselines: the page's own GraphQL requests from Node (in parallel, as the page sends them), and the HTML.
    const api: number[] = [];
    const html: number[] = [];
    for (let i = 0; i < runs; i++) {
      let t = performance.now();
      await Promise.all(
        requests.map(async (body) => {
          const r = await fetch(`${server.base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
          await r.arrayBuffer();
        }),
      );
      api.push(performance.now() - t);
      t = performance.now();
      await (await fetch(`${server.base}/`)).arrayBuffer();
      html.push(performance.now() - t);
    }
    out['baseline: GET / (HTML) median ms'] = median(html);
    out[`baseline: the page's ${requests.length} GraphQL requests from Node, median ms`] = median(api);
    out['cold: first grid poster shown, median ms'] = median(cold.first);
    out['cold: first grid poster shown, max ms'] = Math.max(...cold.first);
    out['cold: 12 grid posters shown, median ms'] = median(cold.twelve);
    out['warm (reload): first grid poster shown, median ms'] = median(warm.first);
    out['warm (reload): 12 grid posters shown, median ms'] = median(warm.twelve);
    out['runs'] = runs;
  } finally {
    await browser.close();
    await server.stop();
  }
  return out;
}
