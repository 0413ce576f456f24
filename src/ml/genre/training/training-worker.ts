/**
 * Worker thread of trainOffThread (compiled to dist/src/ml/genre/training/training-worker.js, next to
 * training-thread.js): one training per worker. It runs trainGenreModels (TF.js, minutes of CPU) and,
 * when asked, the new model's predictions for every training row, and posts progress as it goes.
 */
import { parentPort } from 'node:worker_threads';
import { toWireError, type WireError } from '../../../errors';
import { GenrePredictor } from '../genre-predictor';
import { transferableCopy, transferList } from '../../transfer';
import { trainGenreModels, type TrainingInput, type TrainingOptions, type TrainingProgress, type TrainingResult } from './trainer';
import { BATCH_NICE, lowerThreadPriority } from '../../thread-priority';

lowerThreadPriority(BATCH_NICE);

export interface TrainingRequest {
  input: TrainingInput;
  options: Omit<TrainingOptions, 'onProgress'>;
  /** Also predict every row of `input` with the chosen model (n x labels probabilities). */
  predict: boolean;
}

export type TrainingMessage =
  { kind: 'progress'; progress: TrainingProgress } | { kind: 'done'; result: TrainingResult; probs?: Float32Array } | { kind: 'failed'; error: WireError };

const post = (msg: TrainingMessage, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(msg, transfer);

parentPort!.once('message', (req: TrainingRequest) => {
  const { input, options } = req;
  trainGenreModels(input, { ...options, onProgress: (progress) => post({ kind: 'progress', progress }) })
    .then((result) => {
      if (!req.predict) return post({ kind: 'done', result });
      post({ kind: 'progress', progress: { stage: 'predictions', done: 0, total: 1 } });
      const probs = transferableCopy(GenrePredictor.fromArtifact(result.artifact).predict(input.X, input.n, input.texts));
      post({ kind: 'done', result, probs }, transferList(probs));
    })
    .catch((err: unknown) => post({ kind: 'failed', error: toWireError(err) }));
});
