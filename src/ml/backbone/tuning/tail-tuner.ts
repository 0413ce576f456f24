/**
 * Fine-tunes the backbone's tail on cached cut-point activations, together with a genre head, in
 * TF.js on the CPU. The early layers stay frozen, so each poster's activations at the cut are
 * computed once (with a horizontally flipped copy used as augmentation) and the epochs only run
 * the tail. The head starts from the default MLP trained on the frozen embeddings; the loss is
 * soft-F1 plus an L2-SP penalty that keeps the tail near its pretrained weights, and training stops
 * early on validation macro F1 (per-class thresholds tuned on validation). Only the tail's weights
 * are the product: the tuned backbone is embedded and its heads are trained like any other.
 */
import type * as TF from '@tensorflow/tfjs';
import type { DenseLayerArtifact } from '../../genre/genre-predictor';
import { predictLayersTf, softF1Loss } from '../../genre/training/genre-head';
import type { Tf } from '../../genre/training/tf';
import { macroF1Tuned } from '../../genre/training/thresholds';
import { mulberry32, shuffleInPlace } from '../../math/random';
import type { TailModel } from './tail-model';

/** Cut-point activations of every poster: `views` per poster (0 = as served, 1 = flipped). */
export interface ActivationSource {
  n: number;
  views: number;
  /** Floats per activation (H x W x C, NHWC). */
  size: number;
  shape: [number, number, number];
  /** Writes poster i's view v into out at offset. */
  read(i: number, view: number, out: Float32Array, offset: number): void;
}

export interface TailTuningOptions {
  epochs: number;
  patience: number;
  batchSize: number;
  tailLearningRate: number;
  headLearningRate: number;
  /** L2-SP: weight of the squared distance of the tail from its pretrained weights. */
  l2sp: number;
  /**
   * L2 on the head's weight matrices' distance from their warm start (the head's first layer has the
   * input standardisation folded in, so a plain L2 would pull it far from what it was trained to be).
   */
  headL2: number;
  inputDropout: number;
  dropout: number;
  seed: number;
}

/**
 * Measured on the 22,291 posters (docs/ml-levers.md, 2026-12-02): at a tail rate of 1e-4 with L2-SP 1e-3
 * and batches of 256 (61 steps an epoch) the tail barely moved and no epoch beat the frozen weights on
 * validation; these settings do move it (validation +0.002 at epoch 3).
 */
export const DEFAULT_TAIL_TUNING: TailTuningOptions = {
  epochs: 8,
  patience: 2,
  batchSize: 128,
  tailLearningRate: 1e-3,
  headLearningRate: 3e-4,
  l2sp: 1e-4,
  headL2: 1e-3,
  inputDropout: 0.2,
  dropout: 0.5,
  seed: 42,
};

export interface TailEpoch {
  epoch: number;
  loss: number;
  valF1Macro: number;
  seconds: number;
}

export interface TailTuningResult {
  /** Tuned weights by ONNX initializer name (the best validation epoch; the pretrained ones when none beat epoch 0). */
  weights: Map<string, Float32Array>;
  bestEpoch: number;
  bestValF1Macro: number;
  history: TailEpoch[];
}

function l2rows(tf: Tf, x: TF.Tensor2D): TF.Tensor2D {
  return tf.div<TF.Tensor2D>(x, tf.add(tf.norm(x, 2, 1, true), 1e-12));
}

function batchTensor(tf: Tf, src: ActivationSource, idx: ArrayLike<number>, views: ArrayLike<number>): TF.Tensor4D {
  const buf = new Float32Array(idx.length * src.size);
  for (let k = 0; k < idx.length; k++) src.read(idx[k], views[k], buf, k * src.size);
  return tf.tensor4d(buf, [idx.length, ...src.shape]);
}

/** L2-normalised tail embeddings of posters `idx` (view 0 unless given), n x dim. */
export function tailEmbeddings(tf: Tf, tail: TailModel, src: ActivationSource, idx: ArrayLike<number>, view = 0, batch = 128): Float32Array {
  const out = new Float32Array(idx.length * tail.outputDim);
  for (let s = 0; s < idx.length; s += batch) {
    const part = Array.from({ length: Math.min(batch, idx.length - s) }, (_, k) => idx[s + k]);
    const e = tf.tidy(() => l2rows(tf, tail.forward(batchTensor(tf, src, part, new Array<number>(part.length).fill(view)))));
    out.set(e.dataSync(), s * tail.outputDim);
    e.dispose();
  }
  return out;
}

export async function tuneTail(
  tf: Tf,
  tail: TailModel,
  head: DenseLayerArtifact[],
  src: ActivationSource,
  Y: Uint8Array,
  split: { train: Int32Array; val: Int32Array },
  options: Partial<TailTuningOptions> = {},
  onEpoch?: (e: TailEpoch) => void,
): Promise<TailTuningResult> {
  const o = { ...DEFAULT_TAIL_TUNING, ...options };
  const L = head[head.length - 1].outDim;
  const rng = mulberry32(o.seed);
  const seed = () => Math.floor(rng() * 2 ** 31);
  const Wh = head.map((l, i) => tf.variable(tf.tensor2d(l.weights, [l.inDim, l.outDim]), true, `tune_head_w${i}_${o.seed}_${Date.now()}`));
  const Wh0 = head.map((l) => tf.tensor2d(l.weights, [l.inDim, l.outDim]));
  const bh = head.map((l, i) => tf.variable(tf.tensor1d(l.bias), true, `tune_head_b${i}_${o.seed}_${Date.now()}`));
  const headForward = (x: TF.Tensor2D, training: boolean): TF.Tensor2D => {
    let h = training && o.inputDropout > 0 ? (tf.dropout(x, o.inputDropout, undefined, seed()) as TF.Tensor2D) : x;
    head.forEach((l, i) => {
      h = tf.add<TF.Tensor2D>(tf.matMul(h, Wh[i]), bh[i]);
      if (l.activation === 'relu') {
        h = tf.relu(h);
        if (training && o.dropout > 0) h = tf.dropout(h, o.dropout, undefined, seed()) as TF.Tensor2D;
      }
    });
    return h; // logits
  };
  const Yv = new Uint8Array(split.val.length * L);
  split.val.forEach((i, k) => Yv.set(Y.subarray(i * L, (i + 1) * L), k * L));
  const validate = () => {
    const emb = tailEmbeddings(tf, tail, src, split.val);
    const layers = head.map((l, i) => ({ ...l, weights: Array.from(Wh[i].dataSync()), bias: Array.from(bh[i].dataSync()) }));
    return macroF1Tuned(predictLayersTf(tf, layers, emb, split.val.length), Yv, split.val.length, L);
  };

  const tailOpt = tf.train.adam(o.tailLearningRate);
  const headOpt = tf.train.adam(o.headLearningRate);
  const history: TailEpoch[] = [];
  let best = { epoch: 0, f1: validate(), weights: tail.exportWeights() };
  let since = 0;
  const order = Int32Array.from(split.train);
  const tailVars = tail.trainableVariables;
  try {
    for (let epoch = 1; epoch <= o.epochs; epoch++) {
      const t0 = Date.now();
      shuffleInPlace(order, rng);
      let lossSum = 0,
        batches = 0;
      for (let s = 0; s + o.batchSize <= order.length || (s < order.length && batches === 0); s += o.batchSize) {
        const idx = order.subarray(s, Math.min(order.length, s + o.batchSize));
        const views = Array.from(idx, () => (src.views > 1 && rng() < 0.5 ? 1 : 0));
        const x = batchTensor(tf, src, idx, views);
        const yb = new Float32Array(idx.length * L);
        idx.forEach((i, k) => {
          for (let j = 0; j < L; j++) yb[k * L + j] = Y[i * L + j];
        });
        const y = tf.tensor2d(yb, [idx.length, L]);
        const { value, grads } = tf.variableGrads(() => {
          const logits = headForward(l2rows(tf, tail.forward(x, true)), true);
          let loss = softF1Loss(tf, y, logits);
          loss = tf.add<TF.Scalar>(loss, tf.mul(o.l2sp, tail.distanceFromPretrained()));
          Wh.forEach((w, i) => (loss = tf.add<TF.Scalar>(loss, tf.mul(o.headL2, tf.sum(tf.square(tf.sub(w, Wh0[i])))))));
          return loss;
        }, [...tailVars, ...Wh, ...bh]);
        tailOpt.applyGradients(tailVars.map((v) => ({ name: v.name, tensor: grads[v.name] })));
        headOpt.applyGradients([...Wh, ...bh].map((v) => ({ name: v.name, tensor: grads[v.name] })));
        lossSum += (await value.data())[0];
        batches++;
        tf.dispose([value, ...Object.values(grads), x, y]);
        await new Promise((r) => setImmediate(r));
      }
      const f1 = validate();
      const e = { epoch, loss: lossSum / Math.max(1, batches), valF1Macro: f1, seconds: (Date.now() - t0) / 1000 };
      history.push(e);
      onEpoch?.(e);
      if (f1 > best.f1 + 1e-4) {
        best = { epoch, f1, weights: tail.exportWeights() };
        since = 0;
      } else if (++since >= o.patience) break;
    }
  } finally {
    tailOpt.dispose();
    headOpt.dispose();
    [...Wh, ...bh, ...Wh0].forEach((v) => v.dispose());
  }
  return { weights: best.weights, bestEpoch: best.epoch, bestValF1Macro: best.f1, history };
}
