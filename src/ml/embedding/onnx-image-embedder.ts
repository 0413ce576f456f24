import { embedPipeline, type PipelineItem, type PipelineResult } from './embed-pipeline';
import { EmbeddingBatcher } from './embedding-batcher';
import type { ImageEmbedder, ImageEmbedderInfo } from './image-embedder';
import { PosterEmbedder, type PosterEmbedderOptions } from './poster-embedder';
import type { ImageInput } from '../image/preprocess';

/** The ImageEmbedder on ONNX Runtime: single images through the coalescing batcher, bulk through the pipeline. */
export class OnnxImageEmbedder implements ImageEmbedder {
  readonly info: ImageEmbedderInfo;
  private readonly batcher: EmbeddingBatcher;

  private constructor(private readonly embedder: PosterEmbedder) {
    const { backbone, dim, provider, skipped, cropsPerImage } = embedder.info;
    this.info = { backbone, dim, provider, skipped, cropsPerImage };
    this.batcher = new EmbeddingBatcher(embedder);
  }

  static async create(opts: PosterEmbedderOptions): Promise<OnnxImageEmbedder> {
    return new OnnxImageEmbedder(await PosterEmbedder.create(opts));
  }

  embed(image: ImageInput): Promise<Float32Array> {
    return this.batcher.embed(image);
  }

  embedBatches<K>(
    items: AsyncIterable<PipelineItem<K>> | Iterable<PipelineItem<K>>,
    opts: { batchSize?: number; total?: number },
  ): AsyncGenerator<PipelineResult<K>[]> {
    return embedPipeline(this.embedder, items, opts);
  }

  async close(): Promise<void> {
    await this.batcher.close();
    await this.embedder.close();
  }
}
