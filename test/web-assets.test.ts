/** The explorer's static files as the server sends them: cache headers, compression, SPA routes, refusals. Real HTTP, real files. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import zlib from 'node:zlib';
import { WebAssets } from '../src/server/web-assets';
import { cleanupAll, tmpDir } from './support';

after(cleanupAll);

async function serve(root: string): Promise<{ base: string; server: http.Server }> {
  const web = new WebAssets(root);
  const server = http.createServer((req, res) => {
    void web.handle(new URL(req.url ?? '/', 'http://localhost').pathname, req, res).then((handled) => {
      if (!handled) res.writeHead(404).end('not the explorer');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** A raw GET (fetch would decompress and normalise paths). */
function get(
  base: string,
  pathname: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(`${base}${pathname}`, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      })
      .on('error', reject);
  });
}

describe('explorer assets', () => {
  let root: string;
  let base: string;
  let server: http.Server;
  const js = `console.log(${JSON.stringify('x'.repeat(4000))});`;
  before(async () => {
    root = tmpDir();
    fs.mkdirSync(path.join(root, 'assets'));
    fs.writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>Marquee</title><script type="module" src="/assets/index-abc123.js"></script>');
    fs.writeFileSync(path.join(root, 'assets/index-abc123.js'), js);
    ({ base, server } = await serve(root));
  });
  after(() => server.close());

  test('index.html is revalidated every time (no-cache + ETag, 304 when unchanged) and carries a CSP', async () => {
    const r = await get(base, '/', { accept: 'text/html' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(r.headers['cache-control'], 'no-cache');
    assert.match(String(r.headers['content-security-policy']), /default-src 'self'; script-src 'self'/);
    assert.match(r.body.toString(), /<title>Marquee<\/title>/);
    const again = await get(base, '/', { 'if-none-match': String(r.headers.etag) });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
  });

  test('hashed assets are immutable for a year and sent brotli or gzip as the browser accepts', async () => {
    const br = await get(base, '/assets/index-abc123.js', { 'accept-encoding': 'gzip, deflate, br' });
    assert.equal(br.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(br.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(br.headers['content-encoding'], 'br');
    assert.equal(zlib.brotliDecompressSync(br.body).toString(), js);
    const gz = await get(base, '/assets/index-abc123.js', { 'accept-encoding': 'gzip' });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.equal(zlib.gunzipSync(gz.body).toString(), js);
    const plain = await get(base, '/assets/index-abc123.js');
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.body.toString(), js);
    assert.equal(Number(plain.headers['content-length']), Buffer.byteLength(js));
  });

  test("the app's routes get index.html; a missing asset, a non-HTML request or a path out of the root does not", async () => {
    for (const route of ['/movie/42', '/admin', '/for-you?x=1']) {
      const r = await get(base, route, { accept: 'text/html,application/xhtml+xml' });
      assert.equal(r.status, 200, route);
      assert.match(r.body.toString(), /<title>Marquee/);
      assert.equal(r.headers['cache-control'], 'no-cache');
    }
    assert.equal((await get(base, '/assets/index-000000.js', { accept: '*/*' })).status, 404);
    assert.equal((await get(base, '/movie/42', { accept: 'application/json' })).status, 404);
    assert.equal((await get(base, '/movie/42', { accept: '*/*' })).status, 404);
    // Dot-dot segments resolve inside the root: the app's page, never a file above it.
    const escape = await get(base, '/%2e%2e/%2e%2e/etc/passwd', { accept: 'text/html' });
    assert.match(escape.body.toString(), /<title>Marquee/);
    assert.equal((await get(base, '/..%2f..%2fpackage.json')).status, 404);
  });

  test('a rebuilt index.html is served at once, without a restart', async () => {
    fs.writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>Marquee v2</title>');
    const t = new Date(Date.now() + 2000);
    fs.utimesSync(path.join(root, 'index.html'), t, t);
    assert.match((await get(base, '/')).body.toString(), /Marquee v2/);
  });

  test('without a build, pages say how to build the explorer', async () => {
    const bare = await serve(tmpDir());
    try {
      const r = await get(bare.base, '/', { accept: 'text/html' });
      assert.equal(r.status, 503);
      assert.match(r.body.toString(), /npm run build/);
    } finally {
      bare.server.close();
    }
  });
});
