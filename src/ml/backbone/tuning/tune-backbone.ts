/**
 * A backbone adapted to posters, made on the CPU: the base backbone's early layers stay frozen,
 * their activations at the cut are cached once per poster of the tuning split's training and
 * validation sets (ActivationCache), the tail after the cut is fine-tuned with a genre head
 * (tuneTail), and the tuned tail's weights are written back into a copy of the base ONNX file. The
 * result is an ordinary backbone: its weights sit next to the base's in the models directory with
 * their own sha256 (SHA256SUMS), and a manifest under `<models dir>/manifests/` registers it, so
 * `embed`, `train` and `evaluate` use it like any other. The manifest records the split it was
 * tuned on: its scores on another split's test set would be leaked (evaluate refuses them).
 */
import crypto from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { BackboneManifest } from '../manifest';
import { resolveWeights } from '../model-store';
import type { ImageInput, PreprocessSpec } from '../../image/preprocess';
import { trainHead } from '../../genre/training/genre-head';
import type { Tf } from '../../genre/training/tf';
import { ActivationCache } from './activation-cache';
import { decodeModel, encodeModel, tailOps, withInitializers } from './onnx-graph';
import { TailModel } from './tail-model';
import { tailEmbeddings, tuneTail, type TailEpoch, type TailTuningOptions } from './tail-tuner';

/** The split a tuned backbone was trained on, e.g. "random-42" or "era-2000-42". */
export type TuningSplitName = string;

export interface TunedBackboneManifest extends BackboneManifest {
  tuning: {
    base: string;
    split: TuningSplitName;
    cut: string;
    bestEpoch: number;
    valF1Macro: number;
    frozenValF1Macro: number;
    createdAt: string;
    posters: number;
  };
}

export interface TuneBackboneOptions {
  tf: Tf;
  base: BackboneManifest;
  modelsDir: string;
  /** Id of the new backbone (a file name too). */
  id: string;
  /** Where the activation cache lives (the data directory). */
  cacheDir: string;
  spec: PreprocessSpec;
  /** Posters of the tuning split's training and validation sets, their labels (n x L) and which are which. */
  images: ImageInput[];
  Y: Uint8Array;
  split: { train: Int32Array; val: Int32Array; name: TuningSplitName };
  /** Tensor the tail starts from ('624': the last inverted-residual block's output, 7x7x320). */
  cut?: string;
  threads: number;
  tuning?: Partial<TailTuningOptions>;
  onProgress?: (stage: 'cache' | 'tune' | 'write', done: number, total: number, detail?: TailEpoch) => void;
}

export const DEFAULT_CUT = '624';

export async function tuneBackbone(o: TuneBackboneOptions): Promise<TunedBackboneManifest> {
  const cut = o.cut ?? DEFAULT_CUT;
  const weights = await resolveWeights(o.base, o.modelsDir);
  const model = decodeModel(await fsp.readFile(weights.path));
  const listHash = crypto.createHash('sha256').update(o.images.map(String).join('\n')).digest('hex').slice(0, 16);
  const cache = await ActivationCache.build({
    file: path.join(o.cacheDir, 'tuning', `${o.base.id}-${cut}-${listHash}.u8`),
    key: `${o.base.id}:${o.base.sha256}:${cut}:${listHash}`,
    model,
    cut,
    spec: o.spec,
    images: o.images,
    threads: o.threads,
    onProgress: (done, total) => o.onProgress?.('cache', done, total),
  });
  const tf = o.tf;
  const tail = TailModel.fromOnnx(tf, model, cut, tailOps(model, cut, o.base.embedding.name));
  try {
    // The untouched tail gives the frozen embeddings (cosine ~0.99999 to ONNX): the head's warm start.
    const L = o.Y.length / o.images.length;
    const gather = (idx: Int32Array) => {
      const Y = new Uint8Array(idx.length * L);
      idx.forEach((i, k) => Y.set(o.Y.subarray(i * L, (i + 1) * L), k * L));
      return { X: tailEmbeddings(tf, tail, cache, idx), Y };
    };
    const tr = gather(o.split.train),
      va = gather(o.split.val);
    const seed = o.tuning?.seed ?? 42;
    const head = await trainHead(
      tf,
      { Xtrain: tr.X, Ytrain: tr.Y, ntrain: o.split.train.length, Xval: va.X, Yval: va.Y, nval: o.split.val.length, dim: tail.outputDim, numLabels: L },
      { seed },
    );
    const epochs = o.tuning?.epochs ?? 6;
    const result = await tuneTail(tf, tail, head.layers, cache, o.Y, o.split, o.tuning, (e) => o.onProgress?.('tune', e.epoch, epochs, e));

    o.onProgress?.('write', 0, 1);
    const bytes = encodeModel(withInitializers(model, result.weights));
    const file = path.join(o.id, `${o.id}.onnx`);
    const abs = path.join(o.modelsDir, file);
    await fsp.mkdir(path.dirname(abs), { recursive: true });
    await fsp.writeFile(`${abs}.tmp`, bytes);
    await fsp.rename(`${abs}.tmp`, abs);
    const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
    await fsp.writeFile(path.join(path.dirname(abs), 'SHA256SUMS'), `${sha256}  ${path.basename(abs)}\n`);
    const manifest: TunedBackboneManifest = {
      ...o.base,
      id: o.id,
      description: `${o.base.id} with its tail after ${cut} fine-tuned on poster genres (split ${o.split.name}, epoch ${result.bestEpoch}) by \`marquee tune-backbone\``,
      file,
      sha256,
      url: undefined,
      tuning: {
        base: o.base.id,
        split: o.split.name,
        cut,
        bestEpoch: result.bestEpoch,
        valF1Macro: result.bestValF1Macro,
        frozenValF1Macro: head.bestValF1Macro,
        createdAt: new Date().toISOString(),
        posters: o.images.length,
      },
    };
    const manifestFile = path.join(o.modelsDir, 'manifests', `${o.id}.json`);
    await fsp.mkdir(path.dirname(manifestFile), { recursive: true });
    await fsp.writeFile(`${manifestFile}.tmp`, JSON.stringify(manifest, null, 2) + '\n');
    await fsp.rename(`${manifestFile}.tmp`, manifestFile);
    o.onProgress?.('write', 1, 1);
    return manifest;
  } finally {
    tail.dispose();
  }
}
