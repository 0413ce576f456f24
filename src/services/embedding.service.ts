import type { ProgressConfig } from '../config';
import type { PipelineItem, PipelineResult } from '../ml/embedding/embed-pipeline';
import type { ImageEmbedder, ImageEmbedderFactory, ImageEmbedderInfo } from '../ml/embedding/image-embedder';
import { Progress } from '../progress';
import type { EmbeddingRepository } from '../repositories/embedding.repository';
import type { ChangeFeed } from './change-feed';
import type { PosterStore } from './poster-store';

export interface EmbedRunSummary {
  embedded: number;
  failed: Array<{ movieId: number; reason: string; message: string }>;
  seconds: number;
  rate: number;
}

/**
 * Owns the backbone: bulk embedding of stored posters (`marquee embed`) and on-demand embedding
 * of new images (GraphQL, coalesced with concurrent requests). The embedder starts lazily, since
 * plain queries never need it.
 */
export class EmbeddingService {
  private embedder?: Promise<ImageEmbedder>;

  /** `backbone`: Config ml.backbone, the manifest id the embedder must run (embeddings are stored per id). */
  constructor(
    readonly backbone: string,
    private readonly createEmbedder: ImageEmbedderFactory,
    private readonly progress: ProgressConfig,
    private readonly repo: EmbeddingRepository,
    private readonly posters: PosterStore,
    private readonly changes: ChangeFeed,
  ) {}

  private getEmbedder(): Promise<ImageEmbedder> {
    if (!this.embedder) {
      this.embedder = this.createEmbedder();
      this.embedder.catch(() => (this.embedder = undefined)); // a missing model can be fixed without a restart
    }
    return this.embedder;
  }

  /** Embeds one image (bytes); concurrent callers share session runs. */
  async embedImage(bytes: Buffer): Promise<Float32Array> {
    return (await this.getEmbedder()).embed(bytes);
  }

  /**
   * A line for the server's start when the configured backbone has no embeddings but another one does
   * (a deployment upgraded across a change of the default backbone, or started with another
   * MARQUEE_BACKBONE): look-alikes and predictions need this backbone's embeddings and a model trained
   * on them. Undefined when there is nothing to say.
   */
  async otherBackboneNotice(): Promise<string | undefined> {
    const [top] = await this.repo.othersWhenMissing(this.backbone);
    if (!top) return undefined;
    return (
      `no poster embeddings for backbone ${this.backbone} yet, but ${top.n} for ${top.backbone}: ` +
      `run \`npx marquee embed && npx marquee train --activate\` for ${this.backbone}, or keep the stored ones with MARQUEE_BACKBONE=${top.backbone}`
    );
  }

  async store(movieId: number, posterSha256: string, vector: Float32Array): Promise<void> {
    await this.repo.upsertMany(this.backbone, [{ movieId, posterSha256, vector }]);
    await this.changes.publish({ kind: 'embeddings', backbone: this.backbone, ids: [movieId] });
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
    for await (const results of embedder.embedBatches(source(), { batchSize, total })) {
      const ok = results.filter((r) => r.vector);
      await repo.upsertMany(
        backbone,
        ok.map((r) => ({ movieId: r.key, posterSha256: shaOf.get(r.key)!, vector: r.vector! })),
      );
      await this.changes.publish({ kind: 'embeddings', backbone, ids: ok.map((r) => r.key) });
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
  async embedItems<K>(items: Array<PipelineItem<K>>, progress?: Progress): Promise<Array<PipelineResult<K>>> {
    const embedder = await this.getEmbedder();
    const out: Array<PipelineResult<K>> = [];
    for await (const results of embedder.embedBatches(items, { batchSize: 64, total: items.length })) {
      out.push(...results);
      progress?.update(out.length);
    }
    progress?.done(out.length);
    return out;
  }

  /** The running embedder's backbone and execution provider (starting it if it is not running). */
  async info(): Promise<ImageEmbedderInfo> {
    return (await this.getEmbedder()).info;
  }

  async close(): Promise<void> {
    if (this.embedder) await (await this.embedder.catch(() => undefined))?.close();
  }
}
