/**
 * Poster text (OCR output) as sparse TF-IDF features: word unigrams and bigrams plus character
 * 3- to 5-grams inside words (OCR misreads a letter or two; character n-grams still match the rest).
 * The vocabulary is learnt from training texts only (document frequency >= minDf, the most frequent
 * maxFeatures kept) and travels in the model artifact, so serving needs no other file.
 */

export interface TextVocabulary {
  /** Feature strings; the position is the feature index. */
  terms: string[];
  /** Inverse document frequency of each term (smooth: ln((1 + N) / (1 + df)) + 1). */
  idf: number[];
}

export interface SparseRow {
  index: Int32Array;
  value: Float32Array;
}

export interface VocabularyOptions {
  minDf: number;
  maxFeatures: number;
}

export const DEFAULT_VOCABULARY_OPTIONS: VocabularyOptions = { minDf: 3, maxFeatures: 30_000 };

/** Lower case, letters and digits only (accents kept), runs of anything else as one space. */
export function normaliseText(text: string): string {
  return text
    .toLowerCase()
    .normalize('NFKC')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** The terms of one text, with repeats (term frequency counts them). */
export function textTerms(text: string): string[] {
  const words = normaliseText(text)
    .split(' ')
    .filter((w) => w.length >= 2);
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    out.push(`w:${w}`);
    if (i + 1 < words.length) out.push(`b:${w} ${words[i + 1]}`);
    const padded = ` ${w} `;
    for (let n = 3; n <= 5; n++) for (let s = 0; s + n <= padded.length; s++) out.push(`c:${padded.slice(s, s + n)}`);
  }
  return out;
}

/** Learns the vocabulary and idf from training texts. */
export function buildVocabulary(texts: readonly string[], opts: Partial<VocabularyOptions> = {}): TextVocabulary {
  const o = { ...DEFAULT_VOCABULARY_OPTIONS, ...opts };
  const df = new Map<string, number>();
  for (const t of texts) for (const term of new Set(textTerms(t))) df.set(term, (df.get(term) ?? 0) + 1);
  const kept = [...df.entries()]
    .filter(([, c]) => c >= o.minDf)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, o.maxFeatures);
  const N = texts.length;
  return { terms: kept.map(([t]) => t), idf: kept.map(([, c]) => Math.log((1 + N) / (1 + c)) + 1) };
}

/** Term lookup for a vocabulary (build once per model). */
export class TextVectorizer {
  private readonly lookup: Map<string, number>;

  constructor(readonly vocabulary: TextVocabulary) {
    this.lookup = new Map(vocabulary.terms.map((t, i) => [t, i]));
  }

  get dim(): number {
    return this.vocabulary.terms.length;
  }

  /** Sublinear TF-IDF (1 + ln tf) x idf, L2-normalised; an empty row for text without known terms. */
  transform(text: string): SparseRow {
    const tf = new Map<number, number>();
    for (const term of textTerms(text)) {
      const j = this.lookup.get(term);
      if (j !== undefined) tf.set(j, (tf.get(j) ?? 0) + 1);
    }
    const index = Int32Array.from([...tf.keys()].sort((a, b) => a - b));
    const value = new Float32Array(index.length);
    let norm = 0;
    index.forEach((j, k) => {
      const v = (1 + Math.log(tf.get(j)!)) * this.vocabulary.idf[j];
      value[k] = v;
      norm += v * v;
    });
    if (norm > 0) {
      const inv = 1 / Math.sqrt(norm);
      for (let k = 0; k < value.length; k++) value[k] *= inv;
    }
    return { index, value };
  }
}
