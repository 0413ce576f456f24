/**
 * Image -> backbone input tensor. Decodes with sharp under a byte and a pixel limit, rejects what is not
 * an image (NOT_AN_IMAGE), is damaged (IMAGE_CORRUPT) or too big (IMAGE_TOO_LARGE) as AppError
 * BAD_USER_INPUT, resizes with a strategy and writes normalised CHW float32 into a caller-provided
 * Float32Array at an offset (so batch buffers are allocated once).
 */
import fsp from 'node:fs/promises';
import sharp from 'sharp';
import { AppError, badInput } from '../../errors';
import type { BackboneManifest } from '../backbone/manifest';
import { MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS, POSTER_FORMATS, sniffFormat, type PosterFormat } from './formats';
import { cropsFor, DEFAULT_RESIZE_STRATEGY, RESIZE_STRATEGIES, type ResizeStrategy } from './resize-strategy';

/** Everything a decoder needs; plain data so it can be handed to worker threads. */
export interface PreprocessSpec {
  width: number;
  height: number;
  mean: [number, number, number];
  std: [number, number, number];
  strategy: ResizeStrategy;
  maxPixels: number;
  maxBytes: number;
}

export interface PreprocessOptions {
  strategy?: ResizeStrategy;
  maxPixels?: number;
  maxBytes?: number;
}

export function preprocessSpec(manifest: BackboneManifest, opts: PreprocessOptions = {}): PreprocessSpec {
  const strategy = opts.strategy ?? DEFAULT_RESIZE_STRATEGY;
  if (!RESIZE_STRATEGIES.includes(strategy)) {
    throw badInput('BAD_STRATEGY', `Unknown resize strategy "${strategy}"; use one of ${RESIZE_STRATEGIES.join(', ')}`);
  }
  return {
    width: manifest.input.width,
    height: manifest.input.height,
    mean: manifest.input.mean,
    std: manifest.input.std,
    strategy,
    maxPixels: opts.maxPixels ?? MAX_IMAGE_PIXELS,
    maxBytes: opts.maxBytes ?? MAX_IMAGE_BYTES,
  };
}

/** Floats of one crop (3 x H x W). */
export function cropLength(spec: Pick<PreprocessSpec, 'width' | 'height'>): number {
  return 3 * spec.width * spec.height;
}

export interface PreprocessResult {
  /** Rows written: 1, or 2 for 'topbottom' (at offset and offset + cropLength). */
  crops: number;
  /** Source format (from its magic bytes). */
  format: PosterFormat['name'];
}

/** An image source: bytes, or a file path (read here, after a size check). */
export type ImageInput = Buffer | Uint8Array | string;

const tooLarge = (message: string, details: Record<string, unknown>) => badInput('IMAGE_TOO_LARGE', message, details);

/** Maps a sharp/libvips failure to the stable reasons; AppErrors pass through. */
export function imageError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const msg = String((err as Error)?.message ?? err);
  const first = msg.split('\n')[0].trim();
  if (/pixel limit|exceeds? .*limit|too large/i.test(msg)) return tooLarge(`Image is too large to decode: ${first}`, {});
  if (/unsupported image format|buffer is empty|not a known file format/i.test(msg)) return badInput('NOT_AN_IMAGE', 'Not an image (unrecognised format)');
  return badInput('IMAGE_CORRUPT', `Image is corrupt or truncated: ${first}`, { cause: first });
}

async function readInput(input: ImageInput, maxBytes: number): Promise<Uint8Array> {
  if (typeof input !== 'string') {
    if (input.byteLength > maxBytes) throw tooLarge(`Image is ${input.byteLength} bytes; the limit is ${maxBytes}`, { bytes: input.byteLength, maxBytes });
    return input;
  }
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(input, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new AppError('NOT_FOUND', `Cannot read image file ${input}: ${code ?? (err as Error).message}`, 'IMAGE_UNREADABLE', { path: input });
  }
  try {
    const { size } = await fh.stat();
    if (size > maxBytes) throw tooLarge(`Image file ${input} is ${size} bytes; the limit is ${maxBytes}`, { bytes: size, maxBytes });
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}

/** Per-spec lookup tables: byte value -> normalised float, one per channel. */
const lutCache = new Map<string, Float32Array>();
function lutFor(spec: PreprocessSpec): Float32Array {
  const key = `${spec.mean.join(',')}|${spec.std.join(',')}`;
  let lut = lutCache.get(key);
  if (!lut) {
    lut = new Float32Array(3 * 256);
    for (let c = 0; c < 3; c++) for (let v = 0; v < 256; v++) lut[c * 256 + v] = (v / 255 - spec.mean[c]) / spec.std[c];
    lutCache.set(key, lut);
  }
  return lut;
}

/**
 * Writes one HWC uint8 image (W x H of the spec) as normalised CHW at `offset`.
 * `channels` may be 1 (grey), 2 (grey+alpha), 3 or 4; alpha is ignored (flattened earlier).
 */
function writeCHW(px: Uint8Array, channels: number, spec: PreprocessSpec, lut: Float32Array, out: Float32Array, offset: number): void {
  const plane = spec.width * spec.height;
  const g = channels < 3; // grey: replicate
  const c1 = g ? 0 : 1;
  const c2 = g ? 0 : 2;
  for (let o = offset, end = offset + plane, p = 0; o < end; o++, p += channels) {
    out[o] = lut[px[p]];
    out[o + plane] = lut[256 + px[p + c1]];
    out[o + 2 * plane] = lut[512 + px[p + c2]];
  }
}

/**
 * Decodes `input`, resizes it per `spec.strategy` and writes `crops` x 3 x H x W normalised floats into
 * `out` starting at `offset`. Throws AppError (BAD_USER_INPUT NOT_AN_IMAGE / IMAGE_CORRUPT /
 * IMAGE_TOO_LARGE; NOT_FOUND IMAGE_UNREADABLE for an unreadable path).
 */
export async function preprocessInto(input: ImageInput, spec: PreprocessSpec, out: Float32Array, offset = 0): Promise<PreprocessResult> {
  const crops = cropsFor(spec.strategy);
  const need = crops * cropLength(spec);
  if (offset < 0 || offset + need > out.length) throw new RangeError(`preprocessInto: ${need} floats at offset ${offset} do not fit in ${out.length}`);
  const bytes = await readInput(input, spec.maxBytes);
  const format = sniffFormat(bytes);
  if (!format) throw badInput('NOT_AN_IMAGE', `Not an image (unrecognised format); accepted: ${POSTER_FORMATS.map((f) => f.name).join(', ')}`);

  // No separate metadata() pass on the happy path (it costs ~5% of a poster's decode): sharp checks the
  // pixel limit against the header before decoding; metadata is read only to explain a rejection.
  const opts: sharp.SharpOptions = { failOn: 'warning', limitInputPixels: spec.maxPixels, autoOrient: true, pages: 1 };
  const W = spec.width;
  const H = spec.height;
  const lut = lutFor(spec);
  // 'topbottom' runs two small pipelines (top and bottom cover crops) exactly as sharp defines them.
  const topBottom: sharp.ResizeOptions[] = [
    { fit: 'cover', position: 'top' },
    { fit: 'cover', position: 'bottom' },
  ];
  const resizes: sharp.ResizeOptions[] =
    spec.strategy === 'squash'
      ? [{ fit: 'fill' }]
      : spec.strategy === 'centre'
        ? [{ fit: 'cover', position: 'centre' }]
        : spec.strategy === 'topbottom'
          ? topBottom
          : [{ fit: 'fill' }, ...topBottom];
  const outputs = await Promise.allSettled(
    resizes.map((resize) =>
      sharp(bytes, opts).flatten({ background: '#ffffff' }).resize(W, H, resize).toColourspace('srgb').raw().toBuffer({ resolveWithObject: true }),
    ),
  );
  for (const [k, o] of outputs.entries()) {
    if (o.status === 'rejected') throw await explain(o.reason, bytes, spec);
    const { data, info } = o.value;
    if (info.width !== W || info.height !== H)
      throw new AppError('INTERNAL_SERVER_ERROR', `Resize produced ${info.width}x${info.height}, expected ${W}x${H}`, 'PREPROCESS_FAILED');
    writeCHW(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), info.channels, spec, lut, out, offset + k * cropLength(spec));
  }
  return { crops, format: format.name };
}

/** The AppError for a failed decode; for the pixel limit, with the image's dimensions from its header. */
async function explain(err: unknown, bytes: Uint8Array, spec: PreprocessSpec): Promise<AppError> {
  const e = imageError(err);
  if (e.reason !== 'IMAGE_TOO_LARGE') return e;
  try {
    const m = await sharp(bytes, { limitInputPixels: false, pages: 1 }).metadata();
    const w = m.width ?? 0;
    const h = m.pageHeight ?? m.height ?? 0;
    return tooLarge(`Image is ${w}x${h} (${w * h} pixels); the limit is ${spec.maxPixels} pixels`, { width: w, height: h, maxPixels: spec.maxPixels });
  } catch {
    return e;
  }
}

/** Convenience: decode into a fresh Float32Array of exactly crops x 3 x H x W. */
export async function preprocess(input: ImageInput, spec: PreprocessSpec): Promise<{ data: Float32Array } & PreprocessResult> {
  const data = new Float32Array(cropsFor(spec.strategy) * cropLength(spec));
  const r = await preprocessInto(input, spec, data, 0);
  return { data, ...r };
}
