/**
 * Runs decoded posters through the backbone in one session.run and splits the output per poster: the
 * step the bulk pipeline, the request batcher and PosterEmbedder.embedImages share. A poster with
 * several crops (a multi-view backbone) becomes the normalised average of its crops' rows.
 */
import { l2NormalizeRows } from '../math/vectors';

/** What BatchRunner needs of an embedder (PosterEmbedder is one). */
export interface TensorEmbedder {
  readonly info: { cropsPerImage: number; dim: number };
  /** Floats of one tensor row (3 x H x W). */
  readonly rowLength: number;
  /** n x dim L2-normalised rows for the first n rows of `batch`. */
  embedTensor(batch: Float32Array, n: number): Promise<Float32Array>;
}

export class BatchRunner {
  // One input buffer, grown to the largest batch seen and reused (no allocation per run). It is shared
  // memory that the inference worker reads in place, so a run that starts while another is in flight
  // gets a buffer of its own.
  private buffer = new Float32Array(new SharedArrayBuffer(0));
  private busy = false;

  constructor(private readonly embedder: TensorEmbedder) {}

  /** `images`: each one poster as decoded (crops x 3 x H x W floats). Returns one unit vector per poster, in order. */
  async run(images: readonly Float32Array[]): Promise<Float32Array[]> {
    const { cropsPerImage: crops, dim } = this.embedder.info;
    const rowFloats = crops * this.embedder.rowLength;
    const floats = images.length * rowFloats;
    const own = this.busy;
    if (!own && this.buffer.length < floats) this.buffer = new Float32Array(new SharedArrayBuffer(floats * Float32Array.BYTES_PER_ELEMENT));
    const buffer = own ? new Float32Array(floats) : this.buffer;
    images.forEach((data, k) => buffer.set(data, k * rowFloats));
    if (!own) this.busy = true;
    let rows: Float32Array;
    try {
      rows = await this.embedder.embedTensor(buffer, images.length * crops);
    } finally {
      if (!own) this.busy = false;
    }
    const vectors = combineCrops(rows, images.length, crops, dim);
    return images.map((_, k) => vectors.slice(k * dim, (k + 1) * dim));
  }
}

/** Averages each group of `crops` consecutive unit rows into one normalised row (identity for 1). */
function combineCrops(rows: Float32Array, images: number, crops: number, dim: number): Float32Array {
  if (crops === 1) return rows;
  const out = new Float32Array(images * dim);
  for (let i = 0; i < images; i++) {
    for (let c = 0; c < crops; c++) {
      const src = (i * crops + c) * dim;
      for (let j = 0; j < dim; j++) out[i * dim + j] += rows[src + j];
    }
  }
  return l2NormalizeRows(out, images, dim);
}
