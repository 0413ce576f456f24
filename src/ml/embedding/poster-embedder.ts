/**
 * The poster embedder: an ONNX Runtime session over a verified backbone, picking an execution provider
 * (`auto` tries cuda, then webgpu, then cpu and logs one line saying which it got and why it skipped the
 * others), plus a decode pool. Returns L2-normalised embeddings. Knows nothing of databases or GraphQL.
 *
 * Note: onnxruntime-node 1.30 runs `session.run` synchronously on the main thread (the promise resolves
 * after the whole batch); keep batches moderate where the event loop also serves requests.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { AppError } from '../../errors';
import { AUTO_PROVIDER_ORDER, DEVICES, type Device, type Provider } from '../backbone/device';
import { loadBackbone, type BackboneManifest } from '../backbone/manifest';
import { resolveWeights } from '../backbone/model-store';
import { DecodePool } from '../image/decode-pool';
import { cropLength, preprocessSpec, type ImageInput, type PreprocessSpec } from '../image/preprocess';
import { cropsFor, type ResizeStrategy } from '../image/resize-strategy';

export interface SkippedProvider {
  provider: Provider;
  reason: string;
}

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
  /** Backbone id (default mobilenetv2-fp32) or a manifest object. */
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

/** L2-normalises `rows` rows of `dim` floats in place (zero rows stay zero). */
export function l2NormalizeRows(a: Float32Array, rows: number, dim: number): Float32Array {
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    let s = 0;
    for (let j = 0; j < dim; j++) s += a[o + j] * a[o + j];
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let j = 0; j < dim; j++) a[o + j] *= inv;
  }
  return a;
}

/** Averages each group of `crops` consecutive unit rows into one normalised row (identity for 1). */
export function combineCrops(rows: Float32Array, images: number, crops: number, dim: number): Float32Array {
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

const firstLine = (err: unknown) =>
  String((err as Error)?.message ?? err)
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    // ORT prefixes "<source path>:<line> <function>::<lambda()> <condition> was false. <message>"
    .map((l) => l.replace(/^\/onnxruntime_src\/\S+\s+/, '').replace(/^.*\swas false\.\s+/, ''))[0] ?? 'unknown error';

/** Whether the installed onnxruntime-node ships the CUDA provider library (probing without it only logs noise). */
function cudaLibraryPresent(): boolean | undefined {
  try {
    const root = path.dirname(require.resolve('onnxruntime-node/package.json'));
    const binDir = path.join(root, 'bin');
    for (const napi of fs.readdirSync(binDir)) {
      const dir = path.join(binDir, napi, process.platform, process.arch);
      if (fs.existsSync(dir)) return fs.readdirSync(dir).some((f) => /onnxruntime_providers_cuda\.(so|dll)/.test(f));
    }
    return false;
  } catch {
    return undefined; // unknown layout: just try
  }
}

/** Default for PosterEmbedderOptions.spinning (see bench/embedding.ts). */
export const DEFAULT_SPINNING = true;

function sessionOptions(provider: Provider, threads: number, spinning: boolean): ort.InferenceSession.SessionOptions {
  const ep: ort.InferenceSession.ExecutionProviderConfig =
    provider === 'cuda' ? { name: 'cuda', deviceId: 0 } : provider === 'webgpu' ? { name: 'webgpu' } : { name: 'cpu' };
  return {
    executionProviders: [ep],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    logSeverityLevel: 3,
    extra: { session: { intra_op: { allow_spinning: spinning ? '1' : '0' } } },
  };
}

export class PosterEmbedder {
  readonly info: EmbedderInfo;
  readonly manifest: BackboneManifest;
  readonly spec: PreprocessSpec;
  private runs = 0;
  private decodePool?: DecodePool;
  private closed = false;

  private constructor(
    private readonly session: ort.InferenceSession,
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
   * Verifies the weights, starts a session on the requested device and checks the model's inputs and
   * outputs against the manifest. An explicit device that fails to start is AppError SERVICE_UNAVAILABLE
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

    const candidates: readonly Provider[] = device === 'auto' ? AUTO_PROVIDER_ORDER : [device];
    const skipped: SkippedProvider[] = [];
    let session: ort.InferenceSession | undefined;
    let provider: Provider | undefined;
    for (const p of candidates) {
      if (p === 'cuda' && cudaLibraryPresent() === false) {
        const reason = 'onnxruntime-node has no CUDA provider library installed (libonnxruntime_providers_cuda missing)';
        if (device === 'cuda') throw providerError(p, reason);
        skipped.push({ provider: p, reason });
        continue;
      }
      try {
        const s = await ort.InferenceSession.create(weights.path, sessionOptions(p, threads, opts.spinning ?? DEFAULT_SPINNING));
        try {
          checkModel(s, manifest);
          // One tiny run proves the provider works end to end (a GPU can list but fail at first run).
          await s.run({ [manifest.input.name]: new ort.Tensor('float32', new Float32Array(cropLength(spec)), [1, 3, spec.height, spec.width]) }, [manifest.embedding.name]);
        } catch (err) {
          await s.release().catch(() => undefined);
          throw err;
        }
        session = s;
        provider = p;
        break;
      } catch (err) {
        if (err instanceof AppError) throw err; // model/manifest mismatch: no provider will fix it
        if (device !== 'auto') throw providerError(p, firstLine(err));
        skipped.push({ provider: p, reason: firstLine(err) });
      }
    }
    if (!session || !provider) {
      throw new AppError('SERVICE_UNAVAILABLE', `No execution provider could start: ${skipped.map((s) => `${s.provider}: ${s.reason}`).join('; ')}`, 'PROVIDER_UNAVAILABLE', { skipped });
    }
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
    return new PosterEmbedder(session, manifest, info, spec, opts.decodeWorkers);
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
   * Runs the backbone on the first `n` rows of `batch` (n x 3 x H x W normalised floats; the array may be
   * longer, e.g. a pre-allocated batch buffer) and returns n x dim L2-normalised rows (one row per crop:
   * use combineCrops for 'topbottom').
   */
  async embedTensor(batch: Float32Array, n: number): Promise<Float32Array> {
    if (this.closed) throw new AppError('SERVICE_UNAVAILABLE', 'Embedder is closed', 'SHUTTING_DOWN');
    const row = this.rowLength;
    if (!Number.isInteger(n) || n <= 0 || n * row > batch.length) throw new RangeError(`embedTensor: ${n} rows do not fit in ${batch.length} floats`);
    const data = batch.length === n * row ? batch : batch.subarray(0, n * row);
    const input = new ort.Tensor('float32', data, [n, 3, this.spec.height, this.spec.width]);
    this.runs++;
    let out: ort.InferenceSession.ReturnType;
    try {
      out = await this.session.run({ [this.manifest.input.name]: input }, [this.manifest.embedding.name]);
    } catch (err) {
      throw new AppError('SERVICE_UNAVAILABLE', `Inference failed on ${this.info.provider}: ${firstLine(err)}`, 'INFERENCE_FAILED', { provider: this.info.provider });
    }
    const t = out[this.manifest.embedding.name];
    const dim = this.info.dim;
    if (!(t.data instanceof Float32Array) || t.data.length !== n * dim) {
      throw new AppError('INTERNAL_SERVER_ERROR', `Backbone output ${this.manifest.embedding.name} has ${t.data.length} values, expected ${n}x${dim}`, 'MODEL_MISMATCH');
    }
    return l2NormalizeRows(t.data, n, dim);
  }

  /**
   * Decodes (in the pool) and embeds a few images in one run. Per-item failures are returned as
   * { error } (the image's AppError), never thrown; an inference failure is thrown.
   */
  async embedImages(images: ImageInput[]): Promise<EmbedImageResult[]> {
    const decoded = await Promise.allSettled(images.map((img) => this.pool.decode(img)));
    const ok = decoded.flatMap((d, i) => (d.status === 'fulfilled' ? [{ i, d: d.value }] : []));
    const results: EmbedImageResult[] = decoded.map((d) =>
      d.status === 'rejected' ? { error: d.reason instanceof AppError ? d.reason : new AppError('INTERNAL_SERVER_ERROR', String(d.reason), 'DECODE_FAILED') } : (undefined as never),
    );
    if (ok.length === 0) return results;
    const crops = this.info.cropsPerImage;
    const row = this.rowLength;
    const batch = new Float32Array(ok.length * crops * row);
    ok.forEach(({ d }, k) => batch.set(d.data, k * crops * row));
    const vecs = combineCrops(await this.embedTensor(batch, ok.length * crops), ok.length, crops, this.info.dim);
    const dim = this.info.dim;
    ok.forEach(({ i }, k) => (results[i] = { vector: vecs.slice(k * dim, (k + 1) * dim) }));
    return results;
  }

  /** Stops the decode pool and releases the session. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.decodePool?.close();
    await this.session.release();
  }
}

function providerError(provider: Provider, cause: string): AppError {
  return new AppError(
    'SERVICE_UNAVAILABLE',
    `The ${provider} execution provider failed to start (MARQUEE_DEVICE=${provider}): ${cause}. Use MARQUEE_DEVICE=auto to fall back to cpu.`,
    'PROVIDER_UNAVAILABLE',
    { provider, cause },
  );
}

function checkModel(s: ort.InferenceSession, m: BackboneManifest): void {
  const bad = (what: string) => new AppError('INTERNAL_SERVER_ERROR', `Backbone "${m.id}" does not match its manifest: ${what}`, 'MODEL_MISMATCH');
  if (!s.inputNames.includes(m.input.name)) throw bad(`no input "${m.input.name}" (model has ${s.inputNames.join(', ')})`);
  if (!s.outputNames.includes(m.embedding.name)) throw bad(`no output "${m.embedding.name}" (model has ${s.outputNames.join(', ')})`);
  const inMeta = s.inputMetadata.find((x) => x.name === m.input.name);
  if (inMeta?.isTensor) {
    const [, c, h, w] = inMeta.shape;
    if (inMeta.shape.length !== 4 || (typeof c === 'number' && c !== 3) || (typeof h === 'number' && h !== m.input.height) || (typeof w === 'number' && w !== m.input.width)) {
      throw bad(`input shape [${inMeta.shape.join(',')}] is not [N,3,${m.input.height},${m.input.width}]`);
    }
  }
  const outMeta = s.outputMetadata.find((x) => x.name === m.embedding.name);
  if (outMeta?.isTensor) {
    const d = outMeta.shape[outMeta.shape.length - 1];
    if (typeof d === 'number' && d !== m.embedding.dim) throw bad(`output dim ${d} is not ${m.embedding.dim}`);
  }
}
