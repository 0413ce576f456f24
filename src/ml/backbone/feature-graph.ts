/**
 * Multi-layer poster features: a backbone whose manifest lists `embedding.parts` gets one extra graph
 * output, computed in ONNX Runtime from tensors the model already has, on load (the weights file and its
 * sha256 stay those of the base model; nothing is written to disk):
 *
 *   part_i = L2-normalise(pool(tensor_i))      pool: avg / std / max over H x W for a 4-d activation,
 *                                               none (softmax / log-softmax optional) for a 2-d one
 *   output = concat(part_1, ..., part_k)        [N, sum of the parts' dims]
 *
 * Each part is normalised on its own, so a small block (96 channels) weighs as much as the 1280-d
 * embedding before the runtime normalises the whole vector; the genre heads standardise every input
 * dimension anyway.
 */
import { onnx } from 'onnx-proto';
import { AppError } from '../../errors';

export const FEATURE_POOLS = ['avg', 'std', 'max', 'none'] as const;
export type FeaturePool = (typeof FEATURE_POOLS)[number];
export const FEATURE_TRANSFORMS = ['softmax', 'logsoftmax'] as const;
export type FeatureTransform = (typeof FEATURE_TRANSFORMS)[number];

export interface FeaturePart {
  /** A tensor of the base graph: [N, C, H, W] (pooled) or [N, C] (pool "none"). */
  tensor: string;
  pool: FeaturePool;
  /** Only with pool "none": applied over C before normalising (e.g. to ImageNet logits). */
  transform?: FeatureTransform;
  /** C: the part's width in the output. */
  dim: number;
}

const bad = (what: string) => new AppError('INTERNAL_SERVER_ERROR', `Backbone feature graph: ${what}`, 'BAD_BACKBONE_GRAPH');

/** Keeps normalisation finite on an all-zero part (a blank poster's late activations can be all zero). */
const NORM_EPS = 1e-6;

/**
 * A copy of `model` with one more output, `output`: the parts pooled, normalised and concatenated
 * (see the module comment). Throws BAD_BACKBONE_GRAPH for a tensor the graph does not compute or an
 * output name it already has.
 */
export function withFeatureOutput(model: onnx.IModelProto, parts: readonly FeaturePart[], output: string): onnx.ModelProto {
  if (parts.length === 0) throw bad('no parts');
  const copy = onnx.ModelProto.decode(onnx.ModelProto.encode(model).finish());
  const g = copy.graph!;
  const produced = new Set(g.node!.flatMap((n) => n.output ?? []));
  for (const i of g.input ?? []) produced.add(i.name!);
  const taken = new Set([...produced, ...(g.initializer ?? []).map((i) => i.name!)]);
  if (taken.has(output)) throw bad(`the model already has a tensor named ${output}`);
  const opset = Number(copy.opsetImport?.find((o) => !o.domain)?.version ?? 0);
  if (opset < 13) throw bad(`opset ${opset}: 13 or later is needed`);

  const nodes: onnx.NodeProto[] = [];
  const fresh = (base: string) => {
    let name = `${output}/${base}`;
    for (let k = 1; taken.has(name); k++) name = `${output}/${base}_${k}`;
    taken.add(name);
    return name;
  };
  const node = (opType: string, inputs: string[], attrs: onnx.IAttributeProto[] = [], name = opType): string => {
    const out = fresh(name);
    nodes.push(onnx.NodeProto.create({ opType, name: out, input: inputs, output: [out], attribute: attrs }));
    return out;
  };
  const ints = (name: string, values: number[]) => onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: values });
  const int = (name: string, value: number) => onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INT, i: value });
  const constant = (name: string, value: number): string => {
    const out = fresh(name);
    g.initializer!.push(onnx.TensorProto.create({ name: out, dataType: onnx.TensorProto.DataType.FLOAT, dims: [], floatData: [value] }));
    return out;
  };
  const eps = constant('eps', NORM_EPS);
  const flatten = (x: string) => node('Flatten', [x], [int('axis', 1)]);

  const normalised = parts.map((p, i) => {
    if (!produced.has(p.tensor)) throw bad(`part ${i}: no tensor ${p.tensor}`);
    if (p.transform && p.pool !== 'none') throw bad(`part ${i}: a transform needs pool "none"`);
    let v: string;
    switch (p.pool) {
      case 'avg':
        v = flatten(node('GlobalAveragePool', [p.tensor]));
        break;
      case 'max':
        v = flatten(node('GlobalMaxPool', [p.tensor]));
        break;
      case 'std': {
        // sqrt(max(E[x^2] - E[x]^2, 0)) over H x W
        const mean = flatten(node('GlobalAveragePool', [p.tensor]));
        const meanSq = flatten(node('GlobalAveragePool', [node('Mul', [p.tensor, p.tensor])]));
        v = node('Sqrt', [node('Relu', [node('Sub', [meanSq, node('Mul', [mean, mean])])])]);
        break;
      }
      case 'none':
        v =
          p.transform === 'softmax'
            ? node('Softmax', [p.tensor], [int('axis', 1)])
            : p.transform === 'logsoftmax'
              ? node('LogSoftmax', [p.tensor], [int('axis', 1)])
              : p.tensor;
        break;
      default:
        throw bad(`part ${i}: unknown pool ${String(p.pool)}`);
    }
    const norm = node('ReduceL2', [v], [ints('axes', [1]), int('keepdims', 1)]);
    return node('Div', [v, node('Add', [norm, eps])], [], `part${i}`);
  });
  const concat = onnx.NodeProto.create({ opType: 'Concat', name: output, input: normalised, output: [output], attribute: [int('axis', 1)] });
  g.node!.push(...nodes, concat);
  g.output!.push(onnx.ValueInfoProto.create({ name: output }));
  return copy;
}

/** The width of the concatenated output. */
export const featureDim = (parts: readonly FeaturePart[]): number => parts.reduce((s, p) => s + p.dim, 0);
