import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { pidAlive } from '../db/data-dir-lock';
import { badInput } from '../errors';
import { formatOfExt, formatOfMime, MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS, POSTER_FORMATS, sniffFormat, sniffRefusedFormat } from '../ml/image/formats';

export interface StoredPoster {
  sha256: string;
  mime: string;
}

// The main thread only validates images, each once: libvips' operation cache would only hold memory.
sharp.cache(false);

const SERVED_NAME = new RegExp(`^([0-9a-f]{64})\\.(${POSTER_FORMATS.map((f) => f.ext).join('|')})$`);

/**
 * Content-addressed poster files under MARQUEE_DATA_DIR/posters: a movie row never points at a
 * file that can vanish with its source, and identical posters are stored once. Only formats the
 * embedder decodes are stored (ml/image/formats), so every stored poster can be embedded.
 */
export class PosterStore {
  readonly root: string;

  constructor(dataDir: string) {
    this.root = path.join(dataDir, 'posters');
  }

  /** Checks that the bytes are a whole, decodable image within the limits; returns its MIME type. */
  static async validate(bytes: Buffer): Promise<string> {
    if (bytes.length === 0) throw badInput('IMAGE_EMPTY', 'the image is empty');
    if (bytes.length > MAX_IMAGE_BYTES) {
      throw badInput('PAYLOAD_TOO_LARGE', `the image is ${bytes.length} bytes; the limit is ${MAX_IMAGE_BYTES}`);
    }
    const format = sniffFormat(bytes);
    const refused = format ? undefined : sniffRefusedFormat(bytes);
    if (refused) {
      throw badInput('UNSUPPORTED_FORMAT', `${refused} images are not accepted; convert it to one of ${POSTER_FORMATS.map((f) => f.name).join(', ')}`);
    }
    if (!format) throw badInput('NOT_AN_IMAGE', `not an image in an accepted format (${POSTER_FORMATS.map((f) => f.name).join(', ')})`);
    let pixels: number;
    try {
      const meta = await sharp(bytes, { limitInputPixels: false }).metadata();
      pixels = (meta.width ?? 0) * (meta.height ?? 0);
    } catch {
      throw badInput('NOT_AN_IMAGE', 'the file is not an image sharp can read');
    }
    if (pixels > MAX_IMAGE_PIXELS) {
      throw badInput('IMAGE_TOO_LARGE', `the image has ${pixels} pixels; the limit is ${MAX_IMAGE_PIXELS}`);
    }
    try {
      // A full (shrink-on-load) decode: headers alone do not reveal a truncated or corrupt body.
      await sharp(bytes, { failOn: 'truncated', limitInputPixels: MAX_IMAGE_PIXELS }).resize(16, 16).raw().toBuffer();
    } catch (err) {
      throw badInput('IMAGE_CORRUPT', `the image is corrupt: ${(err as Error).message}`);
    }
    return format.mime;
  }

  /** The public file name of a stored poster (`<sha256>.<ext>`), as served under /posters/. */
  static fileName(sha256: string, mime: string): string {
    return `${sha256}.${formatOfMime(mime)?.ext ?? 'bin'}`;
  }

  fileFor(sha256: string, mime: string): string {
    return path.join(this.root, sha256.slice(0, 2), PosterStore.fileName(sha256, mime));
  }

  /** The file and MIME type behind a public file name, or undefined when the name is not one. */
  servedFile(name: string): { path: string; mime: string; sha256: string } | undefined {
    const m = SERVED_NAME.exec(name);
    const format = m && formatOfExt(m[2]);
    if (!m || !format) return undefined;
    return { path: this.fileFor(m[1], format.mime), mime: format.mime, sha256: m[1] };
  }

  /**
   * Removes the `*.tmp` files that a killed process left half-written (their writer's pid, in the
   * name, is gone); returns how many. Files of a live writer (a concurrent import) are kept.
   */
  removeStaleTemp(): number {
    let removed = 0;
    let dirs: string[];
    try {
      dirs = fs.readdirSync(this.root);
    } catch {
      return 0;
    }
    for (const d of dirs) {
      const dir = path.join(this.root, d);
      let names: string[];
      try {
        names = fs.readdirSync(dir);
      } catch {
        continue;
      }
      for (const name of names) {
        const m = /\.(\d+)\.[0-9a-f]+\.tmp$/.exec(name);
        if (!m || pidAlive(Number(m[1]))) continue;
        fs.rmSync(path.join(dir, name), { force: true });
        removed++;
      }
    }
    return removed;
  }

  /** Validates and stores the bytes; idempotent (an existing file is left as is). */
  async put(bytes: Buffer): Promise<StoredPoster> {
    const mime = await PosterStore.validate(bytes);
    const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
    const file = this.fileFor(sha256, mime);
    if (!fs.existsSync(file)) {
      await fs.promises.mkdir(path.dirname(file), { recursive: true });
      // Write-then-rename so a killed process never leaves a half-written poster under its final name.
      const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
      await fs.promises.writeFile(tmp, bytes);
      await fs.promises.rename(tmp, file);
    }
    return { sha256, mime };
  }
}
