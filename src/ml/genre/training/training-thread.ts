/**
 * Training off the event loop: trainGenreModels (TF.js, minutes of CPU on a large catalogue) runs in a
 * worker thread (training-worker.ts), so the process that started it keeps answering requests. Its
 * progress comes back to `onProgress` on this thread; aborting (the signal, or an `onProgress` that
 * throws) terminates the worker at once, whatever it is computing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { AppError, fromWireError } from '../../../errors';
import { transferList } from '../../transfer';
import type { TrainingInput, TrainingOptions, TrainingResult } from './trainer';
import type { TrainingMessage, TrainingRequest } from './training-worker';

const WORKER_FILE = path.join(__dirname, 'training-worker.js');

export interface OffThreadTraining extends TrainingResult {
  /** n x labels probabilities of every input row under the chosen model (when `predict` was asked). */
  probs?: Float32Array;
}

export interface OffThreadOptions {
  /** Aborting terminates the worker; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Also predict every input row with the chosen model, in the worker. */
  predict?: boolean;
}

/**
 * trainGenreModels(input, options) in a worker thread. input.X and input.Y move to the worker when
 * they own their buffers (the caller loses them): a catalogue's embeddings are not copied.
 */
export function trainOffThread(input: TrainingInput, options: TrainingOptions = {}, run: OffThreadOptions = {}): Promise<OffThreadTraining> {
  const { signal } = run;
  if (signal?.aborted) return Promise.reject(signal.reason as Error);
  if (!fs.existsSync(WORKER_FILE)) {
    return Promise.reject(
      new AppError('INTERNAL_SERVER_ERROR', `Training worker ${WORKER_FILE} not found; run the compiled build and load dist/`, 'TRAINING_WORKER_MISSING'),
    );
  }
  const { onProgress, ...rest } = options;
  const worker = new Worker(WORKER_FILE);
  return new Promise<OffThreadTraining>((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | undefined, value?: OffThreadTraining) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      if (err) reject(err);
      else resolve(value!);
    };
    const onAbort = () => finish(signal!.reason as Error);
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (msg: TrainingMessage) => {
      if (msg.kind === 'progress') {
        try {
          onProgress?.(msg.progress);
        } catch (err) {
          finish(err as Error); // the caller stops the training from its progress callback
        }
      } else if (msg.kind === 'done') finish(undefined, { ...msg.result, probs: msg.probs });
      else finish(fromWireError(msg.error));
    });
    worker.on('error', (err) => finish(new Error(`the training worker failed: ${err.message}`)));
    worker.on('exit', (code) => finish(new Error(`the training worker exited (code ${code}) before it finished`)));
    const request: TrainingRequest = { input, options: rest, predict: run.predict ?? false };
    worker.postMessage(request, transferList(input.X, input.Y));
  });
}
