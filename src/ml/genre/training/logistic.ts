/**
 * One-vs-rest logistic regression baseline: a linear layer + sigmoid per label, BCE loss,
 * L2-regularised, optional positive-class weights, trained with TF.js (Adam, minibatches) and
 * early-stopped on validation macro F1 at tuned per-class thresholds.
 */
import { trainHead, type HeadData, type TrainedHead, type HeadEpoch } from './genre-head';
import type { Tf } from './tf';

export interface LogisticOptions {
  l2: number;
  /** 'balanced': positives weighted n_neg/n_pos (capped at 20); 'sqrt': its square root; 'none': unweighted. */
  classWeight: 'none' | 'balanced' | 'sqrt';
  learningRate: number;
  batchSize: number;
  maxEpochs: number;
  patience: number;
  seed: number;
}

export const DEFAULT_LOGISTIC_OPTIONS: LogisticOptions = {
  l2: 1e-2,
  classWeight: 'none',
  learningRate: 1e-3,
  batchSize: 256,
  maxEpochs: 30,
  patience: 5,
  seed: 1,
};

export function trainLogistic(tf: Tf, data: HeadData, options: Partial<LogisticOptions> = {}, onEpoch?: (e: HeadEpoch) => void): Promise<TrainedHead> {
  const o = { ...DEFAULT_LOGISTIC_OPTIONS, ...options };
  return trainHead(
    tf,
    data,
    {
      hidden: [],
      dropout: 0,
      inputDropout: 0,
      l2: o.l2,
      loss: 'bce',
      posWeight: o.classWeight,
      learningRate: o.learningRate,
      batchSize: o.batchSize,
      maxEpochs: o.maxEpochs,
      patience: o.patience,
      seed: o.seed,
    },
    onEpoch,
  );
}
