/**
 * Which images are accepted, everywhere (import, addMovie, queries, the decoder): one list of poster
 * formats and one set of size limits. A format is recognised by its magic bytes (cheap, and it keeps
 * SVG, PDF, TIFF and the other loaders libvips has away from user input), then decoded by sharp.
 */

export interface PosterFormat {
  /** Name in errors and reports. */
  name: 'jpeg' | 'png' | 'webp' | 'gif' | 'avif';
  mime: string;
  /** File extension of a stored poster (and of its public URL). */
  ext: string;
}

export const POSTER_FORMATS: readonly PosterFormat[] = [
  { name: 'jpeg', mime: 'image/jpeg', ext: 'jpg' },
  { name: 'png', mime: 'image/png', ext: 'png' },
  { name: 'webp', mime: 'image/webp', ext: 'webp' },
  { name: 'gif', mime: 'image/gif', ext: 'gif' },
  // HEIF-family files are sniffed here too; sharp's bundled libheif decodes AV1 only, so a HEVC one fails its decode.
  { name: 'avif', mime: 'image/avif', ext: 'avif' },
];

/** Largest image accepted, in bytes (uploads, fetched URLs, files). */
export const MAX_IMAGE_BYTES = 10 * 1024 * 1024;
/** Largest image accepted, in pixels, refused from its header before decoding (decompression bombs). */
export const MAX_IMAGE_PIXELS = 40_000_000;
/** Longest base64 text of an image of MAX_IMAGE_BYTES. */
export const MAX_IMAGE_BASE64_LENGTH = Math.ceil((MAX_IMAGE_BYTES * 4) / 3) + 4;

const byName = (name: PosterFormat['name']) => POSTER_FORMATS.find((f) => f.name === name);

/** The accepted format of these bytes, from their magic bytes; undefined for anything else. */
export function sniffFormat(b: Uint8Array): PosterFormat | undefined {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return byName('jpeg');
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 && b[4] === 0x0d && b[5] === 0x0a) return byName('png');
  if (b.length >= 6 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x38) return byName('gif');
  if (b.length >= 12 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 12) === 'WEBP') return byName('webp');
  if (b.length >= 12 && ascii(b, 4, 8) === 'ftyp' && /^(avif|avis|heic|heix|hevc|mif1|msf1)$/.test(ascii(b, 8, 12))) return byName('avif');
  return undefined;
}
/** A known image format that is not accepted (named in the error), from its magic bytes. */
export function sniffRefusedFormat(b: Uint8Array): string | undefined {
  if (b.length >= 4 && ((b[0] === 0x49 && b[1] === 0x49 && b[2] === 0x2a && b[3] === 0) || (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && b[3] === 0x2a)))
    return 'TIFF';
  if (b.length >= 2 && b[0] === 0x42 && b[1] === 0x4d) return 'BMP';
  if (b.length >= 4 && ascii(b, 0, 4) === '%PDF') return 'PDF';
  if (b.length >= 5 && /^\s*<(\?xml|svg)/i.test(ascii(b, 0, Math.min(b.length, 64)))) return 'SVG';
  return undefined;
}
const ascii = (b: Uint8Array, from: number, to: number) => String.fromCharCode(...b.subarray(from, to));

export function formatOfMime(mime: string): PosterFormat | undefined {
  return POSTER_FORMATS.find((f) => f.mime === mime);
}

export function formatOfExt(ext: string): PosterFormat | undefined {
  return POSTER_FORMATS.find((f) => f.ext === ext);
}
