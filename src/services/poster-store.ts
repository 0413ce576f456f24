import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { badInput } from '../errors';

/** Posters larger than this many pixels are refused before decoding (decompression bombs). */
export const MAX_POSTER_PIXELS = 40_000_000;
export const MAX_POSTER_BYTES = 10 * 1024 * 1024;

const MIME_EXT: Record<string, string> = { jpeg: 'jpg', png: 'png', webp: 'webp', gif: 'gif', avif: 'avif', tiff: 'tiff' };

export interface StoredPoster {
  sha256: string;
  mime: string;
}

/**
 * Content-addressed poster files under MARQUEE_DATA_DIR/posters: a movie row never points at a
 * file that can vanish with its source, and identical posters are stored once.
 */
export class PosterStore {
  readonly root: string;

  constructor(dataDir: string) {
    this.root = path.join(dataDir, 'posters');
  }

  /** Checks that the bytes are a whole, decodable image within the limits; returns its MIME type. */
  static async validate(bytes: Buffer): Promise<string> {
    if (bytes.length === 0) throw badInput('IMAGE_EMPTY', 'the image is empty');
    if (bytes.length > MAX_POSTER_BYTES) {
      throw badInput('PAYLOAD_TOO_LARGE', `the image is ${bytes.length} bytes; the limit is ${MAX_POSTER_BYTES}`);
    }
    let format: string | undefined;
    let pixels = 0;
    try {
      const meta = await sharp(bytes, { limitInputPixels: false }).metadata();
      format = meta.format;
      pixels = (meta.width ?? 0) * (meta.height ?? 0);
    } catch {
      throw badInput('NOT_AN_IMAGE', 'the file is not an image sharp can read');
    }
    if (!format || !MIME_EXT[format]) throw badInput('NOT_AN_IMAGE', `unsupported image format ${format ?? 'unknown'}`);
    if (pixels > MAX_POSTER_PIXELS) {
      throw badInput('IMAGE_TOO_LARGE', `the image has ${pixels} pixels; the limit is ${MAX_POSTER_PIXELS}`);
    }
    try {
      // A full (shrink-on-load) decode: headers alone do not reveal a truncated or corrupt body.
      await sharp(bytes, { failOn: 'truncated', limitInputPixels: MAX_POSTER_PIXELS }).resize(16, 16).raw().toBuffer();
    } catch (err) {
      throw badInput('IMAGE_CORRUPT', `the image is corrupt: ${(err as Error).message}`);
    }
    return `image/${format}`;
  }

  fileFor(sha256: string, mime: string): string {
    const ext = MIME_EXT[mime.replace('image/', '')] ?? 'bin';
    return path.join(this.root, sha256.slice(0, 2), `${sha256}.${ext}`);
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

  async read(sha256: string, mime: string): Promise<Buffer> {
    return fs.promises.readFile(this.fileFor(sha256, mime));
  }
}
