/**
 * Serving side of the genre model: a JSON-serialisable artifact (stored in a jsonb column) and a
 * plain-JS predictor (Float32Array matmuls, no TF.js, no backend init).
 */
import { AppError } from '../../errors';
import { l2NormalizeRows } from '../math/vectors';
import { TextScorer, type TextMemberArtifact } from '../text/text-fusion';

export type Activation = 'linear' | 'relu' | 'sigmoid';

export interface DenseLayerArtifact {
  inDim: number;
  outDim: number;
  /** Row-major inDim x outDim. */
  weights: number[];
  bias: number[];
  activation: Activation;
}

export interface ArtifactMember {
  name: string;
  /** Ensemble weight; member probabilities are averaged with these weights. */
  weight: number;
  /** Applied in order; the last layer must output labels.length values with activation 'sigmoid'. */
  layers: DenseLayerArtifact[];
}

export type GenreModelType = 'mlp' | 'logistic' | 'ensemble';

export interface GenreModelArtifact {
  format: 'marquee.genre-model';
  version: 1;
  type: GenreModelType;
  embeddingDim: number;
  /** Label order of every probability vector (GENRES). */
  labels: string[];
  /** 'l2': input rows are L2-normalised before the first layer (idempotent for normalised embeddings). */
  inputNormalization: 'l2' | 'none';
  members: ArtifactMember[];
  /** Per-label decision thresholds, same order as labels. */
  thresholds: number[];
  /** How the thresholds were chosen, e.g. 'per-class' or 'global-0.25'. */
  thresholdScheme: string;
  /** Poster text fused late with the members' probabilities (text/text-fusion.ts); absent: image only. */
  text?: TextMemberArtifact;
  createdAt?: string;
  meta?: Record<string, unknown>;
}

const invalid = (msg: string) => new AppError('INTERNAL_SERVER_ERROR', `Invalid genre model artifact: ${msg}`, 'MODEL_ARTIFACT_INVALID');

/** Shortest decimal that round-trips to the same float32 (keeps the JSON small and exact). */
export function compactFloat(x: number): number {
  const f = Math.fround(x);
  if (!Number.isFinite(f)) throw invalid('non-finite weight');
  if (f === 0) return 0;
  for (let p = 6; p <= 9; p++) {
    const v = Number(f.toPrecision(p));
    if (Math.fround(v) === f) return v;
  }
  return f;
}

export function compactArray(a: ArrayLike<number>): number[] {
  const out = new Array<number>(a.length);
  for (let i = 0; i < a.length; i++) out[i] = compactFloat(a[i]);
  return out;
}

interface Layer {
  inDim: number;
  outDim: number;
  W: Float32Array;
  b: Float32Array;
  act: Activation;
}

function denseForward(x: Float32Array, n: number, layer: Layer): Float32Array {
  const { inDim, outDim, W, b, act } = layer;
  const out = new Float32Array(n * outDim);
  for (let i = 0; i < n; i++) {
    const o = i * outDim;
    out.set(b, o);
    const xo = i * inDim;
    for (let k = 0; k < inDim; k++) {
      const v = x[xo + k];
      if (v === 0) continue;
      const wo = k * outDim;
      for (let j = 0; j < outDim; j++) out[o + j] += v * W[wo + j];
    }
    if (act === 'relu') {
      for (let j = 0; j < outDim; j++) if (out[o + j] < 0) out[o + j] = 0;
    } else if (act === 'sigmoid') {
      for (let j = 0; j < outDim; j++) out[o + j] = 1 / (1 + Math.exp(-out[o + j]));
    }
  }
  return out;
}

export class GenrePredictor {
  readonly labels: readonly string[];
  readonly thresholds: number[];
  readonly thresholdScheme: string;
  readonly embeddingDim: number;
  readonly type: GenreModelType;
  private readonly members: Array<{ weight: number; layers: Layer[] }>;
  private readonly l2: boolean;
  private readonly text?: TextScorer;

  private constructor(a: GenreModelArtifact, members: Array<{ weight: number; layers: Layer[] }>, text?: TextScorer) {
    this.labels = [...a.labels];
    this.thresholds = [...a.thresholds];
    this.thresholdScheme = a.thresholdScheme;
    this.embeddingDim = a.embeddingDim;
    this.type = a.type;
    this.l2 = a.inputNormalization === 'l2';
    this.members = members;
    this.text = text;
  }

  /** Whether the model reads poster text (then predictions want each poster's OCR text). */
  get usesText(): boolean {
    return this.text !== undefined;
  }

  /** Validates the artifact (e.g. parsed from jsonb) and builds the predictor. Throws AppError MODEL_ARTIFACT_INVALID. */
  static fromArtifact(artifact: unknown): GenrePredictor {
    const a = artifact as GenreModelArtifact;
    if (!a || typeof a !== 'object') throw invalid('not an object');
    if (a.format !== 'marquee.genre-model' || a.version !== 1) throw invalid(`unsupported format ${String(a.format)} v${String(a.version)}`);
    if (!Number.isInteger(a.embeddingDim) || a.embeddingDim <= 0) throw invalid('embeddingDim');
    if (!Array.isArray(a.labels) || a.labels.length === 0) throw invalid('labels');
    const L = a.labels.length;
    if (!Array.isArray(a.thresholds) || a.thresholds.length !== L || a.thresholds.some((t) => typeof t !== 'number' || !Number.isFinite(t))) {
      throw invalid('thresholds');
    }
    if (!Array.isArray(a.members) || a.members.length === 0) throw invalid('members');
    let wsum = 0;
    const members = a.members.map((m, mi) => {
      if (!Array.isArray(m.layers) || m.layers.length === 0) throw invalid(`member ${mi} has no layers`);
      if (!(m.weight > 0)) throw invalid(`member ${mi} weight`);
      wsum += m.weight;
      let dim = a.embeddingDim;
      const layers = m.layers.map((l, li) => {
        if (l.inDim !== dim) throw invalid(`member ${mi} layer ${li} inDim ${l.inDim} != ${dim}`);
        if (!Array.isArray(l.weights) || l.weights.length !== l.inDim * l.outDim) throw invalid(`member ${mi} layer ${li} weights`);
        if (!Array.isArray(l.bias) || l.bias.length !== l.outDim) throw invalid(`member ${mi} layer ${li} bias`);
        if (!['linear', 'relu', 'sigmoid'].includes(l.activation)) throw invalid(`member ${mi} layer ${li} activation`);
        dim = l.outDim;
        return { inDim: l.inDim, outDim: l.outDim, W: Float32Array.from(l.weights), b: Float32Array.from(l.bias), act: l.activation };
      });
      const last = layers[layers.length - 1];
      if (last.outDim !== L || last.act !== 'sigmoid') throw invalid(`member ${mi} must end in ${L} sigmoid outputs`);
      return { weight: m.weight, layers };
    });
    for (const m of members) m.weight /= wsum;
    let text: TextScorer | undefined;
    if (a.text !== undefined) {
      const t = a.text;
      if (!t || !Array.isArray(t.vocabulary?.terms) || !Array.isArray(t.vocabulary?.idf) || t.vocabulary.terms.length !== t.vocabulary.idf.length)
        throw invalid('text vocabulary');
      if (!Array.isArray(t.bias) || t.bias.length !== L || !(typeof t.weight === 'number' && t.weight >= 0)) throw invalid('text bias or weight');
      try {
        text = new TextScorer(t, L);
      } catch (err) {
        throw invalid(`text member: ${(err as Error).message}`);
      }
    }
    return new GenrePredictor(a, members, text);
  }

  /**
   * n x labels.length probabilities for the n x embeddingDim row-major embeddings X, fused with each
   * poster's text when the model reads text and `texts` is given (a poster without text: image only).
   */
  predict(X: Float32Array, n: number, texts?: ReadonlyArray<string | null | undefined>): Float32Array {
    const p = this.predictImage(X, n);
    if (!this.text || !texts) return p;
    if (texts.length !== n) throw new RangeError(`${texts.length} texts for ${n} posters`);
    return this.text.fuse(p, texts);
  }

  private predictImage(X: Float32Array, n: number): Float32Array {
    const D = this.embeddingDim;
    if (X.length !== n * D) throw new AppError('BAD_USER_INPUT', `Expected ${n} x ${D} embeddings, got ${X.length} values`, 'EMBEDDING_DIM_MISMATCH');
    const x = this.l2 ? l2NormalizeRows(X.slice(), n, D) : X;
    const L = this.labels.length;
    if (this.members.length === 1) return this.run(this.members[0].layers, x, n);
    const out = new Float32Array(n * L);
    for (const m of this.members) {
      const p = this.run(m.layers, x, n);
      for (let i = 0; i < out.length; i++) out[i] += m.weight * p[i];
    }
    return out;
  }

  private run(layers: Layer[], x: Float32Array, n: number): Float32Array {
    let h = x;
    for (const l of layers) h = denseForward(h, n, l);
    return h;
  }

  /** Label names above the thresholds for each row (in label order). */
  predictLabels(X: Float32Array, n: number): string[][] {
    const p = this.predict(X, n);
    const L = this.labels.length;
    const out: string[][] = [];
    for (let i = 0; i < n; i++) {
      const row: string[] = [];
      for (let j = 0; j < L; j++) if (p[i * L + j] >= this.thresholds[j]) row.push(this.labels[j]);
      out.push(row);
    }
    return out;
  }
}
