import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';

/** Where `npm run build` puts the poster explorer (dist/web, beside dist/src). */
export const WEB_ROOT = path.resolve(__dirname, '../../web');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.json', '.svg', '.txt', '.webmanifest']);

// Vite names everything under assets/ by content hash: those bytes never change under a name.
const IMMUTABLE = 'public, max-age=31536000, immutable';
// index.html names the current hashes, so it is revalidated on every load.
const REVALIDATE = 'no-cache';

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  // blob: previews of a chosen file; http(s): previews of an image URL the user typed.
  "img-src 'self' blob: data: http: https:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

interface Asset {
  mtimeMs: number;
  type: string;
  etag: string;
  raw: Buffer;
  gzip?: Buffer;
  br?: Buffer;
}

/**
 * Serves the built explorer: hashed assets cached for a year, index.html revalidated, every
 * client-side route (/movie/42, /admin, …) answered with index.html. Files are read once and kept
 * compressed in memory: the whole app is a few hundred kB.
 */
export class WebAssets {
  private readonly cache = new Map<string, Asset>();

  constructor(private readonly root: string = WEB_ROOT) {}

  get built(): boolean {
    return fs.existsSync(path.join(this.root, 'index.html'));
  }

  /** Answers GET/HEAD for the explorer; returns false when the path is not the explorer's (404 elsewhere). */
  async handle(pathname: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    let rel: string;
    try {
      rel = decodeURIComponent(pathname);
    } catch {
      return false;
    }
    const file = rel === '/' ? 'index.html' : path.normalize(rel).replace(/^([/\\])+/, '');
    if (file.startsWith('..') || path.isAbsolute(file) || file.includes('\0')) return false;

    const asset = await this.load(file);
    if (asset) {
      this.send(req, res, asset, file === 'index.html' ? REVALIDATE : file.startsWith('assets/') ? IMMUTABLE : REVALIDATE);
      return true;
    }
    // A missing asset stays a 404 (never HTML under a .js name); page routes get the app.
    if ((rel !== '/' && path.extname(file)) || !acceptsHtml(req)) return false;
    if (!this.built) {
      sendNotBuilt(res);
      return true;
    }
    const index = await this.load('index.html');
    if (!index) return false;
    this.send(req, res, index, REVALIDATE);
    return true;
  }

  private async load(file: string): Promise<Asset | null> {
    const cached = this.cache.get(file);
    // Hashed assets never change; other files (index.html) are checked, so a rebuild shows at once.
    if (cached && file.startsWith('assets/')) return cached;
    const full = path.join(this.root, file);
    let raw: Buffer;
    let stat: fs.Stats;
    try {
      stat = await fs.promises.stat(full);
      if (!stat.isFile()) return null;
      if (cached && cached.mtimeMs === stat.mtimeMs) return cached;
      raw = await fs.promises.readFile(full);
    } catch {
      return null;
    }
    const ext = path.extname(file);
    const asset: Asset = {
      mtimeMs: stat.mtimeMs,
      type: TYPES[ext] ?? 'application/octet-stream',
      etag: `"${crypto.createHash('sha256').update(raw).digest('base64url').slice(0, 27)}"`,
      raw,
    };
    if (COMPRESSIBLE.has(ext) && raw.length > 1024) {
      asset.gzip = zlib.gzipSync(raw, { level: 9 });
      asset.br = zlib.brotliCompressSync(raw, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } });
    }
    this.cache.set(file, asset);
    return asset;
  }

  private send(req: http.IncomingMessage, res: http.ServerResponse, asset: Asset, cacheControl: string): void {
    const headers: http.OutgoingHttpHeaders = {
      'content-type': asset.type,
      'cache-control': cacheControl,
      etag: asset.etag,
      vary: 'Accept-Encoding',
      'x-content-type-options': 'nosniff',
    };
    if (asset.type.startsWith('text/html')) {
      headers['content-security-policy'] = CSP;
      headers['referrer-policy'] = 'same-origin';
    }
    if (req.headers['if-none-match'] === asset.etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    const accept = String(req.headers['accept-encoding'] ?? '');
    let body = asset.raw;
    if (asset.br && /\bbr\b/.test(accept)) {
      body = asset.br;
      headers['content-encoding'] = 'br';
    } else if (asset.gzip && /\bgzip\b/.test(accept)) {
      body = asset.gzip;
      headers['content-encoding'] = 'gzip';
    }
    headers['content-length'] = body.length;
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : body);
  }
}

// A browser navigating to a page asks for text/html; API clients and scripts (any type) get a 404, not the app.
function acceptsHtml(req: http.IncomingMessage): boolean {
  return String(req.headers.accept ?? '').includes('text/html');
}

function sendNotBuilt(res: http.ServerResponse): void {
  const html =
    '<!doctype html><meta charset="utf-8"><title>Marquee</title><h1>The poster explorer is not built</h1>' +
    '<p>Run <code>npm run build</code> (<code>npm ci</code> does it), then reload. GraphQL is at <a href="/graphql">/graphql</a>.</p>';
  res.writeHead(503, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}
