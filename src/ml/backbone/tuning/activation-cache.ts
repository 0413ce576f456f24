/**
 * Cut-point activations of the frozen early layers, computed once per poster (as served, and
 * flipped left-right) and kept on disk so tuning epochs only run the tail. Values are stored as
 * uint8 over the Clip range the dequantized model carries for the cut tensor (the range its int8
 * original quantized that tensor to; the tail reproduces the ONNX embedding at cosine ~0.99999 from
 * them). The file is written in poster order with a small JSON sidecar holding how many posters are
 * done, so a killed run resumes where it stopped and a finished one is reused.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { AppError } from '../../../errors';
import { openCpuSession } from '../onnx-session';
import { preprocess, type ImageInput, type PreprocessSpec } from '../../image/preprocess';
import { encodeModel, withOutputs, type OnnxModel } from './onnx-graph';
import type { ActivationSource } from './tail-tuner';

export interface ActivationCacheMeta {
  /** What the cache was computed from; a mismatch starts it afresh. */
  key: string;
  posters: number;
  done: number;
  shape: [number, number, number];
  range: [number, number];
}

/** The [min, max] of the Clip that produces `tensor` (the quantization range of the int8 original). */
export function clipRangeOf(model: OnnxModel, tensor: string): [number, number] {
  const node = model.graph!.node!.find((n) => n.opType === 'Clip' && n.output?.[0] === tensor);
  if (!node) throw new AppError('INTERNAL_SERVER_ERROR', `Backbone graph: ${tensor} is not the output of a Clip`, 'BAD_BACKBONE_GRAPH');
  const value = (name: string) => {
    const t = model.graph!.initializer!.find((i) => i.name === name)!;
    const raw = t.rawData;
    return raw && raw.length ? new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + 4))[0] : t.floatData![0];
  };
  return [value(node.input![1]), value(node.input![2])];
}

/** Flips CHW planes left-right in place. */
function flipChw(x: Float32Array, width: number): void {
  for (let row = 0; row < x.length; row += width) {
    for (let a = row, b = row + width - 1; a < b; a++, b--) {
      const t = x[a];
      x[a] = x[b];
      x[b] = t;
    }
  }
}

export class ActivationCache implements ActivationSource {
  readonly views = 2;
  readonly size: number;
  private readonly lut: Float32Array;

  private constructor(
    readonly meta: ActivationCacheMeta,
    private readonly data: Uint8Array,
  ) {
    this.size = meta.shape[0] * meta.shape[1] * meta.shape[2];
    const [lo, hi] = meta.range;
    this.lut = Float32Array.from({ length: 256 }, (_, v) => lo + (v / 255) * (hi - lo));
  }

  get n(): number {
    return this.meta.posters;
  }

  get shape(): [number, number, number] {
    return this.meta.shape;
  }

  read(i: number, view: number, out: Float32Array, offset: number): void {
    const base = (i * 2 + view) * this.size;
    for (let j = 0; j < this.size; j++) out[offset + j] = this.lut[this.data[base + j]];
  }

  /**
   * Computes (or resumes, or reuses) the activations at `cut` of every poster in `images`.
   * `key` identifies the inputs (backbone, cut, poster list); `onProgress` gets posters done so far.
   */
  static async build(opts: {
    file: string;
    key: string;
    model: OnnxModel;
    cut: string;
    spec: PreprocessSpec;
    images: ImageInput[];
    threads: number;
    batch?: number;
    onProgress?: (done: number, total: number) => void;
  }): Promise<ActivationCache> {
    const { file, model, cut, spec, images } = opts;
    const metaFile = `${file}.json`;
    const range = clipRangeOf(model, cut);
    let meta: ActivationCacheMeta | undefined;
    try {
      meta = JSON.parse(await fsp.readFile(metaFile, 'utf8')) as ActivationCacheMeta;
      if (meta.key !== opts.key || meta.posters !== images.length) meta = undefined;
    } catch {
      meta = undefined;
    }
    const session = await openCpuSession(encodeModel(withOutputs(model, [cut])), opts.threads);
    try {
      await fsp.mkdir(path.dirname(file), { recursive: true });
      const plane = spec.width * spec.height;
      const inputName = session.inputNames[0];
      if (!meta) {
        // Shape from one run on a blank image (NCHW output [1, C, H, W]).
        const probe = await session.run({ [inputName]: new ort.Tensor('float32', new Float32Array(3 * plane), [1, 3, spec.height, spec.width]) }, [cut]);
        const [, C, H, W] = probe[cut].dims as number[];
        meta = { key: opts.key, posters: images.length, done: 0, shape: [H, W, C], range };
        await fsp.writeFile(file, Buffer.alloc(0));
      }
      const [H, W, C] = meta.shape;
      const size = H * W * C;
      const batch = opts.batch ?? 16;
      const fh = await fsp.open(file, 'r+');
      try {
        for (let s = meta.done; s < images.length; s += batch) {
          const part = images.slice(s, s + batch);
          const x = new Float32Array(part.length * 2 * 3 * plane);
          for (let k = 0; k < part.length; k++) {
            const { data } = await preprocess(part[k], { ...spec, strategy: 'squash' });
            x.set(data, 2 * k * 3 * plane);
            const flipped = data.slice();
            flipChw(flipped, spec.width);
            x.set(flipped, (2 * k + 1) * 3 * plane);
          }
          const out = await session.run({ [inputName]: new ort.Tensor('float32', x, [part.length * 2, 3, spec.height, spec.width]) }, [cut]);
          const a = out[cut].data as Float32Array;
          const bytes = new Uint8Array(part.length * 2 * size);
          const [lo, hi] = meta.range;
          const scale = 255 / (hi - lo);
          for (let r = 0; r < part.length * 2; r++) {
            // NCHW -> NHWC, quantized.
            for (let c = 0; c < C; c++) {
              for (let p = 0; p < H * W; p++) {
                const v = Math.round((a[(r * C + c) * H * W + p] - lo) * scale);
                bytes[r * size + p * C + c] = v < 0 ? 0 : v > 255 ? 255 : v;
              }
            }
          }
          await fh.write(bytes, 0, bytes.length, s * 2 * size);
          await fh.sync();
          meta.done = s + part.length;
          await fsp.writeFile(metaFile, JSON.stringify(meta));
          opts.onProgress?.(meta.done, images.length);
        }
      } finally {
        await fh.close();
      }
    } finally {
      await session.release();
    }
    return new ActivationCache(meta, new Uint8Array(fs.readFileSync(file)));
  }
}
