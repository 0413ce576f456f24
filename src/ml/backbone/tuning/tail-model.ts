/**
 * The backbone's tail (the operators from a cut tensor to the embedding) as a trainable TF.js
 * function over NHWC activations. Its convolutions start from the ONNX weights, and the Clip
 * operators keep the ranges the dequantized model carries, so an untouched tail reproduces the ONNX
 * embedding (cosine ~1.0, checked by `tailParity`). `exportWeights` gives the tuned weights back in
 * ONNX layout, under the initializer names they replace.
 */
import type * as TF from '@tensorflow/tfjs';
import { denseMatMul } from '../../genre/training/genre-head';
import type { Tf } from '../../genre/training/tf';
import { initializer, type OnnxModel, type TailOp } from './onnx-graph';

interface ConvParams {
  op: Extract<TailOp, { kind: 'conv' }>;
  /** 1x1: [in, out]; depthwise 3x3: [3, 3, channels, 1]. */
  w: TF.Variable;
  b: TF.Variable;
  /** The pretrained values (for the L2-SP penalty that keeps the tuned weights near them). */
  w0: TF.Tensor;
  b0: TF.Tensor;
  inChannels: number;
  outChannels: number;
}

/**
 * Depthwise 3x3 'same' convolution as nine shifted products: differentiable with basic ops (the
 * wasm backend has no DepthwiseConv2dNativeBackpropInput kernel).
 */
function depthwise3x3(tf: Tf, x: TF.Tensor4D, w: TF.Tensor4D, stride: number): TF.Tensor4D {
  const [n, H, W, C] = x.shape;
  const p = tf.pad(x, [
    [0, 0],
    [1, 1],
    [1, 1],
    [0, 0],
  ]);
  let y: TF.Tensor4D | undefined;
  for (let dy = 0; dy < 3; dy++) {
    for (let dx = 0; dx < 3; dx++) {
      const term = tf.mul<TF.Tensor4D>(tf.slice(p, [0, dy, dx, 0], [n, H, W, C]), tf.reshape(tf.slice(w, [dy, dx, 0, 0], [1, 1, C, 1]), [C]));
      y = y ? tf.add<TF.Tensor4D>(y, term) : term;
    }
  }
  return stride === 1 ? y! : (tf.stridedSlice(y!, [0, 0, 0, 0], [n, H, W, C], [1, stride, stride, 1]) as TF.Tensor4D);
}

export class TailModel {
  private constructor(
    private readonly tf: Tf,
    readonly cut: string,
    readonly ops: TailOp[],
    private readonly convs: Map<string, ConvParams>,
    readonly cutChannels: number,
    readonly outputDim: number,
  ) {}

  /** Builds the tail from the ONNX model's weights; `trainable` lists the conv node names to tune (all by default). */
  static fromOnnx(tf: Tf, model: OnnxModel, cut: string, ops: TailOp[], trainable?: readonly string[]): TailModel {
    const convs = new Map<string, ConvParams>();
    let cutChannels = 0;
    for (const op of ops) {
      if (op.kind !== 'conv') continue;
      const { dims, data } = initializer(model, op.weight);
      const bias = initializer(model, op.bias).data;
      const [out, inPerGroup] = dims;
      let w: TF.Tensor;
      let inChannels: number;
      if (op.group === 1) {
        inChannels = inPerGroup;
        const t = new Float32Array(inChannels * out);
        for (let o = 0; o < out; o++) for (let i = 0; i < inChannels; i++) t[i * out + o] = data[o * inChannels + i];
        w = tf.tensor2d(t, [inChannels, out]);
      } else {
        inChannels = out;
        const t = new Float32Array(9 * out);
        for (let c = 0; c < out; c++) for (let k = 0; k < 9; k++) t[k * out + c] = data[c * 9 + k];
        w = tf.tensor4d(t, [3, 3, out, 1]);
      }
      if (cutChannels === 0) cutChannels = inChannels;
      const isTrainable = !trainable || trainable.includes(op.name);
      convs.set(op.name, {
        op,
        w: tf.variable(w, isTrainable, `tail_${op.name}_w_${Math.random().toString(36).slice(2)}`),
        b: tf.variable(tf.tensor1d(bias), isTrainable, `tail_${op.name}_b_${Math.random().toString(36).slice(2)}`),
        w0: w,
        b0: tf.tensor1d(bias),
        inChannels,
        outChannels: out,
      });
    }
    const last = [...convs.values()].pop();
    if (!last) throw new Error('tail has no convolution');
    return new TailModel(tf, cut, ops, convs, cutChannels, last.outChannels);
  }

  get trainableVariables(): TF.Variable[] {
    return [...this.convs.values()].flatMap((c) => [c.w, c.b]).filter((v) => v.trainable);
  }

  /** Embedding (before L2 normalisation) of a batch of cut activations [n, H, W, C]. */
  forward(x: TF.Tensor4D, training = false): TF.Tensor2D {
    const tf = this.tf;
    const values = new Map<string, TF.Tensor>([[this.cut, x]]);
    let first = true;
    let last: TF.Tensor = x;
    for (const op of this.ops) {
      let y: TF.Tensor;
      if (op.kind === 'conv') {
        const c = this.convs.get(op.name)!;
        const h = values.get(op.input) as TF.Tensor4D;
        if (op.group === 1) {
          const [n, H, W, C] = h.shape;
          const flat = tf.reshape<TF.Rank.R2>(h, [n * H * W, C]);
          // The first conv reads the frozen cache: no gradient needed for its input.
          const m = training ? denseMatMul(tf, flat, c.w as TF.Tensor2D, !first) : tf.matMul(flat, c.w);
          y = tf.reshape(tf.add(m, c.b), [n, H, W, c.outChannels]);
        } else {
          y = tf.add(training ? depthwise3x3(tf, h, c.w as TF.Tensor4D, op.stride) : tf.depthwiseConv2d(h, c.w as TF.Tensor4D, op.stride, 1), c.b);
        }
        first = false;
      } else if (op.kind === 'clip') {
        y = tf.clipByValue(values.get(op.input)!, op.min, op.max);
      } else if (op.kind === 'add') {
        y = tf.add(values.get(op.inputs[0])!, values.get(op.inputs[1])!);
      } else if (op.kind === 'gap') {
        y = tf.mean(values.get(op.input)!, [1, 2], true);
      } else {
        const v = values.get(op.input)!;
        y = tf.reshape(v, [v.shape[0], -1]);
      }
      values.set(op.output, y);
      last = y;
    }
    return last as TF.Tensor2D;
  }

  /** Sum of squared distances of the trainable weights from their pretrained values (L2-SP). */
  distanceFromPretrained(): TF.Scalar {
    const tf = this.tf;
    let s: TF.Scalar = tf.scalar(0);
    for (const c of this.convs.values()) {
      if (!c.w.trainable) continue;
      s = tf.add<TF.Scalar>(s, tf.add(tf.sum(tf.square(tf.sub(c.w, c.w0))), tf.sum(tf.square(tf.sub(c.b, c.b0)))));
    }
    return s;
  }

  /** Current weights, by ONNX initializer name, in ONNX layout. */
  exportWeights(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const c of this.convs.values()) {
      const w = c.w.dataSync() as Float32Array;
      const t = new Float32Array(w.length);
      if (c.op.group === 1) {
        const I = c.inChannels,
          O = c.outChannels;
        for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) t[o * I + i] = w[i * O + o];
      } else {
        const C = c.outChannels;
        for (let ch = 0; ch < C; ch++) for (let k = 0; k < 9; k++) t[ch * 9 + k] = w[k * C + ch];
      }
      out.set(c.op.weight, t);
      out.set(c.op.bias, Float32Array.from(c.b.dataSync() as Float32Array));
    }
    return out;
  }

  /** Copies weights (from `exportWeights` of another run) into the variables. */
  setWeights(weights: Map<string, Float32Array>): void {
    const tf = this.tf;
    for (const c of this.convs.values()) {
      const w = weights.get(c.op.weight),
        b = weights.get(c.op.bias);
      if (!w || !b) continue;
      const t = new Float32Array(w.length);
      if (c.op.group === 1) {
        const I = c.inChannels,
          O = c.outChannels;
        for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) t[i * O + o] = w[o * I + i];
        c.w.assign(tf.tensor2d(t, [I, O]));
      } else {
        const C = c.outChannels;
        for (let ch = 0; ch < C; ch++) for (let k = 0; k < 9; k++) t[k * C + ch] = w[ch * 9 + k];
        c.w.assign(tf.tensor4d(t, [3, 3, C, 1]));
      }
      c.b.assign(tf.tensor1d(b));
    }
  }

  dispose(): void {
    for (const c of this.convs.values()) [c.w, c.b, c.w0, c.b0].forEach((t) => t.dispose());
  }
}
