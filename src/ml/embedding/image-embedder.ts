/**
 * What the services need of the backbone, and all they know of it. OnnxImageEmbedder (ONNX Runtime)
 * is the real one, built on first use; services that never embed therefore never load ONNX Runtime,
 * and a service can be given another embedder (App.open's `embedder` option).
 */
import type { SkippedProvider } from '../backbone/onnx-session';
import type { ImageInput } from '../image/preprocess';
import type { PipelineItem, PipelineResult } from './embed-pipeline';

export interface ImageEmbedderInfo {
  /** Backbone manifest id (stored with every embedding). */
  backbone: string;
  dim: number;
  /** Execution provider it runs on, and those `auto` skipped with why. */
  provider: string;
  skipped: SkippedProvider[];
  /** Tensor rows one poster takes (a multi-view backbone embeds several crops). */
  cropsPerImage: number;
}

export interface ImageEmbedder {
  readonly info: ImageEmbedderInfo;
  /** The unit vector of one image; concurrent calls share runs. Rejects with the image's AppError. */
  embed(image: ImageInput): Promise<Float32Array>;
  /** Many images in large batches: one array of results per batch, in input order; a bad image is a result with its error. */
  embedBatches<K>(
    items: AsyncIterable<PipelineItem<K>> | Iterable<PipelineItem<K>>,
    opts: { batchSize?: number; total?: number },
  ): AsyncGenerator<PipelineResult<K>[]>;
  /** Answers what was admitted, then releases the model. */
  close(): Promise<void>;
}

/** Builds the embedder when it is first needed (it may fail, e.g. without weights, and be tried again). */
export type ImageEmbedderFactory = () => Promise<ImageEmbedder>;
