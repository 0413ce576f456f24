import crypto from 'node:crypto';
import type { NetConfig } from '../config';
import { parseMovieId } from '../domain/ids';
import { badInput } from '../errors';
import { MAX_IMAGE_BASE64_LENGTH, MAX_IMAGE_BYTES } from '../ml/image/formats';
import { fetchImage } from '../net/safe-fetch';
import { EmbeddingService } from './embedding.service';
import { SimilarityService } from './similarity.service';

export interface PosterSpec {
  movieId?: string | null;
  imageBase64?: string | null;
  imageUrl?: string | null;
}

export interface ResolvedPoster {
  vector: Float32Array;
  /** The movie this poster belongs to, when known: never returned as its own look-alike. */
  movieId?: number;
  /** The image, when it was given as bytes or a URL (OCR reads it when a model needs its text). */
  bytes?: Buffer;
}

/** Turns a PosterInput (exactly one of a movie id, base64 bytes or a URL) into an embedding. */
export class PosterQueryService {
  constructor(
    private readonly embedding: EmbeddingService,
    private readonly similarity: SimilarityService,
    private readonly net: NetConfig,
  ) {}

  async resolve(spec: PosterSpec): Promise<ResolvedPoster> {
    const given = [spec.movieId, spec.imageBase64, spec.imageUrl].filter((v) => v != null);
    if (given.length !== 1) throw badInput('POSTER_INPUT', 'give exactly one of movieId, imageBase64 and imageUrl');
    if (spec.movieId != null) {
      const id = parseMovieId(spec.movieId);
      return { vector: await this.similarity.vectorOf(id), movieId: id };
    }
    const bytes = await readImageBytes(spec.imageBase64, spec.imageUrl, this.net.allowPrivateUrls);
    const vector = await this.embedding.embedImage(bytes);
    // An uploaded copy of a stored poster is that movie: exclude it from its own look-alikes.
    const sha = crypto.createHash('sha256').update(bytes).digest('hex');
    return { vector, movieId: await this.similarity.movieIdForPoster(sha), bytes };
  }
}

/** The bytes of an image given as base64 or as an http(s) URL (exactly one is expected non-null). */
export async function readImageBytes(base64: string | null | undefined, url: string | null | undefined, allowPrivateUrls: boolean): Promise<Buffer> {
  if (base64 != null) return decodeBase64(base64);
  if (url!.length > 2048) throw badInput('URL_TOO_LONG', 'the image URL is longer than 2048 characters');
  return (await fetchImage(url!, { allowPrivate: allowPrivateUrls, maxBytes: MAX_IMAGE_BYTES })).bytes;
}

function decodeBase64(s: string): Buffer {
  const body = s.replace(/^data:[^;,]+;base64,/, '');
  if (body.length > MAX_IMAGE_BASE64_LENGTH) {
    throw badInput('PAYLOAD_TOO_LARGE', `the image is over ${MAX_IMAGE_BYTES} bytes`);
  }
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(body.replace(/\s+/g, ''))) throw badInput('BAD_BASE64', 'imageBase64 is not valid base64');
  const buf = Buffer.from(body, 'base64');
  if (buf.length === 0) throw badInput('IMAGE_EMPTY', 'the image is empty');
  return buf;
}
