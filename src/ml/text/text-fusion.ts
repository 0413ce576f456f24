/**
 * Late fusion of poster text with an image model. The text model (sparse logistic regression over
 * TF-IDF of the OCR text) says how much its evidence moves each genre's log-odds away from the prior
 * (its bias); that shift, times a weight chosen on validation, is added to the image model's log-odds:
 *
 *   p = sigmoid(logit(p_image) + w * (z_text - bias))
 *
 * A poster without readable text (or a deployment with OCR off) gets a zero shift, so it is scored
 * by the image model alone rather than pulled towards the prior.
 */
import { TextVectorizer, type SparseRow, type TextVocabulary } from './text-features';

export interface TextMemberArtifact {
  vocabulary: TextVocabulary;
  /** Row-major terms x labels. */
  weights: number[];
  bias: number[];
  /** Fusion weight w (validation-chosen). */
  weight: number;
}

/** Log-odds shift of each label given a poster's TF-IDF row (all zeros for a row without known terms). */
export function textShift(row: SparseRow, weights: ArrayLike<number>, labels: number, out: Float32Array = new Float32Array(labels)): Float32Array {
  out.fill(0);
  for (let k = 0; k < row.index.length; k++) {
    const o = row.index[k] * labels,
      v = row.value[k];
    for (let j = 0; j < labels; j++) out[j] += v * weights[o + j];
  }
  return out;
}

const logit = (p: number) => {
  const q = Math.min(1 - 1e-6, Math.max(1e-6, p));
  return Math.log(q / (1 - q));
};

/** Fuses n x labels image probabilities with the text shifts in place: p = sigmoid(logit(p) + w * shift). */
export function fuseText(probs: Float32Array, shifts: Float32Array, labels: number, weight: number): Float32Array {
  for (let i = 0; i < probs.length; i++) {
    if (shifts[i] === 0) continue;
    probs[i] = 1 / (1 + Math.exp(-(logit(probs[i]) + weight * shifts[i])));
  }
  return probs;
}

/** Serving side of a text member: vectoriser and weights, built once per model version. */
export class TextScorer {
  private readonly vectorizer: TextVectorizer;
  private readonly weights: Float32Array;

  constructor(
    readonly artifact: TextMemberArtifact,
    readonly labels: number,
  ) {
    this.vectorizer = new TextVectorizer(artifact.vocabulary);
    this.weights = Float32Array.from(artifact.weights);
    if (this.weights.length !== this.vectorizer.dim * labels)
      throw new RangeError(`text member has ${this.weights.length} weights for ${this.vectorizer.dim} terms x ${labels} labels`);
  }

  /** n x labels shifts for n texts (null or empty: zeros). */
  shifts(texts: ReadonlyArray<string | null | undefined>): Float32Array {
    const out = new Float32Array(texts.length * this.labels);
    texts.forEach((t, i) => {
      if (t) textShift(this.vectorizer.transform(t), this.weights, this.labels, out.subarray(i * this.labels, (i + 1) * this.labels));
    });
    return out;
  }

  /** Image probabilities fused with the texts' shifts (a new array). */
  fuse(probs: Float32Array, texts: ReadonlyArray<string | null | undefined>): Float32Array {
    return fuseText(Float32Array.from(probs), this.shifts(texts), this.labels, this.artifact.weight);
  }
}
