/**
 * Model weights on disk: resolve a backbone's file in MARQUEE_MODELS_DIR and verify its sha256 before
 * ONNX Runtime sees it. Weights are never committed; on these machines they come from a directory we
 * are given. `downloadWeights` is the code a real deployment uses to fetch them (not called in tests).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../../errors';
import type { BackboneManifest } from './manifest';

export interface VerifiedWeights {
  /** Absolute path of the verified weights file. */
  path: string;
  sha256: string;
  size: number;
}

/** Verdict cache: file path -> the sha256 computed for that exact size + mtime. */
const hashCache = new Map<string, { size: number; mtimeMs: number; sha256: string }>();

export function clearChecksumCache(): void {
  hashCache.clear();
}

/** Streams a file through sha256 (lower-case hex). */
export async function sha256File(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  await pipeline(fs.createReadStream(file, { highWaterMark: 1 << 20 }), hash);
  return hash.digest('hex');
}

/** sha256 of a file, from the in-memory cache when its size and mtime are unchanged. */
async function cachedSha256(file: string, st: fs.Stats): Promise<string> {
  const hit = hashCache.get(file);
  if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs) return hit.sha256;
  const sha256 = await sha256File(file);
  hashCache.set(file, { size: st.size, mtimeMs: st.mtimeMs, sha256 });
  return sha256;
}

/** Reads `<dir>/SHA256SUMS` ("<hex>  <name>" lines) if present; name -> hex. */
async function readSums(dir: string): Promise<Map<string, string> | undefined> {
  let text: string;
  try {
    text = await fsp.readFile(path.join(dir, 'SHA256SUMS'), 'utf8');
  } catch {
    return undefined;
  }
  const sums = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^([0-9a-fA-F]{64})\s+\*?(.+?)\s*$/.exec(line);
    if (m) sums.set(path.basename(m[2]), m[1].toLowerCase());
  }
  return sums;
}

const missing = (manifest: BackboneManifest, modelsDir: string, why: string) =>
  new AppError(
    'SERVICE_UNAVAILABLE',
    `Model weights for backbone "${manifest.id}" not found: expected ${manifest.file} (sha256 ${manifest.sha256}) ` +
      `in the models directory ${modelsDir} (MARQUEE_MODELS_DIR) — ${why}. Weights are not committed; put the file there ` +
      (manifest.url ? `or fetch it from ${manifest.url}.` : 'from your model store.'),
    'MODEL_MISSING',
    { backbone: manifest.id, modelsDir, file: manifest.file, sha256: manifest.sha256 },
  );

/**
 * Resolves `manifest.file` under `modelsDir` and verifies it against the manifest's sha256 (and against
 * a SHA256SUMS file next to it, when one lists the file). Throws AppError SERVICE_UNAVAILABLE with reason
 * MODEL_MISSING or MODEL_CHECKSUM_MISMATCH naming the directory, the expected file and the hash.
 */
export async function resolveWeights(manifest: BackboneManifest, modelsDir: string): Promise<VerifiedWeights> {
  const dir = path.resolve(modelsDir);
  const file = path.resolve(dir, manifest.file);
  let st: fs.Stats;
  try {
    st = await fsp.stat(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw missing(manifest, dir, code === 'ENOENT' ? 'no such file' : `cannot read it (${code ?? (err as Error).message})`);
  }
  if (!st.isFile()) throw missing(manifest, dir, 'the path is not a regular file');

  const actual = await cachedSha256(file, st);
  if (actual !== manifest.sha256) {
    throw new AppError(
      'SERVICE_UNAVAILABLE',
      `Model weights checksum mismatch for backbone "${manifest.id}": ${file} (${st.size} bytes) has sha256 ${actual}, ` +
        `expected ${manifest.sha256}. The file in the models directory ${dir} is corrupt, truncated or a different version; replace it.`,
      'MODEL_CHECKSUM_MISMATCH',
      { backbone: manifest.id, modelsDir: dir, file: manifest.file, expected: manifest.sha256, actual, size: st.size },
    );
  }
  const sums = await readSums(path.dirname(file));
  const listed = sums?.get(path.basename(file));
  if (listed && listed !== manifest.sha256) {
    throw new AppError(
      'SERVICE_UNAVAILABLE',
      `Model weights checksum mismatch for backbone "${manifest.id}": ${path.join(path.dirname(file), 'SHA256SUMS')} lists ` +
        `${listed} for ${path.basename(file)}, but the manifest pins ${manifest.sha256} (expected file ${manifest.file} in ${dir}). ` +
        `The models directory is inconsistent; fix SHA256SUMS or the weights.`,
      'MODEL_CHECKSUM_MISMATCH',
      { backbone: manifest.id, modelsDir: dir, file: manifest.file, expected: manifest.sha256, listed },
    );
  }
  return { path: file, sha256: actual, size: st.size };
}

export interface DownloadOptions {
  /** Overrides manifest.url (e.g. an internal mirror). */
  url?: string;
  /** Injectable fetch (tests, proxies). Defaults to the global fetch of Node 20. */
  fetchImpl?: typeof fetch;
  timeoutMs?: number;
  /** Re-download even when a verified file is already present. */
  force?: boolean;
}

/**
 * Fetches the backbone's weights into `modelsDir/manifest.file` for a real deployment: streams to a
 * temporary file next to the target while hashing, verifies the sha256, then renames atomically. An
 * existing file that already verifies is kept. Never called by the service on its own.
 */
export async function downloadWeights(manifest: BackboneManifest, modelsDir: string, opts: DownloadOptions = {}): Promise<VerifiedWeights> {
  const dir = path.resolve(modelsDir);
  const target = path.resolve(dir, manifest.file);
  if (!opts.force) {
    try {
      return await resolveWeights(manifest, dir);
    } catch {
      /* absent or wrong: download */
    }
  }
  const url = opts.url ?? manifest.url;
  if (!url) {
    throw new AppError(
      'SERVICE_UNAVAILABLE',
      `Backbone "${manifest.id}" has no download url in its manifest; place ${manifest.file} (sha256 ${manifest.sha256}) in ${dir} by hand`,
      'MODEL_NO_URL',
      { backbone: manifest.id },
    );
  }
  const fetchImpl = opts.fetchImpl ?? fetch;
  await fsp.mkdir(path.dirname(target), { recursive: true });
  const tmp = `${target}.download-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  const fail = (why: string, details: Record<string, unknown> = {}) =>
    new AppError('SERVICE_UNAVAILABLE', `Downloading weights for backbone "${manifest.id}" from ${url} failed: ${why}`, 'MODEL_DOWNLOAD_FAILED', {
      backbone: manifest.id,
      url,
      ...details,
    });
  try {
    const res = await fetchImpl(url, { signal: AbortSignal.timeout(opts.timeoutMs ?? 10 * 60_000), redirect: 'follow' });
    if (!res.ok || !res.body) throw fail(`HTTP ${res.status}`);
    const hash = crypto.createHash('sha256');
    const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
    const hasher = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        cb(null, chunk);
      },
    });
    await pipeline(body, hasher, fs.createWriteStream(tmp, { flags: 'wx' }));
    const actual = hash.digest('hex');
    if (actual !== manifest.sha256) throw fail(`checksum mismatch (got sha256 ${actual}, expected ${manifest.sha256})`, { actual, expected: manifest.sha256 });
    await fsp.rename(tmp, target);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    if (err instanceof AppError) throw err;
    throw fail((err as Error).message);
  }
  return resolveWeights(manifest, dir);
}
