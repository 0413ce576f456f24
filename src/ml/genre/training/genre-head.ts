/**
 * Dense genre head on top of poster embeddings, trained with TF.js (wasm backend when available).
 * Loss: soft-F1 macro (sigmoidF1), BCE, or their sum. Adam, optional hidden layers, dropout, L2,
 * early stopping on validation macro F1 (at per-class thresholds tuned on validation), seeded.
 * The trained weights are exported as DenseLayerArtifact[] for the plain-JS GenrePredictor.
 */
import type * as TF from '@tensorflow/tfjs';
import { gaussian, mulberry32, shuffleInPlace } from '../../math/random';
import { compactArray, type DenseLayerArtifact } from '../genre-predictor';
import { macroF1Tuned } from './thresholds';
import type { Tf } from './tf';

export type HeadLoss = 'softf1' | 'bce' | 'softf1+bce';

/** Makes TF variable names unique across heads trained in one process. */
let varCounter = 0;

export interface HeadOptions {
  /** Hidden layer sizes ([] = linear head, i.e. logistic regression with the chosen loss). */
  hidden: number[];
  /** Dropout rate after each hidden layer. */
  dropout: number;
  /** Dropout rate on the input embedding. */
  inputDropout: number;
  /** L2 penalty coefficient on the weight matrices (added to the mean loss). */
  l2: number;
  loss: HeadLoss;
  /** Weight of the BCE term in 'softf1+bce'. */
  bceWeight: number;
  /** BCE positive-class weights: 'balanced' = n_neg/n_pos per label (capped at 20), 'none' = 1. */
  posWeight: 'none' | 'balanced' | 'sqrt';
  learningRate: number;
  batchSize: number;
  maxEpochs: number;
  /** Stop after this many epochs without validation macro-F1 improvement. */
  patience: number;
  /** Z-score the inputs with training mean/std (folded into the first layer on export). */
  standardize: boolean;
  seed: number;
}

export const DEFAULT_HEAD_OPTIONS: HeadOptions = {
  hidden: [256],
  dropout: 0.5,
  inputDropout: 0.2,
  l2: 1e-3,
  loss: 'softf1',
  bceWeight: 1,
  posWeight: 'none',
  learningRate: 1e-3,
  batchSize: 512,
  maxEpochs: 20,
  patience: 4,
  standardize: true,
  seed: 1,
};

export interface HeadData {
  Xtrain: Float32Array;
  Ytrain: Uint8Array;
  ntrain: number;
  Xval: Float32Array;
  Yval: Uint8Array;
  nval: number;
  dim: number;
  numLabels: number;
}

export interface HeadEpoch {
  epoch: number;
  loss: number;
  valF1Macro: number;
}

export interface TrainedHead {
  layers: DenseLayerArtifact[];
  bestEpoch: number;
  bestValF1Macro: number;
  history: HeadEpoch[];
  options: HeadOptions;
}

interface Params {
  W: TF.Variable[];
  b: TF.Variable[];
  acts: Array<'relu' | 'sigmoid'>;
}

/**
 * x . W with a custom gradient that only uses plain (non-transposed-operand) matMuls: the wasm
 * backend's matMul with transposeA/transposeB is several times slower than an explicit transpose.
 * `needInputGrad` false skips dx (x is a frozen input, e.g. cached backbone activations).
 */
export function denseMatMul(tf: Tf, x: TF.Tensor2D, w: TF.Tensor2D, needInputGrad = true): TF.Tensor2D {
  const f = tf.customGrad((...args: Array<TF.Tensor | TF.GradSaveFunc>) => {
    const [a, b, save] = args as [TF.Tensor, TF.Tensor, TF.GradSaveFunc];
    save([a, b]);
    return {
      value: tf.matMul(a, b),
      gradFunc: (dy: TF.Tensor, saved: TF.Tensor[]) => {
        const [sa, sb] = saved as TF.Tensor2D[];
        return [needInputGrad ? tf.matMul(dy, tf.transpose(sb)) : tf.zerosLike(sa), tf.matMul(tf.transpose(sa), dy)];
      },
    };
  });
  return f(x, w) as TF.Tensor2D;
}

function forward(tf: Tf, p: Params, x: TF.Tensor2D, train: null | { inputDropout: number; dropout: number; seed: () => number }): TF.Tensor2D {
  let h: TF.Tensor2D = x;
  if (train && train.inputDropout > 0) h = tf.dropout(h, train.inputDropout, undefined, train.seed()) as TF.Tensor2D;
  for (let i = 0; i < p.W.length; i++) {
    h = tf.add<TF.Tensor2D>(train ? denseMatMul(tf, h, p.W[i] as TF.Tensor2D) : tf.matMul(h, p.W[i]), p.b[i]);
    if (i < p.W.length - 1) {
      h = tf.relu(h);
      if (train && train.dropout > 0) h = tf.dropout(h, train.dropout, undefined, train.seed()) as TF.Tensor2D;
    }
  }
  return h; // logits
}

/** Mean soft-F1 loss: 1 - mean_l 2TP/(2TP+FP+FN+eps) with soft counts over the batch. */
export function softF1Loss(tf: Tf, y: TF.Tensor2D, logits: TF.Tensor2D): TF.Scalar {
  return tf.tidy(() => {
    const p = tf.sigmoid(logits);
    const tp = tf.sum(tf.mul(p, y), 0);
    const fp = tf.sum(tf.mul(p, tf.sub(1, y)), 0);
    const fn = tf.sum(tf.mul(tf.sub(1, p), y), 0);
    const f1 = tf.div(tf.mul(2, tp), tf.add(tf.add(tf.add(tf.mul(2, tp), fp), fn), 1e-7));
    return tf.sub<TF.Scalar>(1, tf.mean(f1));
  });
}

function bceLoss(tf: Tf, y: TF.Tensor2D, logits: TF.Tensor2D, posW: TF.Tensor1D | null): TF.Scalar {
  return tf.tidy(() => {
    // log(1+exp(-|z|)) + max(z,0) - z*y, weighted on positives.
    const z = logits;
    const base = tf.add(tf.log1p(tf.exp(tf.neg(tf.abs(z)))), tf.relu(z));
    const neg = tf.mul(tf.sub(1, y), base); // -log(1-p)
    const pos = tf.mul(y, tf.sub(base, z)); // -log(p)
    const posTerm = posW ? tf.mul(pos, posW) : pos;
    return tf.mean<TF.Scalar>(tf.add(neg, posTerm));
  });
}

function readWeights(p: Params): { W: Float32Array[]; b: Float32Array[] } {
  return { W: p.W.map((w) => w.dataSync() as Float32Array).map((a) => a.slice()), b: p.b.map((v) => (v.dataSync() as Float32Array).slice()) };
}

/** Probabilities of a set of dense layers computed with TF.js (used for training-time eval and parity tests). */
export function predictLayersTf(tf: Tf, layers: DenseLayerArtifact[], X: Float32Array, n: number, batch = 4096): Float32Array {
  const L = layers[layers.length - 1].outDim;
  const out = new Float32Array(n * L);
  const Ws = layers.map((l) => tf.tensor2d(l.weights, [l.inDim, l.outDim], 'float32'));
  const bs = layers.map((l) => tf.tensor1d(l.bias, 'float32'));
  try {
    for (let s = 0; s < n; s += batch) {
      const m = Math.min(batch, n - s);
      const res = tf.tidy(() => {
        let h = tf.tensor2d(X.subarray(s * layers[0].inDim, (s + m) * layers[0].inDim), [m, layers[0].inDim]);
        layers.forEach((l, i) => {
          h = tf.add<TF.Tensor2D>(tf.matMul(h, Ws[i]), bs[i]);
          if (l.activation === 'relu') h = tf.relu(h);
          else if (l.activation === 'sigmoid') h = tf.sigmoid(h);
        });
        return h;
      });
      out.set(res.dataSync(), s * L);
      res.dispose();
    }
  } finally {
    Ws.forEach((t) => t.dispose());
    bs.forEach((t) => t.dispose());
  }
  return out;
}

function predictParams(tf: Tf, p: Params, X: TF.Tensor2D, n: number, L: number, batch = 4096): Float32Array {
  const out = new Float32Array(n * L);
  for (let s = 0; s < n; s += batch) {
    const m = Math.min(batch, n - s);
    const r = tf.tidy(() => tf.sigmoid(forward(tf, p, tf.slice(X, [s, 0], [m, -1]), null)));
    out.set(r.dataSync(), s * L);
    r.dispose();
  }
  return out;
}

/** Trains one head; returns the weights of the epoch with the best validation macro F1. */
export async function trainHead(tf: Tf, data: HeadData, options: Partial<HeadOptions> = {}, onEpoch?: (e: HeadEpoch) => void): Promise<TrainedHead> {
  const o: HeadOptions = { ...DEFAULT_HEAD_OPTIONS, ...options };
  const { dim, numLabels: L, ntrain, nval } = data;
  if (ntrain === 0) throw new RangeError('trainHead: empty training set');
  const rng = mulberry32(o.seed);
  const seedFn = () => Math.floor(rng() * 2 ** 31);

  // Glorot-uniform init from the seeded PRNG (He-normal for ReLU layers).
  const sizes = [dim, ...o.hidden, L];
  const params: Params = { W: [], b: [], acts: [] };
  for (let i = 0; i < sizes.length - 1; i++) {
    const fanIn = sizes[i],
      fanOut = sizes[i + 1];
    const w = new Float32Array(fanIn * fanOut);
    const relu = i < sizes.length - 2;
    if (relu) {
      const sd = Math.sqrt(2 / fanIn);
      for (let k = 0; k < w.length; k++) w[k] = gaussian(rng) * sd;
    } else {
      const lim = Math.sqrt(6 / (fanIn + fanOut));
      for (let k = 0; k < w.length; k++) w[k] = (rng() * 2 - 1) * lim;
    }
    params.W.push(tf.variable(tf.tensor2d(w, [fanIn, fanOut]), true, `head_w${i}_${++varCounter}`));
    params.b.push(tf.variable(tf.zeros([fanOut]), true, `head_b${i}_${varCounter}`));
    params.acts.push(relu ? 'relu' : 'sigmoid');
  }

  let posW: TF.Tensor1D | null = null;
  if (o.posWeight !== 'none') {
    const pw = new Float32Array(L);
    for (let j = 0; j < L; j++) {
      let pos = 0;
      for (let i = 0; i < ntrain; i++) pos += data.Ytrain[i * L + j];
      const ratio = pos > 0 ? (ntrain - pos) / pos : 1;
      pw[j] = Math.min(20, o.posWeight === 'balanced' ? ratio : Math.sqrt(ratio));
    }
    posW = tf.tensor1d(pw);
  }

  // Optional z-scoring with training statistics.
  let mean: Float64Array | null = null;
  let scale: Float64Array | null = null;
  let xtrain = data.Xtrain;
  let xval = data.Xval;
  if (o.standardize) {
    mean = new Float64Array(dim);
    const sq = new Float64Array(dim);
    for (let i = 0; i < ntrain; i++) {
      for (let k = 0; k < dim; k++) {
        const v = data.Xtrain[i * dim + k];
        mean[k] += v;
        sq[k] += v * v;
      }
    }
    scale = new Float64Array(dim);
    for (let k = 0; k < dim; k++) {
      mean[k] /= ntrain;
      const sd = Math.sqrt(Math.max(0, sq[k] / ntrain - mean[k] * mean[k]));
      scale[k] = sd > 1e-8 ? 1 / sd : 1;
    }
    const z = (X: Float32Array, m: number) => {
      const out = new Float32Array(m * dim);
      for (let i = 0; i < m; i++) for (let k = 0; k < dim; k++) out[i * dim + k] = (X[i * dim + k] - mean![k]) * scale![k];
      return out;
    };
    xtrain = z(data.Xtrain, ntrain);
    xval = z(data.Xval, nval);
  }

  const Xtr = tf.tensor2d(xtrain, [ntrain, dim]);
  const Ytr = tf.tensor2d(Float32Array.from(data.Ytrain), [ntrain, L]);
  const Xv = tf.tensor2d(xval, [nval, dim]);
  const optimizer = tf.train.adam(o.learningRate);
  const order = Int32Array.from({ length: ntrain }, (_, i) => i);
  const history: HeadEpoch[] = [];
  let best = { f1: -1, epoch: -1, weights: readWeights(params) };
  let sinceBest = 0;
  const vars = [...params.W, ...params.b];

  try {
    for (let epoch = 1; epoch <= o.maxEpochs; epoch++) {
      shuffleInPlace(order, rng);
      let lossSum = 0;
      let batches = 0;
      for (let s = 0; s < ntrain; s += o.batchSize) {
        const m = Math.min(o.batchSize, ntrain - s);
        if (m < Math.min(o.batchSize, ntrain) / 4 && batches > 0) break; // drop a tiny last batch (noisy soft-F1)
        const idx = tf.tensor1d(order.subarray(s, s + m), 'int32');
        const seeds = { inputDropout: o.inputDropout, dropout: o.dropout, seed: seedFn };
        const lossT = optimizer.minimize(
          () => {
            const xb = tf.gather<TF.Tensor2D>(Xtr, idx);
            const yb = tf.gather<TF.Tensor2D>(Ytr, idx);
            const logits = forward(tf, params, xb, seeds);
            let loss: TF.Scalar;
            if (o.loss === 'softf1') loss = softF1Loss(tf, yb, logits);
            else if (o.loss === 'bce') loss = bceLoss(tf, yb, logits, posW);
            else loss = tf.add<TF.Scalar>(softF1Loss(tf, yb, logits), tf.mul(o.bceWeight, bceLoss(tf, yb, logits, posW)));
            if (o.l2 > 0) {
              let reg: TF.Scalar = tf.scalar(0);
              for (const w of params.W) reg = tf.add<TF.Scalar>(reg, tf.sum(tf.square(w)));
              loss = tf.add<TF.Scalar>(loss, tf.mul(o.l2, reg));
            }
            return loss;
          },
          true,
          vars,
        );
        idx.dispose();
        if (lossT) {
          lossSum += (await lossT.data())[0];
          lossT.dispose();
        }
        batches++;
      }
      const vp = predictParams(tf, params, Xv, nval, L);
      const f1 = nval > 0 ? macroF1Tuned(vp, data.Yval, nval, L) : 0;
      const e = { epoch, loss: lossSum / Math.max(1, batches), valF1Macro: f1 };
      history.push(e);
      onEpoch?.(e);
      if (f1 > best.f1 + 1e-4) {
        best = { f1, epoch, weights: readWeights(params) };
        sinceBest = 0;
      } else if (++sinceBest >= o.patience) break;
      await new Promise((r) => setImmediate(r));
    }
  } finally {
    Xtr.dispose();
    Ytr.dispose();
    Xv.dispose();
    posW?.dispose();
    vars.forEach((v) => v.dispose());
    optimizer.dispose();
  }

  if (mean && scale) {
    // Fold z-scoring into the first layer: W' = W * scale (per input row), b' = b - (mean * scale) . W
    const W0 = best.weights.W[0];
    const b0 = Float64Array.from(best.weights.b[0]);
    const out = sizes[1];
    const W1 = new Float32Array(W0.length);
    for (let k = 0; k < dim; k++) {
      const sc = scale[k],
        mu = mean[k];
      for (let j = 0; j < out; j++) {
        const w = W0[k * out + j];
        W1[k * out + j] = w * sc;
        b0[j] -= mu * sc * w;
      }
    }
    best.weights.W[0] = W1;
    best.weights.b[0] = Float32Array.from(b0);
  }

  const layers: DenseLayerArtifact[] = best.weights.W.map((w, i) => ({
    inDim: sizes[i],
    outDim: sizes[i + 1],
    weights: compactArray(w),
    bias: compactArray(best.weights.b[i]),
    activation: params.acts[i],
  }));
  return { layers, bestEpoch: best.epoch, bestValF1Macro: best.f1, history, options: o };
}
