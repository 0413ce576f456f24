/**
 * The few ONNX graph edits backbone tuning needs, on the model's protobuf (onnx-proto):
 * read float initializers, expose an inner tensor as an extra graph output (to cache a cut point's
 * activations), replace initializers with tuned weights (same names and shapes), and describe the
 * chain of operators between a cut tensor and the embedding output.
 */
import { onnx } from 'onnx-proto';
import { AppError } from '../../../errors';

export type OnnxModel = onnx.ModelProto;

const bad = (what: string) => new AppError('INTERNAL_SERVER_ERROR', `Backbone graph: ${what}`, 'BAD_BACKBONE_GRAPH');

export function decodeModel(bytes: Uint8Array): OnnxModel {
  return onnx.ModelProto.decode(bytes);
}

export function encodeModel(model: OnnxModel): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

/** A float32 initializer's values and dims. */
export function initializer(model: OnnxModel, name: string): { dims: number[]; data: Float32Array } {
  const t = model.graph?.initializer?.find((i) => i.name === name);
  if (!t) throw bad(`no initializer ${name}`);
  if (t.dataType !== onnx.TensorProto.DataType.FLOAT) throw bad(`initializer ${name} is not float32`);
  const dims = (t.dims ?? []).map(Number);
  const raw = t.rawData;
  const data = raw && raw.length ? new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)) : Float32Array.from(t.floatData ?? []);
  return { dims, data };
}

/** A copy of the model that also outputs the named inner tensors. */
export function withOutputs(model: OnnxModel, names: string[]): OnnxModel {
  const copy = onnx.ModelProto.decode(onnx.ModelProto.encode(model).finish());
  for (const name of names) {
    if (!copy.graph!.node!.some((n) => n.output?.includes(name))) throw bad(`no tensor ${name}`);
    if (!copy.graph!.output!.some((o) => o.name === name)) copy.graph!.output!.push(onnx.ValueInfoProto.create({ name }));
  }
  return copy;
}

/** A copy of the model with these initializers' values replaced (same element count). */
export function withInitializers(model: OnnxModel, values: Map<string, Float32Array>): OnnxModel {
  const copy = onnx.ModelProto.decode(onnx.ModelProto.encode(model).finish());
  for (const [name, data] of values) {
    const t = copy.graph!.initializer!.find((i) => i.name === name);
    if (!t) throw bad(`no initializer ${name}`);
    const count = (t.dims ?? []).map(Number).reduce((a, b) => a * b, 1);
    if (count !== data.length) throw bad(`initializer ${name} has ${count} values, got ${data.length}`);
    t.floatData = [];
    t.rawData = new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  }
  return copy;
}

/** One operator of the tail, in a form a TF.js interpreter can run (NHWC). */
export type TailOp =
  | { kind: 'conv'; name: string; input: string; output: string; weight: string; bias: string; group: number; kernel: number; stride: number }
  | { kind: 'clip'; name: string; input: string; output: string; min: number; max: number }
  | { kind: 'add'; name: string; inputs: [string, string]; output: string }
  | { kind: 'gap'; name: string; input: string; output: string }
  | { kind: 'flatten'; name: string; input: string; output: string };

const attr = (n: onnx.INodeProto, name: string) => n.attribute?.find((a) => a.name === name);
const scalar = (model: OnnxModel, name: string) => initializer(model, name).data[0];

/**
 * The operators that compute `output` from `cut` (in graph order), given that every other input is
 * an initializer. Only what MobileNet-style tails use: Conv (1x1 or depthwise 3x3), Clip, Add,
 * GlobalAveragePool, Flatten.
 */
export function tailOps(model: OnnxModel, cut: string, output: string): TailOp[] {
  const nodes = model.graph!.node!;
  const inits = new Set(model.graph!.initializer!.map((i) => i.name));
  const known = new Set([cut]);
  const ops: TailOp[] = [];
  const start = nodes.findIndex((n) => n.output?.includes(cut));
  if (start < 0) throw bad(`no tensor ${cut}`);
  for (const n of nodes.slice(start + 1)) {
    const data = (n.input ?? []).filter((i) => i && !inits.has(i));
    if (data.length === 0 || !data.every((i) => known.has(i))) continue;
    const name = n.name ?? '';
    const out = n.output![0];
    switch (n.opType) {
      case 'Conv': {
        const kernel = Number(attr(n, 'kernel_shape')?.ints?.[0] ?? 1);
        const stride = Number(attr(n, 'strides')?.ints?.[0] ?? 1);
        const group = Number(attr(n, 'group')?.i ?? 1);
        if (!(kernel === 1 && group === 1) && !(kernel === 3 && group > 1)) throw bad(`${name}: only 1x1 and depthwise 3x3 convolutions are supported`);
        ops.push({ kind: 'conv', name, input: data[0], output: out, weight: n.input![1], bias: n.input![2], group, kernel, stride });
        break;
      }
      case 'Clip':
        ops.push({ kind: 'clip', name, input: data[0], output: out, min: scalar(model, n.input![1]), max: scalar(model, n.input![2]) });
        break;
      case 'Add':
        if (data.length !== 2) throw bad(`${name}: Add with a constant`);
        ops.push({ kind: 'add', name, inputs: [data[0], data[1]], output: out });
        break;
      case 'GlobalAveragePool':
        ops.push({ kind: 'gap', name, input: data[0], output: out });
        break;
      case 'Flatten':
        ops.push({ kind: 'flatten', name, input: data[0], output: out });
        break;
      default:
        throw bad(`${name}: operator ${n.opType} is not supported in a tuned tail`);
    }
    known.add(out);
    if (out === output) return ops;
  }
  throw bad(`${output} is not computed from ${cut}`);
}
