import os from 'node:os';
import type { MlConfig, ProgressConfig, StorageConfig } from '../config';
import { AppError } from '../errors';
import { BACKBONE_ID, type BackboneManifest } from '../ml/backbone/manifest';
import type { TailTuningOptions } from '../ml/backbone/tuning/tail-tuner';
import type { TunedBackboneManifest } from '../ml/backbone/tuning/tune-backbone';
import { multiHot, NUM_LABELS } from '../ml/genre/labels';
import { eraSplit, ERA_TEST_BEFORE } from '../ml/genre/training/era-split';
import { iterativeStratifiedSplit } from '../ml/genre/training/split';
import { SPLIT_FRACTIONS } from '../ml/genre/training/trainer';
import { preprocessSpec } from '../ml/image/preprocess';
import { Progress } from '../progress';
import type { EmbeddingRepository } from '../repositories/embedding.repository';
import type { MovieRepository } from '../repositories/movie.repository';
import type { EvaluationSplit } from './genre-model.service';
import type { PosterStore } from './poster-store';

/**
 * `marquee tune-backbone`: adapts the active backbone to posters on the CPU (ml/backbone/tuning) on
 * the training and validation posters of one split, the same rows the trainer splits: the posters
 * embedded for the base backbone, in id order, split by the same seeded algorithm. The new backbone's
 * weights and manifest land in the models directory.
 */
export class BackboneTuningService {
  constructor(
    private readonly ml: MlConfig,
    private readonly storage: StorageConfig,
    private readonly progress: ProgressConfig,
    private readonly embeddings: EmbeddingRepository,
    private readonly movies: MovieRepository,
    private readonly posters: PosterStore,
    /** The configured backbone's manifest (the one tuned from). */
    private readonly manifest: () => BackboneManifest,
  ) {}

  /** `tuning`: overrides of DEFAULT_TAIL_TUNING (an undefined field keeps the default). */
  async tune(opts: {
    split: EvaluationSplit;
    id?: string;
    seed?: number;
    progress?: boolean;
    tuning?: { [K in keyof TailTuningOptions]?: TailTuningOptions[K] | undefined };
  }): Promise<TunedBackboneManifest> {
    const base = this.manifest();
    const seed = opts.seed ?? 42;
    const splitName = opts.split === 'era' ? `era-${ERA_TEST_BEFORE}-${seed}` : `random-${seed}`;
    const id = opts.id ?? `${base.id}-poster-${opts.split}`;
    if (!BACKBONE_ID.test(id) || id === base.id) throw new AppError('BAD_USER_INPUT', `"${id}" is not a new backbone id`, 'BAD_BACKBONE_ID');
    const rows = await this.embeddings.embeddedPosters(base.id);
    if (rows.length === 0) throw new AppError('BAD_USER_INPUT', `no embeddings for backbone ${base.id}: run \`marquee embed\` first`, 'NO_EMBEDDINGS');
    const labelsOf = await this.movies.labelsById();
    const yearOf = await this.movies.yearsById();
    const n = rows.length;
    const Y = new Uint8Array(n * NUM_LABELS);
    rows.forEach((r, i) => Y.set(multiHot(labelsOf.get(r.movieId) ?? []), i * NUM_LABELS));
    const parts =
      opts.split === 'era'
        ? eraSplit(
            Int32Array.from(rows, (r) => yearOf.get(r.movieId) ?? 0),
            Y,
            NUM_LABELS,
            seed,
          )
        : (([train, val, test]) => ({ train, val, test }))(iterativeStratifiedSplit(Y, n, NUM_LABELS, [...SPLIT_FRACTIONS], seed));
    // Only the training and validation posters are read: the test posters stay unseen.
    const used = Int32Array.from([...parts.train, ...parts.val]).sort();
    const pos = new Map(Array.from(used, (row, k) => [row, k]));
    const Yused = new Uint8Array(used.length * NUM_LABELS);
    used.forEach((row, k) => Yused.set(Y.subarray(row * NUM_LABELS, (row + 1) * NUM_LABELS), k * NUM_LABELS));
    const bars = new Map<string, Progress>();
    const bar = (stage: string, total: number) => {
      if (opts.progress === false) return undefined;
      if (!bars.has(stage)) bars.set(stage, new Progress(`tune-backbone ${stage}`, total, stage === 'cache' ? 'posters' : 'epochs', this.progress));
      return bars.get(stage);
    };
    // Loaded here: tuning pulls in ONNX Runtime and TF.js, which nothing else at start needs.
    const { tuneBackbone } = await import('../ml/backbone/tuning/tune-backbone.js');
    return tuneBackbone({
      tf: await (await import('../ml/genre/training/tf.js')).loadTf(),
      base,
      modelsDir: this.ml.modelsDir,
      id,
      cacheDir: this.storage.dataDir,
      spec: preprocessSpec(base, { strategy: 'squash' }),
      images: Array.from(used, (row) => this.posters.fileFor(rows[row].posterSha256, rows[row].posterMime)),
      Y: Yused,
      split: { train: Int32Array.from(parts.train, (r) => pos.get(r)!), val: Int32Array.from(parts.val, (r) => pos.get(r)!), name: splitName },
      threads: os.availableParallelism(),
      tuning: { ...Object.fromEntries(Object.entries(opts.tuning ?? {}).filter(([, v]) => v !== undefined)), seed },
      onProgress: (stage, done, total, epoch) => {
        bar(stage, total)?.update(done);
        if (epoch)
          process.stderr.write(
            `tune-backbone epoch ${epoch.epoch}: loss ${epoch.loss.toFixed(4)}, validation macro F1 ${epoch.valF1Macro.toFixed(4)} (${epoch.seconds.toFixed(0)} s)\n`,
          );
      },
    });
  }
}
