/**
 * The poster embedder: an ONNX Runtime session over a verified backbone (backbone/onnx-session picks
 * the execution provider and logs one line saying which it got), plus a decode pool. Returns
 * L2-normalised embeddings. Knows nothing of databases or GraphQL.
 *
 * onnxruntime-node runs `session.run` synchronously on the calling thread, so the session lives in a
 * worker thread (InferenceThread): decoding and inference both stay off the event loop.
 */
import os from 'node:os';
import { AppError, asAppError } from '../../errors';
import { DEVICES, type Device, type Provider } from '../backbone/device';
import { loadBackbone, type BackboneManifest } from '../backbone/manifest';
import { resolveWeights } from '../backbone/model-store';
import { DEFAULT_SPINNING, type SkippedProvider } from '../backbone/onnx-session';
import { DecodePool } from '../image/decode-pool';
import { cropLength, preprocessSpec, type ImageInput, type PreprocessSpec } from '../image/preprocess';
import { cropsFor, type ResizeStrategy } from '../image/resize-strategy';
import { BatchRunner } from './batch-runner';
import { InferenceThread } from './inference-thread';

export interface EmbedderInfo {
  backbone: string;
  dim: number;
  provider: Provider;
  /** Providers `auto` tried (or ruled out) before `provider`, with why. Empty for an explicit device. */
  skipped: SkippedProvider[];
  device: Device;
  threads: number;
  strategy: ResizeStrategy;
  /** Tensor rows per image (2 for 'topbottom'). */
  cropsPerImage: number;
  inputSize: { width: number; height: number };
  modelPath: string;
  sha256: string;
}

export interface PosterEmbedderOptions {
  /** MARQUEE_MODELS_DIR: where backbone weights live. */
  modelsDir: string;
  /** Backbone id (default DEFAULT_BACKBONE, the squash-only base) or a manifest object. */
  backbone?: string | BackboneManifest;
  device?: Device;
  /** Intra-op threads for the CPU provider; default: the number of cores. */
  threads?: number;
  /**
   * Whether ORT's intra-op threads spin while waiting for work (ORT's default). Spinning burns cycles
   * the decode workers could use when both share a few cores; default: DEFAULT_SPINNING.
   */
  spinning?: boolean;
  /** Resize strategy; default DEFAULT_RESIZE_STRATEGY from image/resize-strategy.ts. */
  strategy?: ResizeStrategy;
  /** Decode worker threads; default: the number of cores. The pool starts on first use. */
  decodeWorkers?: number;
  maxInputPixels?: number;
  maxInputBytes?: number;
  /** Receives the one line saying which provider was chosen. Default: stderr. */
  logger?: (line: string) => void;
}

export type EmbedImageResult = { vector: Float32Array; error?: undefined } | { vector?: undefined; error: AppError };

export class PosterEmbedder {
  readonly info: EmbedderInfo;
  readonly manifest: BackboneManifest;
  readonly spec: PreprocessSpec;
  private runs = 0;
  private decodePool?: DecodePool;
  private closed = false;

  private constructor(
    private readonly inference: InferenceThread,
    manifest: BackboneManifest,
    info: EmbedderInfo,
    spec: PreprocessSpec,
    private readonly decodeWorkers?: number,
  ) {
    this.manifest = manifest;
    this.info = info;
    this.spec = spec;
  }

  /**
   * Verifies the weights, starts a session (in its worker thread) on the requested device and checks the
   * model's inputs and outputs against the manifest. An explicit device that fails to start is AppError SERVICE_UNAVAILABLE
   * (reason PROVIDER_UNAVAILABLE) naming the provider and the cause; `auto` falls back to cpu.
   */
  static async create(opts: PosterEmbedderOptions): Promise<PosterEmbedder> {
    const manifest = typeof opts.backbone === 'object' ? opts.backbone : loadBackbone(opts.backbone);
    const spec = preprocessSpec(manifest, { strategy: opts.strategy ?? manifest.preprocess, maxPixels: opts.maxInputPixels, maxBytes: opts.maxInputBytes });
    const weights = await resolveWeights(manifest, opts.modelsDir);
    const device = opts.device ?? 'auto';
    if (!DEVICES.includes(device)) {
      throw new AppError('BAD_USER_INPUT', `Unknown device "${device}"; use auto, cpu, webgpu or cuda`, 'BAD_DEVICE');
    }
    const threads = Math.max(1, Math.floor(opts.threads ?? os.availableParallelism()));
    const log = opts.logger ?? ((line: string) => process.stderr.write(line + '\n'));
    const { thread, provider, skipped } = await InferenceThread.open(manifest, weights.path, { device, threads, spinning: opts.spinning ?? DEFAULT_SPINNING });
    const info: EmbedderInfo = {
      backbone: manifest.id,
      dim: manifest.embedding.dim,
      provider,
      skipped,
      device,
      threads,
      strategy: spec.strategy,
      cropsPerImage: cropsFor(spec.strategy),
      inputSize: { width: spec.width, height: spec.height },
      modelPath: weights.path,
      sha256: weights.sha256,
    };
    log(
      `[ml] backbone ${manifest.id} (${info.dim}-d) on ${provider}` +
        (provider === 'cpu' ? ` (${threads} threads)` : '') +
        (device === 'auto' ? ` [device=auto]` : ` [device=${device}]`) +
        (skipped.length ? `; skipped ${skipped.map((s) => `${s.provider}: ${s.reason}`).join('; ')}` : ''),
    );
    return new PosterEmbedder(thread, manifest, info, spec, opts.decodeWorkers);
  }

  /** session.run calls since create (the warm-up run is not counted). */
  get runCount(): number {
    return this.runs;
  }

  /** Floats of one tensor row (3 x H x W). */
  get rowLength(): number {
    return cropLength(this.spec);
  }

  /** The decode pool (started on first use). */
  get pool(): DecodePool {
    if (this.closed) throw new AppError('SERVICE_UNAVAILABLE', 'Embedder is closed', 'SHUTTING_DOWN');
    if (!this.decodePool) this.decodePool = new DecodePool({ spec: this.spec, size: this.decodeWorkers });
    return this.decodePool;
  }

  /**
   * Runs the backbone (in its worker thread) on the first `n` rows of `batch` (n x 3 x H x W normalised
   * floats; the array may be longer, e.g. a pre-allocated batch buffer) and returns n x dim L2-normalised
   * rows (one row per crop: BatchRunner combines a poster's crops). A `batch` on a SharedArrayBuffer is
   * read in place (do not write it until this settles); any other is copied, and stays the caller's.
   */
  async embedTensor(batch: Float32Array, n: number): Promise<Float32Array> {
    if (this.closed) throw new AppError('SERVICE_UNAVAILABLE', 'Embedder is closed', 'SHUTTING_DOWN');
    const row = this.rowLength;
    if (!Number.isInteger(n) || n <= 0 || n * row > batch.length) throw new RangeError(`embedTensor: ${n} rows do not fit in ${batch.length} floats`);
    const rows = batch.buffer instanceof SharedArrayBuffer ? batch.subarray(0, n * row) : batch.slice(0, n * row);
    this.runs++;
    return this.inference.run(rows, n);
  }

  /**
   * Decodes (in the pool) and embeds a few images in one run. Per-item failures are returned as
   * { error } (the image's AppError), never thrown; an inference failure is thrown.
   */
  async embedImages(images: ImageInput[]): Promise<EmbedImageResult[]> {
    const decoded = await Promise.allSettled(images.map((img) => this.pool.decode(img)));
    const ok = decoded.flatMap((d, i) => (d.status === 'fulfilled' ? [{ i, data: d.value.data }] : []));
    const results: EmbedImageResult[] = decoded.map((d) =>
      d.status === 'rejected' ? { error: asAppError(d.reason, 'DECODE_FAILED', 'Decoding failed') } : (undefined as never),
    );
    if (ok.length === 0) return results;
    const vectors = await new BatchRunner(this).run(ok.map((o) => o.data));
    ok.forEach(({ i }, k) => (results[i] = { vector: vectors[k] }));
    return results;
  }

  /** Stops the decode pool and the inference worker (its session with it). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.decodePool?.close();
    await this.inference.close();
  }
}
