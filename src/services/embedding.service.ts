import type { MlConfig, ProgressConfig } from '../config';
import { AppError } from '../errors';
import { loadBackbone, manifestDirs, type BackboneManifest } from '../ml/backbone/manifest';
import { embedPipeline, PipelineItem } from '../ml/embedding/embed-pipeline';
import { EmbeddingBatcher } from '../ml/embedding/embedding-batcher';
import { PosterEmbedder } from '../ml/embedding/poster-embedder';
import { Progress } from '../progress';
import { EmbeddingRepository } from '../repositories/embedding.repository';
import { PosterStore } from './poster-store';

export interface EmbedRunSummary {
  embedded: number;
  failed: Array<{ movieId: number; reason: string; message: string }>;
  seconds: number;
  rate: number;
}

/**
 * Owns the backbone: bulk embedding of stored posters (`marquee embed`) and on-demand embedding
 * of new images through the coalescing batcher (GraphQL). The embedder starts lazily, since
 * plain queries never need it.
 */
export class EmbeddingService {
  private embedder?: Promise<PosterEmbedder>;
  private batcher?: EmbeddingBatcher;
  readonly backbone: string;

  constructor(
    private readonly config: MlConfig,
    private readonly progress: ProgressConfig,
    readonly repo: EmbeddingRepository,
    private readonly posters: PosterStore,
  ) {
    this.backbone = config.backbone;
  }

  /** The active backbone's manifest (built-in, MARQUEE_BACKBONES_DIR or `<models dir>/manifests`). */
  manifest(): BackboneManifest {
    return loadBackbone(this.backbone, manifestDirs(this.config.backbonesDir, this.config.modelsDir));
  }

  getEmbedder(): Promise<PosterEmbedder> {
    if (!this.embedder) {
      const create = async () => PosterEmbedder.create({
        modelsDir: this.config.modelsDir,
        backbone: this.manifest(),
        device: this.config.device,
      });
      this.embedder = create();
      this.embedder.catch(() => (this.embedder = undefined)); // a missing model can be fixed without a restart
    }
    return this.embedder;
  }

  /** Embeds one image (bytes) through the batcher: concurrent callers share session runs. */
  async embedImage(bytes: Buffer): Promise<Float32Array> {
    if (!this.batcher) this.batcher = new EmbeddingBatcher(await this.getEmbedder());
    return this.batcher.embed(bytes);
  }

  async store(movieId: number, posterSha256: string, vector: Float32Array): Promise<void> {
    await this.repo.upsertMany(this.backbone, [{ movieId, posterSha256, vector }]);
  }

  /**
   * Embeds every movie lacking an embedding for the active backbone. Each batch is committed as it
   * finishes, so a killed run resumes where it stopped; re-running when nothing is missing is a no-op.
   */
  async embedMissing(opts: { limit?: number; batchSize?: number; progress?: boolean } = {}): Promise<EmbedRunSummary> {
    const started = Date.now();
    const total = Math.min(await this.repo.countMissing(this.backbone), opts.limit ?? Infinity);
    const summary: EmbedRunSummary = { embedded: 0, failed: [], seconds: 0, rate: 0 };
    if (total === 0) return summary;
    const embedder = await this.getEmbedder();
    const progress = opts.progress === false ? undefined : new Progress('embed', total, 'posters', this.progress);
    const repo = this.repo;
    const backbone = this.backbone;
    const posters = this.posters;
    const shaOf = new Map<number, string>();
    async function* source(): AsyncGenerator<PipelineItem<number>> {
      let after = 0;
      let yielded = 0;
      while (yielded < total) {
        const page = await repo.missing(backbone, after, Math.min(1000, total - yielded));
        if (!page.length) return;
        for (const p of page) {
          shaOf.set(p.movieId, p.posterSha256);
          yield { key: p.movieId, imagePath: posters.fileFor(p.posterSha256, p.posterMime) };
        }
        yielded += page.length;
        after = page[page.length - 1].movieId;
      }
    }
    // 32 tensor rows a run: the same CPU throughput as 64 with a peak RSS of ~1.1 GB instead of ~1.6 GB
    // (docs/benchmarks.md); a backbone with several crops per poster takes fewer posters a batch.
    const batchSize = opts.batchSize ?? Math.max(1, Math.floor(32 / embedder.info.cropsPerImage));
    for await (const results of embedPipeline(embedder, source(), { batchSize, total })) {
      const ok = results.filter((r) => r.vector);
      await repo.upsertMany(backbone, ok.map((r) => ({ movieId: r.key, posterSha256: shaOf.get(r.key)!, vector: r.vector! })));
      summary.embedded += ok.length;
      for (const r of results) {
        if (r.error) summary.failed.push({ movieId: r.key, reason: r.error.reason ?? r.error.code, message: r.error.message });
        shaOf.delete(r.key);
      }
      progress?.update(summary.embedded + summary.failed.length);
    }
    progress?.done(summary.embedded + summary.failed.length);
    summary.seconds = (Date.now() - started) / 1000;
    summary.rate = summary.embedded / Math.max(summary.seconds, 1e-9);
    return summary;
  }

  /** Embeds arbitrary images (paths or bytes) in large batches, e.g. a labelled CSV for evaluation. */
  async embedItems<K>(items: Array<PipelineItem<K>>, progress?: Progress): Promise<Array<{ key: K; vector?: Float32Array; error?: AppError }>> {
    const embedder = await this.getEmbedder();
    const out: Array<{ key: K; vector?: Float32Array; error?: AppError }> = [];
    for await (const results of embedPipeline(embedder, items, { batchSize: 64, total: items.length })) {
      out.push(...results);
      progress?.update(out.length);
    }
    progress?.done(out.length);
    return out;
  }

  async info(): Promise<{ backbone: string; provider: string; skipped: Array<{ provider: string; reason: string }>; dim: number }> {
    const e = await this.getEmbedder();
    return { backbone: e.info.backbone, provider: e.info.provider, skipped: e.info.skipped, dim: e.info.dim };
  }

  async close(): Promise<void> {
    await this.batcher?.close();
    if (this.embedder) await (await this.embedder.catch(() => undefined))?.close();
  }
}

